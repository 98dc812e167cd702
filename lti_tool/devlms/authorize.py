"""The OIDC authorization request (LTI's third-party login, step 2): check it, answer with an id_token."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import claims, deeplinking, hints, modes, tokens
from .settings import Settings


class AuthError(Exception):
    """A refused authorization request. redirect=True: post the error back to the tool."""

    def __init__(self, error: str, description: str, redirect: bool = True):
        super().__init__(description)
        self.error, self.description, self.redirect = error, description, redirect


@dataclass(frozen=True)
class Answer:
    """What the LMS form-posts to the tool's redirect_uri."""

    redirect_uri: str
    fields: dict[str, str]


def _expect(params: Mapping, name: str, wanted: str, error: str = "invalid_request") -> None:
    got = params.get(name)
    if got != wanted:
        raise AuthError(error, f"{name} must be {wanted!r} (got {got!r})")


def _check_request(params: Mapping) -> None:
    _expect(params, "response_type", "id_token", "unsupported_response_type")
    if "openid" not in (params.get("scope") or "").split():
        raise AuthError("invalid_scope", f"scope must be 'openid' (got {params.get('scope')!r})")
    _expect(params, "response_mode", "form_post")
    _expect(params, "prompt", "none")
    if not params.get("nonce"):
        raise AuthError("invalid_request", "nonce is required")


def authorize(params: Mapping, settings: Settings) -> Answer:
    """Validate an authorization request; the id_token answer, or AuthError."""
    mode = modes.by_client_id(params.get("client_id"))
    if mode is None:
        raise AuthError("unauthorized_client", f"unknown client_id {params.get('client_id')!r}", redirect=False)
    redirect_uri = params.get("redirect_uri")
    registered = mode.redirect_uris(settings)
    if redirect_uri not in registered:
        raise AuthError("invalid_request", f"redirect_uri {redirect_uri!r} is not a registered one "
                        f"({', '.join(map(repr, registered))}; it must match exactly)", redirect=False)
    _check_request(params)
    try:
        hint = hints.verify(params.get("lti_message_hint"), mode)
    except hints.HintError as error:
        raise AuthError("invalid_request", str(error)) from error
    if params.get("login_hint") != mode.login_hint(hint.person):
        raise AuthError("login_required", "login_hint does not match the user who started this launch")
    id_token = tokens.sign_id_token(_claims(settings, mode, hint, params["nonce"]))
    fields = {"id_token": id_token}
    if params.get("state") is not None:
        fields["state"] = params["state"]
    if hint.storage != "none":
        fields["lti_storage_target"] = "_parent"
    return Answer(redirect_uri=redirect_uri, fields=fields)


def _claims(settings: Settings, mode: modes.Mode, hint: hints.Hint, nonce: str) -> dict:
    person = hint.launching_person
    if hint.message == hints.DEEP_LINKING:
        if not person.is_instructor:
            raise AuthError("access_denied", "only instructors may add content to the course")
        data = deeplinking.issue_data(hint.person, mode)
        return claims.deep_linking_claims(settings, mode, person, nonce, data)
    return claims.resource_link_claims(settings, mode, person, hint.activity, nonce)


def error_fields(error: AuthError, params: Mapping) -> dict[str, str]:
    """The OIDC error response posted back to the tool (error, error_description, state)."""
    fields = {"error": error.error, "error_description": error.description}
    if params.get("state") is not None:
        fields["state"] = params["state"]
    return fields
