"""lti_message_hint: what the LMS needs back at /auth to know who launched which activity, how.

The payload (person, link, mode, lti_storage_target offer, optional locale override) is an HS256 JWT
signed with a secret kept in the database. Canvas sends that token as is (opaque); Moodle wraps it in a
JSON string, as Moodle 4.5 does ('{"cmid":2,"launchid":"..."}').
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, replace

import jwt

from . import activities, keys, roster
from .modes import Mode

HINT_LIFETIME = 600
RESOURCE_LINK, DEEP_LINKING = "resource", "deeplink"
STORAGE_CHOICES = ("none", "parent", "broken")  # lti_storage_target: not sent / answered / sent but unanswered
AUDIENCE = "devlms-auth"
LOCALE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}")  # a language tag such as es, es-MX, pt_BR


def valid_locale(value: str | None) -> bool:
    """Whether value is a language tag the practice LMS will put in launch_presentation.locale."""
    return bool(value) and len(value) <= 35 and LOCALE.fullmatch(value) is not None


class HintError(ValueError):
    """The hint is missing, forged, expired, or not for this client."""


@dataclass(frozen=True)
class Hint:
    person: roster.Person
    activity: roster.Activity | None  # None for a deep linking request
    mode: str
    storage: str
    message: str = RESOURCE_LINK
    locale: str | None = None  # overrides the person's locale in the id_token when set

    @property
    def launching_person(self) -> roster.Person:
        """The person as this launch presents them (with the locale override, if any)."""
        return replace(self.person, locale=self.locale) if self.locale else self.person


def issue(person: roster.Person, activity: roster.Activity | None, mode: Mode, storage: str = "none",
          locale: str | None = None) -> str:
    """The lti_message_hint for a launch of activity by person in mode (activity None: deep linking).

    locale, when given, replaces the person's locale in the id_token (launch_presentation.locale)."""
    now = int(time.time())
    payload = {
        "aud": AUDIENCE, "iat": now, "exp": now + HINT_LIFETIME, "jti": secrets.token_hex(8),
        "person": person.user_id, "link": activity.resource_link_id if activity else None, "mode": mode.name,
        "storage": storage, "message": RESOURCE_LINK if activity else DEEP_LINKING, "client": mode.client_id,
    }
    if locale:
        payload["locale"] = locale
    token = jwt.encode(payload, keys.hint_secret(), algorithm="HS256")
    if mode.is_moodle:
        wrapper = {"cmid": activity.cmid, "launchid": token} if activity else {"launchid": token}
        return json.dumps(wrapper, separators=(",", ":"))
    return token


def verify(hint: str | None, mode: Mode) -> Hint:
    """Check a hint that came back with an authorization request from mode's client."""
    if not hint:
        raise HintError("lti_message_hint is missing")
    token, cmid = _unwrap(hint, mode)
    try:
        payload = jwt.decode(token, keys.hint_secret(), algorithms=["HS256"], audience=AUDIENCE)
    except jwt.ExpiredSignatureError as error:
        raise HintError("lti_message_hint has expired: start the launch again") from error
    except jwt.InvalidTokenError as error:
        raise HintError(f"lti_message_hint is not one this LMS issued ({error})") from error
    return _hint(payload, mode, cmid)


def _hint(payload: dict, mode: Mode, cmid: int | None) -> Hint:
    message = DEEP_LINKING if payload.get("message") == DEEP_LINKING else RESOURCE_LINK
    person, activity = roster.person(payload.get("person") or ""), activities.find(payload.get("link"))
    if person is None or (activity is None and message == RESOURCE_LINK):
        raise HintError("lti_message_hint names an unknown person or activity")
    if payload.get("mode") != mode.name or payload.get("client") != mode.client_id or (
            cmid is not None and (activity is None or cmid != activity.cmid)):
        raise HintError("lti_message_hint was issued for another client or activity")
    storage = payload.get("storage") if payload.get("storage") in STORAGE_CHOICES else "none"
    locale = payload.get("locale") if valid_locale(payload.get("locale")) else None
    return Hint(person=person, activity=activity, mode=mode.name, storage=storage, message=message, locale=locale)


def _unwrap(hint: str, mode: Mode) -> tuple[str, int | None]:
    if not mode.is_moodle:
        return hint, None
    try:
        data = json.loads(hint)
        return str(data["launchid"]), (int(data["cmid"]) if "cmid" in data else None)
    except (ValueError, TypeError, KeyError) as error:
        raise HintError("lti_message_hint is not the JSON this LMS sent") from error
