"""LTI Deep Linking: the LMS asks the tool for content, and takes the tool's signed answer back.

The request carries an opaque `data` value (an HS256 JWT naming the person and mode, single use).
The response is a JWT the tool signs with its own key: iss = client_id, aud = the LMS's issuer,
message_type LtiDeepLinkingResponse, the same deployment_id and data. Each ltiResourceLink item
becomes an activity of the course, with a line item when the item asks for one.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import jwt

from . import activities, ags, assertions, keys, roster, tokens
from .modes import Mode
from .settings import Settings

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DATA_AUDIENCE = "devlms-deep-linking"
DATA_LIFETIME = 3600
MAX_ITEMS = 20


class DeepLinkError(ValueError):
    """The deep linking response cannot be accepted."""


@dataclass
class Outcome:
    """What the LMS did with a deep linking response."""

    person: roster.Person
    mode: Mode
    added: list[roster.Activity] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    message: str | None = None
    error: str | None = None


def issue_data(person: roster.Person, mode: Mode) -> str:
    """The opaque `data` of a deep linking request; it must come back unchanged."""
    now = int(time.time())
    payload = {"aud": DATA_AUDIENCE, "iat": now, "exp": now + DATA_LIFETIME, "jti": secrets.token_hex(8),
               "person": person.user_id, "mode": mode.name, "client": mode.client_id}
    return jwt.encode(payload, keys.hint_secret(), algorithm="HS256")


def _check_data(data: object, mode: Mode) -> roster.Person:
    if not isinstance(data, str):
        raise DeepLinkError("the data claim sent with the request did not come back")
    try:
        payload = jwt.decode(data, keys.hint_secret(), algorithms=["HS256"], audience=DATA_AUDIENCE)
    except jwt.InvalidTokenError as error:
        raise DeepLinkError(f"the data claim is not the one this LMS sent ({error})") from error
    person = roster.person(payload.get("person", ""))
    if person is None or payload.get("mode") != mode.name or payload.get("client") != mode.client_id:
        raise DeepLinkError("the data claim was issued for another client or person")
    if not tokens.remember_jti("deep-linking", payload["jti"], payload["exp"]):
        raise DeepLinkError("this deep linking response was already used")
    return person


def _verify(token: str, settings: Settings) -> tuple[Mode, dict]:
    required = ["iss", "aud", "exp", "iat", "nonce"]
    try:
        mode, claims = assertions.verify_tool_jwt(token, settings.tool_jwks_url, lambda m: [m.issuer(settings)],
                                                  required, "deep linking response")
    except assertions.ClientAuthError as error:
        raise DeepLinkError(error.description) from error
    expected = {LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
                LTI + "deployment_id": mode.deployment_id(settings)}
    for name, value in expected.items():
        if claims.get(name) != value:
            raise DeepLinkError(f"{name} must be {value!r} (got {claims.get(name)!r})")
    return mode, claims


def _custom(item: dict) -> dict[str, str]:
    custom = item.get("custom") or {}
    if not isinstance(custom, dict):
        raise DeepLinkError("custom must be an object of strings")
    return {str(k): str(v) for k, v in custom.items()}


def _line_item(item: dict, title: str) -> dict | None:
    requested = item.get("lineItem")
    if requested is None:
        return None
    if not isinstance(requested, dict):
        raise DeepLinkError("lineItem must be an object")
    body = {"label": requested.get("label") or title, "scoreMaximum": requested.get("scoreMaximum"),
            "resourceId": requested.get("resourceId"), "tag": requested.get("tag")}
    try:
        return ags.lineitem_fields(body, check_link=lambda _link: True)
    except ags.AgsError as error:
        raise DeepLinkError(f"lineItem: {error.message}") from error


def _plan(item: object, settings: Settings, mode: Mode) -> tuple | str:
    """(title, custom, line item, text) for an acceptable item, else why it is skipped."""
    if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
        kind = item.get("type") if isinstance(item, dict) else type(item).__name__
        return f"content item of type {kind!r} (only ltiResourceLink is accepted)"
    url = item.get("url")
    if url is not None and not str(url).startswith(mode.tool_base_url(settings) + "/"):
        return f"resource link to {url!r}, which is not a URL of the tool"
    title = str(item.get("title") or "Untitled activity")[:200]
    return title, _custom(item), _line_item(item, title), str(item.get("text") or "")


def accept(token: str | None, settings: Settings) -> Outcome:
    """Verify the tool's deep linking response and add its resource links to the course."""
    if not token:
        raise DeepLinkError("the JWT form field is missing")
    mode, claims = _verify(token, settings)
    items = claims.get(DL + "content_items") or []
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise DeepLinkError(f"content_items must be a list of at most {MAX_ITEMS} items")
    plans = [_plan(item, settings, mode) for item in items]  # everything is checked before anything is added
    outcome = Outcome(person=_check_data(claims.get(DL + "data"), mode), mode=mode)
    outcome.message, outcome.error = claims.get(DL + "msg"), claims.get(DL + "errormsg")
    for plan in plans:
        if isinstance(plan, str):
            outcome.skipped.append(plan)
        else:
            outcome.added.append(activities.add(*plan))
    return outcome
