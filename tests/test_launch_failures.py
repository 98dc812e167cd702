"""Every refused login or launch gets a 4xx page that says what went wrong and what to do, and a log line."""
from __future__ import annotations

import time

import jwt
import pytest
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.lms import Browser, b64, resign, unverified

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def page_says(response, status: int, *phrases: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text[:1500]}"
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.select_one("[role=alert] h1") is not None, response.text[:1500]
    assert "What to do" in response.text
    text = soup.get_text(" ", strip=True)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in page: {text[:800]}"


def logged(tool, code: str) -> bool:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if f"launch refused: {code}" in tool.log():
            return True
        time.sleep(0.05)
    return False


def tampered(browser: Browser, key, person: str = "u-learner-1", **resign_kwargs) -> dict:
    """A real login, with the LMS's id_token changed and signed again by `key`."""
    login = browser.start(person)
    fields = browser.authorize(login).fields
    fields["id_token"] = resign(fields["id_token"], key, **resign_kwargs)
    return fields


@pytest.fixture(scope="module")
def rogue_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- login ---------------------------------------------------------------------------------------

def test_unknown_issuer_at_login(tool, browser):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://lms.unknown.example", "login_hint": "1",
                                                                   "target_link_uri": tool.base_url + "/lti/launch"})
    page_says(response, 400, "not registered", "lti-tool platforms add")
    assert logged(tool, "unknown_platform")


def test_unknown_client_at_login(tool, browser):
    """The practice LMS's issuer is registered, but not with this client id."""
    response = browser.http.post(tool.base_url + "/lti/login", data={"iss": tool.base_url + "/dev/lms", "login_hint": "1",
                                                                    "client_id": "not-a-client", "target_link_uri": tool.base_url + "/lti/launch"})
    page_says(response, 400, "not registered")


def test_login_without_login_hint(tool, browser):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://x.example"})
    page_says(response, 400, "login request")
    assert logged(tool, "bad_login")


def test_login_with_foreign_target_link_uri(tool, browser):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://x.example", "login_hint": "1",
                                                                   "target_link_uri": "https://evil.example/phish"})
    page_says(response, 400)


# --- the id_token --------------------------------------------------------------------------------

def test_missing_id_token(tool, browser):
    login = browser.start("u-learner-1")
    page_says(browser.post_launch({"state": login.state}), 400, "no identity token")
    assert logged(tool, "missing_id_token")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", b64({"alg": "RS256"}) + "." + "W10" + ".sig"])
def test_malformed_token(tool, browser, token):
    login = browser.start("u-learner-1")
    page_says(browser.post_launch({"state": login.state, "id_token": token}), 400, "could not be read")
    assert logged(tool, "malformed_token")


def test_platform_error_is_shown(tool, browser):
    login = browser.start("u-learner-1")
    response = browser.post_launch({"state": login.state, "error": "access_denied",
                                    "error_description": "You are not enrolled in this course"})
    page_says(response, 400, "The LMS reported an error", "You are not enrolled in this course")
    assert logged(tool, "platform_error")


def test_bad_signature(tool, browser, rogue_key):
    page_says(browser.post_launch(tampered(browser, rogue_key)), 400, "signature is not valid")
    assert logged(tool, "bad_signature")


def test_unknown_kid(tool, browser, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, header={"kid": "no-such-kid"})), 400, "key the LMS does not publish")
    assert logged(tool, "unknown_kid")


def test_alg_none_refused(tool, browser):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    header, body = unverified(fields["id_token"])
    fields["id_token"] = b64({"alg": "none", "kid": header["kid"]}) + "." + b64(body) + "."
    page_says(browser.post_launch(fields), 400, "algorithm")
    assert logged(tool, "unsupported_alg")


def test_hs256_with_public_key_refused(tool, browser):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    header, body = unverified(fields["id_token"])
    fields["id_token"] = jwt.encode(body, "public-key-as-secret-" * 2, algorithm="HS256", headers={"kid": header["kid"]})
    page_says(browser.post_launch(fields), 400, "algorithm")


def test_expired(tool, browser, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) - 600, "exp": int(time.time()) - 120})
    page_says(browser.post_launch(fields), 400, "expired")
    assert logged(tool, "expired")


