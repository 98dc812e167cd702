"""What the tool tells an LMS about itself: its URLs, scopes and placements (the Canvas developer
key JSON; the same facts serve dynamic registration)."""
from __future__ import annotations

from typing import Any

TITLE = "Partnerships worksheet"
DESCRIPTION = ("Worksheet #6, “Your relationships capacity”: learners list their partnerships with their strengths, "
               "weaknesses and how each can be improved, and answer four reflection questions. Completion grades go "
               "to the gradebook; instructors see the class and its partnership map.")
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def urls(base: str) -> dict[str, str]:
    return {"login": f"{base}/lti/login", "launch": f"{base}/lti/launch", "jwks": f"{base}/.well-known/jwks.json",
            "icon": f"{base}/static/favicon.svg"}


def canvas_config(base: str) -> dict[str, Any]:
    """The JSON an admin pastes (by URL) into a Canvas LTI developer key."""
    u = urls(base)
    deep_link = {"message_type": "LtiDeepLinkingRequest", "target_link_uri": u["launch"]}
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": u["login"],
        "target_link_uri": u["launch"],
        "public_jwk_url": u["jwks"],
        "scopes": SCOPES,
        "custom_fields": {"canvas_user_locale": "$Canvas.user.locale"},
        "extensions": [{
            "platform": "canvas.instructure.com",
            "domain": base.split("://", 1)[-1].split("/", 1)[0],
            "tool_id": "partnerships-worksheet",
            "privacy_level": "public",
            "settings": {
                "text": TITLE,
                "icon_url": u["icon"],
                "placements": [
                    {"placement": "link_selection", "text": "Partnerships worksheet", "icon_url": u["icon"], **deep_link},
                    {"placement": "assignment_selection", "text": "Partnerships worksheet (graded)",
                     "icon_url": u["icon"], **deep_link},
                    {"placement": "course_navigation", "text": "Partnerships worksheet", "message_type":
                     "LtiResourceLinkRequest", "target_link_uri": u["launch"], "default": "disabled",
                     "visibility": "admins"},
                ],
            },
        }],
    }
