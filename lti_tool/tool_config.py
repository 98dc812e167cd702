"""What the tool tells an LMS about itself: its URLs, scopes, claims and placements (the Canvas developer
key JSON, and the registration it posts by LTI Dynamic Registration)."""
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
# The id_token claims asked for by dynamic registration: who the person is, by name and email.
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email"]
TOOL_ID = "partnerships-worksheet"
GRADED_LABEL = "Partnerships worksheet (graded)"
CANVAS_LTI = "https://canvas.instructure.com/lti/"


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
            "tool_id": TOOL_ID,
            "privacy_level": "public",
            "settings": {
                "text": TITLE,
                "icon_url": u["icon"],
                "placements": [
                    {"placement": "link_selection", "text": "Partnerships worksheet", "icon_url": u["icon"], **deep_link},
                    {"placement": "assignment_selection", "text": GRADED_LABEL,
                     "icon_url": u["icon"], **deep_link},
                    {"placement": "course_navigation", "text": "Partnerships worksheet", "message_type":
                     "LtiResourceLinkRequest", "target_link_uri": u["launch"], "default": "disabled",
                     "visibility": "admins"},
                ],
            },
        }],
    }


def registration_messages(base: str, canvas: bool) -> list[dict[str, Any]]:
    """The messages of the dynamic registration (LTI DR 1.0, tool configuration `messages`).

    The IMS placement for a content picker is ContentArea (Moodle ties deep linking to the message
    type alone); Canvas wants its own placement names, one message per placement so each gets its
    label, and the course navigation link hidden from students and off by default, as in canvas.json.
    """
    u = urls(base)
    if not canvas:
        return [
            {"type": "LtiResourceLinkRequest", "target_link_uri": u["launch"], "label": TITLE, "icon_uri": u["icon"]},
            {"type": "LtiDeepLinkingRequest", "target_link_uri": u["launch"], "label": TITLE, "icon_uri": u["icon"],
             "placements": ["ContentArea"], "supported_types": ["ltiResourceLink"]},
        ]
    deep_link = {"type": "LtiDeepLinkingRequest", "target_link_uri": u["launch"], "icon_uri": u["icon"]}
    return [
        {**deep_link, "label": TITLE, "placements": ["link_selection"]},
        {**deep_link, "label": GRADED_LABEL, "placements": ["assignment_selection"]},
        {"type": "LtiResourceLinkRequest", "target_link_uri": u["launch"], "label": TITLE, "icon_uri": u["icon"],
         "placements": ["course_navigation"], CANVAS_LTI + "course_navigation/default_enabled": False,
         CANVAS_LTI + "visibility": "admins"},
    ]


def registration_extras(canvas: bool) -> dict[str, Any]:
    """What the tool configuration of a dynamic registration carries beyond the IMS fields (Canvas's extensions)."""
    if not canvas:
        return {}
    return {
        CANVAS_LTI + "privacy_level": "public",  # names and emails, as the claims ask
        CANVAS_LTI + "tool_id": TOOL_ID,
        "custom_parameters": {"canvas_user_locale": "$Canvas.user.locale"},
    }