def test_issued_in_the_future(tool, browser, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) + 600, "exp": int(time.time()) + 900})
    page_says(browser.post_launch(fields), 400, "not valid yet")
    assert logged(tool, "not_yet_valid")


def test_small_clock_skew_is_tolerated(tool, browser, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) + 5})
    assert browser.post_launch(fields).status_code == 200


def test_wrong_audience(tool, browser, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={"aud": "some-other-tool"})), 400, "meant for another tool")
    assert logged(tool, "wrong_audience")


def test_audience_list_without_azp(tool, browser, lms_key):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    aud = unverified(fields["id_token"])[1]["aud"]
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={"aud": [aud, "another"]}, drop=("azp",))
    page_says(browser.post_launch(fields), 400, "meant for another tool")
    assert logged(tool, "wrong_audience")


def test_wrong_issuer(tool, browser, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={"iss": "https://elsewhere.example"})), 400, "another LMS")
    assert logged(tool, "wrong_issuer")


def test_wrong_lti_version(tool, browser, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={LTI + "version": "1.1"})), 400, "not LTI 1.3")
    assert logged(tool, "wrong_version")


def test_missing_sub(tool, browser, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, drop=("sub",))), 400, "does not say who you are")
    assert logged(tool, "missing_sub")


def test_unknown_message_type(tool, browser, lms_key):
    fields = tampered(browser, lms_key, claims={LTI + "message_type": "LtiSomethingElse"})
    page_says(browser.post_launch(fields), 400, "does not handle this kind of launch")


# --- one-time values ---------------------------------------------------------------------------

def test_replayed_id_token(tool, browser):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    assert browser.post_launch(fields).status_code == 200
    page_says(browser.post_launch(fields), 400, "already used")
    assert logged(tool, "replayed")


def test_reused_nonce(tool, browser, lms_key):
    first = browser.authorize(browser.start("u-learner-1")).fields
    used_nonce = unverified(first["id_token"])[1]["nonce"]
    assert browser.post_launch(first).status_code == 200
    fields = tampered(browser, lms_key, claims={"nonce": used_nonce})
    page_says(browser.post_launch(fields), 400, "already used")
    assert logged(tool, "replayed")


def test_nonce_from_another_login(tool, browser, lms_key):
    other = Browser(tool.base_url).start("u-learner-1")
    fields = tampered(browser, lms_key, claims={"nonce": other.nonce})
    page_says(browser.post_launch(fields), 400, "does not match the login")
    assert logged(tool, "nonce_mismatch")


def test_missing_state(tool, browser):
    fields = browser.authorize(browser.start("u-learner-1")).fields
    fields.pop("state")
    page_says(browser.post_launch(fields), 400, "missing its state")
    assert logged(tool, "missing_state")


def test_state_from_another_browser(tool, browser):
    """A launch posted into a browser that did not start the login (login CSRF) is refused."""
    victim = Browser(tool.base_url)
    fields = browser.authorize(browser.start("u-learner-1")).fields
    page_says(victim.post_launch(fields), 400, "does not belong to this browser session")
    assert logged(tool, "state_mismatch")


def test_unknown_state(tool, browser):
    fields = browser.authorize(browser.start("u-learner-1")).fields
    fields["state"] = "state-made-up"
    page_says(browser.post_launch(fields), 400, "does not belong to this browser session")


# --- deployments -------------------------------------------------------------------------------

def test_unknown_deployment_is_refused_recorded_and_can_be_activated(tool, browser, lms_key, app_ctx):
    from lti_tool import registrations
    from lti_tool.models import Deployment

    fields = tampered(browser, lms_key, claims={LTI + "deployment_id": "deployment-42"})
    response = browser.post_launch(fields)
    page_says(response, 403, "not active yet", "lti-tool platforms activate", "--deployment-id deployment-42")
    assert logged(tool, "unknown_deployment")

    iss = unverified(fields["id_token"])[1]["iss"]
    client_id = unverified(fields["id_token"])[1]["aud"]
    platform = registrations.find(iss, client_id)
    pending = [d for d in platform.deployments if d.deployment_id == "deployment-42"]
    assert pending and pending[0].status == Deployment.PENDING

    registrations.activate_deployment(iss, client_id, "deployment-42")
    fresh = tampered(browser, lms_key, claims={LTI + "deployment_id": "deployment-42"})
    assert browser.post_launch(fresh).status_code == 200
