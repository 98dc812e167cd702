"""Launch failures, each with a status, a plain explanation and what to do about it."""
from __future__ import annotations

from pylti1p3.exception import LtiException

_ADMIN = "An LMS administrator"
_RELAUNCH = "Go back to the course in your LMS and open the activity again."

# code: (status, title, what to do)
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "platform_error": (400, "The LMS reported an error", _RELAUNCH + " If it happens again, show this message to your LMS administrator."),
    "missing_id_token": (400, "The launch carried no identity token", "This page must be opened from your LMS. " + _RELAUNCH + " If your browser blocks third-party cookies, try allowing them for this site."),
    "malformed_token": (400, "The launch token could not be read", _RELAUNCH),
    "missing_state": (400, "The launch is missing its state", _RELAUNCH),
    "state_mismatch": (400, "This launch does not belong to this browser session", _RELAUNCH + " If your browser blocks third-party cookies, allow them for this tool or open the activity in a new window."),
    "unknown_platform": (400, "This LMS is not registered with the tool", _ADMIN + " must register it: by LTI Dynamic Registration, or with `lti-tool platforms add` using this issuer and client id."),
    "wrong_audience": (400, "The launch was meant for another tool", _ADMIN + " should check that the client id registered in the tool matches the one the LMS uses."),
    "unsupported_alg": (400, "The launch was signed with an algorithm the tool does not accept", "LTI 1.3 launches must be signed with RS256. " + _ADMIN + " should check the LMS's key settings."),
    "bad_signature": (400, "The launch signature is not valid", _ADMIN + " should check that the key set URL registered for this LMS is right. " + _RELAUNCH),
    "unknown_kid": (400, "The launch was signed with a key the LMS does not publish", _ADMIN + " should check the key set URL registered for this LMS."),
    "jwks_unavailable": (400, "The LMS's public keys could not be fetched", _ADMIN + " should check that the key set URL registered for this LMS is reachable from the tool."),
    "expired": (400, "The launch has expired", _RELAUNCH + " If this keeps happening, the LMS's clock or the tool's clock may be wrong."),
    "not_yet_valid": (400, "The launch is not valid yet", "The LMS's clock seems to be ahead of the tool's. " + _ADMIN + " should check both servers' time."),
    "wrong_issuer": (400, "The launch names another LMS than the one that started it", _RELAUNCH),
    "missing_claim": (400, "The launch is missing required information", _ADMIN + " should check the tool's LTI settings in the LMS."),
    "wrong_version": (400, "The launch is not LTI 1.3", _ADMIN + " should register the tool as an LTI 1.3 (LTI Advantage) tool."),
    "missing_sub": (400, "The launch does not say who you are", "Anonymous launches are not supported. " + _ADMIN + " should allow the tool to receive the user's id."),
    "unsupported_message": (400, "The tool does not handle this kind of launch", _ADMIN + " should check the placement configured for the tool."),
    "replayed": (400, "This launch was already used", "Each launch can be used once. " + _RELAUNCH),
    "nonce_mismatch": (400, "This launch does not match the login that started it", _RELAUNCH),
    "unknown_deployment": (403, "This deployment of the tool is not active yet", _ADMIN + " must activate it in the tool: `lti-tool platforms activate --issuer ISSUER --client-id CLIENT_ID --deployment-id DEPLOYMENT_ID`."),
    "bad_login": (400, "The login request from the LMS is incomplete", _RELAUNCH + " " + _ADMIN + " should check the tool's login URL and client id in the LMS."),
}


class LaunchError(LtiException):
    """A refused login or launch; `code` picks the explanation from CATALOGUE."""

    def __init__(self, code: str, detail: str = "", **facts: str):
        self.code = code
        self.detail = detail
        self.facts = facts
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def status(self) -> int:
        return CATALOGUE[self.code][0]

    @property
    def title(self) -> str:
        return CATALOGUE[self.code][1]

    @property
    def advice(self) -> str:
        text = CATALOGUE[self.code][2]
        for name, value in self.facts.items():
            text = text.replace(name.upper(), value)
        return text
