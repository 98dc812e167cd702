"""The OAuth2 token endpoint (client credentials with a JWT client assertion) and the LMS's JWKS."""
from __future__ import annotations

import jwt
from flask import request

from .. import assertions, claims, faults, keys, modes, nrps, settings, stats, tokens
from ..modes import Mode
from . import bp
from .common import error_json, json_response

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALLOWED_SCOPES = (*claims.AGS_SCOPES, nrps.SCOPE)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenError(Exception):
    """An RFC 6749 error answer."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@bp.get("/jwks.json")
def jwks():
    """The LMS's public keys."""
    return json_response(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


def _audiences(mode: Mode) -> list[str]:
    conf = settings.current()
    return [conf.token_url, mode.issuer(conf)]


def _grant(params) -> dict:
    if params.get("grant_type") != "client_credentials":
        raise TokenError("unsupported_grant_type", "grant_type must be client_credentials")
    if params.get("client_assertion_type") != JWT_BEARER:
        raise TokenError("invalid_request", f"client_assertion_type must be {JWT_BEARER}")
    if not params.get("client_assertion"):
        raise TokenError("invalid_request", "client_assertion is required")
    try:
        mode, _ = assertions.verify(params["client_assertion"], settings.current().tool_jwks_url, _audiences)
    except assertions.ClientAuthError as error:
        raise TokenError(error.error, error.description, error.status) from error
    if mode.is_canvas and not request.headers.get("User-Agent"):
        raise TokenError("invalid_request", "a User-Agent header is required")
    requested = (params.get("scope") or "").split()
    allowed = [s for s in ALLOWED_SCOPES if mode.grants_scope(s)]  # a registered client: the scopes it was granted
    granted = [s for s in dict.fromkeys(requested) if s in allowed]
    if not granted:
        raise TokenError("invalid_scope", f"request at least one of: {' '.join(allowed)}")
    token = tokens.issue_access_token(mode.client_id, granted)
    return {"access_token": token, "token_type": "Bearer", "expires_in": tokens.ACCESS_TOKEN_LIFETIME,
            "scope": " ".join(granted)}


def _claimed_client(params) -> str | None:
    """The registered client this request says it is from (the assertion's iss, else client_id), unverified.

    Only for the per-client counters; None when it names no registered client.
    """
    claimed = None
    try:
        claimed = jwt.decode(params.get("client_assertion") or "", options={"verify_signature": False}).get("iss")
    except (jwt.InvalidTokenError, AttributeError):
        pass
    for candidate in (claimed, params.get("client_id")):
        mode = modes.by_client_id(candidate if isinstance(candidate, str) else None)
        if mode is not None:
            return mode.client_id
    return None


@bp.post("/token")
def token():
    """client_credentials grant: verify the tool's client assertion, issue a bearer token.

    Counted as token_requests / tokens_issued / token_errors, and per client as "<counter>:<client id>".
    """
    client_id = _claimed_client(request.form)
    stats.bump_client("token_requests", client_id)
    try:
        faults.check_service("token")
        body = _grant(request.form)
    except faults.InjectedFault as fault:
        stats.bump_client("token_errors", client_id)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
        return error_json(fault.status, "temporarily_unavailable", fault.message, {**NO_STORE, **headers})
    except TokenError as error:
        stats.bump_client("token_errors", client_id)
        return json_response({"error": error.error, "error_description": error.description}, error.status, headers=NO_STORE)
    stats.bump_client("tokens_issued", client_id)
    return json_response(body, headers=NO_STORE)
