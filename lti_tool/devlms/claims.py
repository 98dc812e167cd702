"""The LTI 1.3 resource link launch claim set, shaped like Moodle or Canvas sends it."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from . import ags, roster
from .modes import Mode
from .settings import Settings

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CANVAS_PLACEMENT = "https://www.instructure.com/placement"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def resource_link_claims(
    settings: Settings, mode: Mode, person: roster.Person, activity: roster.Activity, nonce: str, now: int | None = None
) -> dict:
    """Every claim of an LtiResourceLinkRequest id_token for person launching activity."""
    now = int(time.time()) if now is None else now
    claims = {
        "iss": mode.issuer(settings),
        "aud": mode.client_id,
        "sub": person.user_id,
        "iat": now,
        "exp": now + mode.id_token_lifetime,
        "nonce": nonce,
        **_identity(person, mode),
        "locale": person.locale,
        LTI + "version": "1.3.0",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": mode.deployment_id(settings),
        LTI + "target_link_uri": mode.tool_launch_url(settings),
        LTI + "resource_link": {"id": activity.resource_link_id, "title": activity.title, "description": ""},
        LTI + "roles": roster.role_uris(person),
        LTI + "context": _context(mode),
        LTI + "tool_platform": _platform(settings, mode),
        LTI + "launch_presentation": {
            "document_target": "iframe", "locale": person.locale, "return_url": settings.base_url + "/",
        },
        LTI + "custom": dict(activity.custom),
        AGS_CLAIM: _ags(settings, mode, activity),
        NRPS_CLAIM: {
            "context_memberships_url": settings.course_url(roster.COURSE.context_id) + "/memberships",
            "service_versions": ["1.0", "2.0"],
        },
    }
    claims.update(_platform_extras(mode))
    return claims


def deep_linking_claims(settings: Settings, mode: Mode, person: roster.Person, nonce: str, data: str,
                        now: int | None = None) -> dict:
    """The claims of an LtiDeepLinkingRequest: the instructor adds an activity with the tool's content picker."""
    now = int(time.time()) if now is None else now
    claims = {
        "iss": mode.issuer(settings), "aud": mode.client_id, "sub": person.user_id, "iat": now,
        "exp": now + mode.id_token_lifetime, "nonce": nonce, **_identity(person, mode), "locale": person.locale,
        LTI + "version": "1.3.0",
        LTI + "message_type": "LtiDeepLinkingRequest",
        LTI + "deployment_id": mode.deployment_id(settings),
        LTI + "target_link_uri": mode.tool_launch_url(settings),
        LTI + "roles": roster.role_uris(person),
        LTI + "context": _context(mode),
        LTI + "tool_platform": _platform(settings, mode),
        LTI + "launch_presentation": {"document_target": "iframe", "locale": person.locale,
                                      "return_url": settings.base_url + "/"},
        DEEP_LINKING_SETTINGS: {
            "deep_link_return_url": settings.deep_link_return_url,
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "auto_create": True,
            "title": "Add an activity",
            "text": "Choose the page to add to the course.",
            "data": data,
        },
        AGS_CLAIM: {"scope": list(AGS_SCOPES), "lineitems": ags.lineitems_url(settings, mode, roster.COURSE.context_id)},
        NRPS_CLAIM: {
            "context_memberships_url": settings.course_url(roster.COURSE.context_id) + "/memberships",
            "service_versions": ["1.0", "2.0"],
        },
    }
    claims.update(_platform_extras(mode))
    return claims


def _identity(person: roster.Person, mode: Mode) -> dict:
    """name/given_name/family_name/email only for the people who have them (and, for a client registered
    dynamically, only those it asked for, as Moodle's privacy settings follow the registered claims)."""
    fields = {"name": person.name, "given_name": person.given_name, "family_name": person.family_name, "email": person.email}
    return {k: v for k, v in fields.items() if v and mode.sends_claim(k)}


def _context(mode: Mode) -> dict:
    course = roster.COURSE
    return {"id": course.context_id, "label": course.label, "title": course.title, "type": mode.context_type()}


def _platform(settings: Settings, mode: Mode) -> dict:
    host = urlsplit(settings.base_url).netloc or "localhost"
    guid = host if mode.is_moodle else "practice-canvas:canvas-lms"
    return {
        "guid": guid,
        "name": f"Practice LMS ({mode.title})",
        "product_family_code": mode.product_family_code,
        "version": mode.platform_version,
    }


def _ags(settings: Settings, mode: Mode, activity: roster.Activity) -> dict:
    claim = {"scope": list(AGS_SCOPES), "lineitems": ags.lineitems_url(settings, mode, roster.COURSE.context_id)}
    if activity.line_item_id is not None:
        claim["lineitem"] = ags.lineitem_url(settings, mode, roster.COURSE.context_id, activity.line_item_id)
    return claim


def _platform_extras(mode: Mode) -> dict:
    if mode.is_moodle:
        return {LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""}}
    return {"azp": mode.client_id, CANVAS_PLACEMENT: "link_selection"}
