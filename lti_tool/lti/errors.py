"""Launch failures, each with a status, a plain explanation and what to do about it.

Titles and advice are whole sentences marked for translation (lazy: a launch fails before there is a
launch locale, so they are translated when the error page is shown, in the browser's language).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from pylti1p3.exception import LtiException

_RELAUNCH = _l("Go back to the course in your LMS and open the activity again.")

# code: (status, title, what to do). Advice may name facts of the error as %(name)s placeholders.
CATALOGUE: dict[str, tuple[int, str, str]] = {
    "platform_error": (400, _l("The LMS reported an error"), _l(
        "Go back to the course in your LMS and open the activity again. "
        "If it happens again, show this message to your LMS administrator.")),
    "missing_id_token": (400, _l("The launch carried no identity token"), _l(
        "This page must be opened from your LMS. Go back to the course in your LMS and open the activity again. "
        "If your browser blocks third-party cookies, try allowing them for this site.")),
    "malformed_token": (400, _l("The launch token could not be read"), _RELAUNCH),
    "missing_state": (400, _l("The launch is missing its state"), _RELAUNCH),
    "state_mismatch": (400, _l("This launch does not belong to this browser session"), _l(
        "Go back to the course in your LMS and open the activity again. "
        "If your browser blocks third-party cookies, allow them for this tool or open the activity in a new window.")),
    "unknown_platform": (400, _l("This LMS is not registered with the tool"), _l(
        "An LMS administrator must register it: by LTI Dynamic Registration, "
        "or with `lti-tool platforms add` using this issuer and client id.")),
    "wrong_audience": (400, _l("The launch was meant for another tool"), _l(
        "An LMS administrator should check that the client id registered in the tool matches the one the LMS uses.")),
    "unsupported_alg": (400, _l("The launch was signed with an algorithm the tool does not accept"), _l(
        "LTI 1.3 launches must be signed with RS256. An LMS administrator should check the LMS's key settings.")),
    "bad_signature": (400, _l("The launch signature is not valid"), _l(
        "An LMS administrator should check that the key set URL registered for this LMS is right. "
        "Go back to the course in your LMS and open the activity again.")),
    "unknown_kid": (400, _l("The launch was signed with a key the LMS does not publish"), _l(
        "An LMS administrator should check the key set URL registered for this LMS.")),
    "jwks_unavailable": (400, _l("The LMS's public keys could not be fetched"), _l(
        "An LMS administrator should check that the key set URL registered for this LMS is reachable from the tool.")),
    "expired": (400, _l("The launch has expired"), _l(
        "Go back to the course in your LMS and open the activity again. "
        "If this keeps happening, the LMS's clock or the tool's clock may be wrong.")),
    "not_yet_valid": (400, _l("The launch is not valid yet"), _l(
        "The LMS's clock seems to be ahead of the tool's. An LMS administrator should check both servers' time.")),
    "wrong_issuer": (400, _l("The launch names another LMS than the one that started it"), _RELAUNCH),
    "missing_claim": (400, _l("The launch is missing required information"), _l(
        "An LMS administrator should check the tool's LTI settings in the LMS.")),
    "wrong_version": (400, _l("The launch is not LTI 1.3"), _l(
        "An LMS administrator should register the tool as an LTI 1.3 (LTI Advantage) tool.")),
    "missing_sub": (400, _l("The launch does not say who you are"), _l(
        "Anonymous launches are not supported. An LMS administrator should allow the tool to receive the user's id.")),
    "unsupported_message": (400, _l("The tool does not handle this kind of launch"), _l(
        "An LMS administrator should check the placement configured for the tool.")),
    "replayed": (400, _l("This launch was already used"), _l(
        "Each launch can be used once. Go back to the course in your LMS and open the activity again.")),
    "nonce_mismatch": (400, _l("This launch does not match the login that started it"), _RELAUNCH),
    "unknown_deployment": (403, _l("This deployment of the tool is not active yet"), _l(
        "An LMS administrator must activate it in the tool: `lti-tool platforms activate --issuer %(issuer)s "
        "--client-id %(client_id)s --deployment-id %(deployment_id)s`.")),
    "bad_login": (400, _l("The login request from the LMS is incomplete"), _l(
        "Go back to the course in your LMS and open the activity again. "
        "An LMS administrator should check the tool's login URL and client id in the LMS.")),
}


class Facts(dict):
    """The facts an advice names; one the error did not give stays a visible NAME (as ISSUER)."""

    def __missing__(self, key: str) -> str:
        return key.upper()


class CataloguedError(Exception):
    """An error whose `code` picks (status, title, advice) from the subclass's `catalogue`.

    Title and advice come out in the current locale (English outside a request), the advice with
    the error's facts filled in."""

    catalogue: dict = {}

    def __init__(self, code: str, detail: str = "", **facts: str):
        self.code, self.detail, self.facts = code, detail, facts
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def status(self) -> int:
        return self.catalogue[self.code][0]

    @property
    def title(self) -> str:
        return str(self.catalogue[self.code][1])

    @property
    def advice(self) -> str:
        text = str(self.catalogue[self.code][2])
        return text % Facts(self.facts) if "%(" in text else text


class LaunchError(CataloguedError, LtiException):
    """A refused login or launch."""

    catalogue = CATALOGUE
