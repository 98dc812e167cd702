"""Every refused login or launch gets a 4xx page that says what went wrong and what to do, and a log line."""
from __future__ import annotations

import secrets
import time

import jwt
import pytest
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.logwatch import LogWatch
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




def logged(watch: LogWatch, code: str, detail: str, path: str = "/lti/launch") -> None:
    """Since the test started, exactly one refusal was logged: this code, at this path, with a detail that
    contains `detail` (what tells it apart from other refusals with the same code)."""
    refusals = watch.refusals()
    assert len(refusals) == 1, f"expected one refusal, logged {refusals}:\n{watch.text()[-3000:]}"
    got_code, got_detail, got_path = refusals[0]
    assert (got_code, got_path) == (code, path), refusals
    assert detail in got_detail, f"{detail!r} not in the logged detail {got_detail!r}"


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

def test_unknown_issuer_at_login(tool, browser, watch):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://lms.unknown.example", "login_hint": "1",
                                                                   "target_link_uri": tool.base_url + "/lti/launch"})
    page_says(response, 400, "not registered", "lti-tool platforms add")
    logged(watch, "unknown_platform", "issuer 'https://lms.unknown.example', client id ''", path="/lti/login")


def test_unknown_client_at_login(tool, browser, watch):
    """The practice LMS's issuer is registered, but not with this client id."""
    response = browser.http.post(tool.base_url + "/lti/login", data={"iss": tool.base_url + "/dev/lms", "login_hint": "1",
                                                                    "client_id": "not-a-client", "target_link_uri": tool.base_url + "/lti/launch"})
    page_says(response, 400, "not registered")
    logged(watch, "unknown_platform", f"issuer '{tool.base_url}/dev/lms', client id 'not-a-client'", path="/lti/login")


def test_login_without_login_hint(tool, browser, watch):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://x.example"})
    page_says(response, 400, "login request")
    logged(watch, "bad_login", "the login request has no login_hint", path="/lti/login")


def test_login_with_foreign_target_link_uri(tool, browser, watch):
    response = browser.http.get(tool.base_url + "/lti/login", params={"iss": "https://x.example", "login_hint": "1",
                                                                   "target_link_uri": "https://evil.example/phish"})
    page_says(response, 400, "login request")
    logged(watch, "bad_login", "target_link_uri 'https://evil.example/phish' is not a URL of this tool", path="/lti/login")


# --- the id_token --------------------------------------------------------------------------------

def test_missing_id_token(tool, browser, watch):
    login = browser.start("u-learner-1")
    page_says(browser.post_launch({"state": login.state}), 400, "no identity token")
    logged(watch, "missing_id_token", "the launch request has no id_token")


@pytest.mark.parametrize("token, detail", [
    ("not-a-jwt", "Invalid id_token, JWT must contain 3 parts"),
    ("a.b.c", "Invalid JWT format, can't be decoded"),
    (b64({"alg": "RS256"}) + "." + "W10" + ".sig", "the id_token header or body is not a JSON object"),
], ids=["one segment", "segments not base64 JSON", "body a JSON array"])
def test_malformed_token(tool, browser, watch, token, detail):
    login = browser.start("u-learner-1")
    page_says(browser.post_launch({"state": login.state, "id_token": token}), 400, "could not be read")
    logged(watch, "malformed_token", detail)


def test_platform_error_is_shown(tool, browser, watch):
    login = browser.start("u-learner-1")
    response = browser.post_launch({"state": login.state, "error": "access_denied",
                                    "error_description": "You are not enrolled in this course"})
    page_says(response, 400, "The LMS reported an error", "You are not enrolled in this course")
    logged(watch, "platform_error", "access_denied: You are not enrolled in this course")


def test_bad_signature(tool, browser, watch, rogue_key):
    page_says(browser.post_launch(tampered(browser, rogue_key)), 400, "signature is not valid")
    logged(watch, "bad_signature", "Signature verification failed")


def test_unknown_kid(tool, browser, watch, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, header={"kid": "no-such-kid"})), 400, "key the LMS does not publish")
    logged(watch, "unknown_kid", "kid 'no-such-kid' is not in ")


def test_alg_none_refused(tool, browser, watch):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    header, body = unverified(fields["id_token"])
    fields["id_token"] = b64({"alg": "none", "kid": header["kid"]}) + "." + b64(body) + "."
    page_says(browser.post_launch(fields), 400, "algorithm")
    logged(watch, "unsupported_alg", "alg 'none'")


def test_hs256_with_public_key_refused(tool, browser, watch):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    header, body = unverified(fields["id_token"])
    fields["id_token"] = jwt.encode(body, "public-key-as-secret-" * 2, algorithm="HS256", headers={"kid": header["kid"]})
    page_says(browser.post_launch(fields), 400, "algorithm")
    logged(watch, "unsupported_alg", "alg 'HS256'")


def test_expired(tool, browser, watch, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) - 600, "exp": int(time.time()) - 120})
    page_says(browser.post_launch(fields), 400, "expired")
    logged(watch, "expired", "Signature has expired")


def test_issued_in_the_future(tool, browser, watch, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) + 600, "exp": int(time.time()) + 900})
    page_says(browser.post_launch(fields), 400, "not valid yet")
    logged(watch, "not_yet_valid", "The token is not yet valid (iat)")


def test_small_clock_skew_is_tolerated(tool, browser, watch, lms_key):
    fields = tampered(browser, lms_key, claims={"iat": int(time.time()) + 5})
    assert browser.post_launch(fields).status_code == 200
    assert "launch accepted" in watch.text() and "launch refused" not in watch.text()


def test_wrong_audience(tool, browser, watch, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={"aud": "some-other-tool"})), 400, "meant for another tool")
    logged(watch, "wrong_audience", "login was for client 'practice-moodle', token for 'some-other-tool'")


def test_audience_list_without_azp(tool, browser, watch, lms_key):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    aud = unverified(fields["id_token"])[1]["aud"]
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={"aud": [aud, "another"]}, drop=("azp",))
    page_says(browser.post_launch(fields), 400, "meant for another tool")
    logged(watch, "wrong_audience", "several audiences and no azp")


def test_wrong_issuer(tool, browser, watch, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={"iss": "https://elsewhere.example"})), 400, "another LMS")
    logged(watch, "wrong_issuer", "token from 'https://elsewhere.example'")


def test_wrong_lti_version(tool, browser, watch, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, claims={LTI + "version": "1.1"})), 400, "not LTI 1.3")
    logged(watch, "wrong_version", "version '1.1'")


def test_missing_sub(tool, browser, watch, lms_key):
    page_says(browser.post_launch(tampered(browser, lms_key, drop=("sub",))), 400, "does not say who you are")
    logged(watch, "missing_sub", "the id_token has no sub")


def test_unknown_message_type(tool, browser, watch, lms_key):
    fields = tampered(browser, lms_key, claims={LTI + "message_type": "LtiSomethingElse"})
    page_says(browser.post_launch(fields), 400, "does not handle this kind of launch")
    logged(watch, "unsupported_message", "message type 'LtiSomethingElse'")


# --- one-time values ---------------------------------------------------------------------------

def test_replayed_id_token(tool, browser, watch):
    login = browser.start("u-learner-1")
    fields = browser.authorize(login).fields
    assert browser.post_launch(fields).status_code == 200
    page_says(browser.post_launch(fields), 400, "already used")
    logged(watch, "replayed", "this id_token was already accepted")


def test_reused_nonce(tool, browser, watch, lms_key):
    first = browser.authorize(browser.start("u-learner-1")).fields
    used_nonce = unverified(first["id_token"])[1]["nonce"]
    assert browser.post_launch(first).status_code == 200
    # A jti of its own: within the same second the LMS's next id_token with the old nonce would be the first one
    # byte for byte, refused as a replayed id_token before its nonce is looked at.
    fields = tampered(browser, lms_key, claims={"nonce": used_nonce, "jti": secrets.token_hex(8)})
    assert fields["id_token"] != first["id_token"]
    page_says(browser.post_launch(fields), 400, "already used")
    logged(watch, "replayed", "this nonce was already used")


def test_nonce_from_another_login(tool, browser, watch, lms_key):
    other = Browser(tool.base_url).start("u-learner-1")
    fields = tampered(browser, lms_key, claims={"nonce": other.nonce})
    page_says(browser.post_launch(fields), 400, "does not match the login")
    logged(watch, "nonce_mismatch", "the nonce is not the one issued at login")


def test_missing_state(tool, browser, watch):
    fields = browser.authorize(browser.start("u-learner-1")).fields
    fields.pop("state")
    page_says(browser.post_launch(fields), 400, "missing its state")
    logged(watch, "missing_state", "the launch request has no state")


def test_state_from_another_browser(tool, browser, watch):
    """A launch posted into a browser that did not start the login (login CSRF) is refused."""
    victim = Browser(tool.base_url)
    fields = browser.authorize(browser.start("u-learner-1")).fields
    page_says(victim.post_launch(fields), 400, "does not belong to this browser session")
    logged(watch, "state_mismatch", "no state cookie came with the launch")


def test_unknown_state(tool, browser, watch):
    fields = browser.authorize(browser.start("u-learner-1")).fields
    fields["state"] = "state-made-up"
    page_says(browser.post_launch(fields), 400, "does not belong to this browser session")
    logged(watch, "state_mismatch", "the state is unknown, expired or already used")


# --- deployments -------------------------------------------------------------------------------

def test_unknown_deployment_is_refused_recorded_and_can_be_activated(tool, browser, watch, lms_key, app_ctx):
    from lti_tool import registrations
    from lti_tool.models import Deployment

    fields = tampered(browser, lms_key, claims={LTI + "deployment_id": "deployment-42"})
    response = browser.post_launch(fields)
    page_says(response, 403, "not active yet", "lti-tool platforms activate", "--deployment-id deployment-42")
    logged(watch, "unknown_deployment", "deployment 'deployment-42'")

    iss = unverified(fields["id_token"])[1]["iss"]
    client_id = unverified(fields["id_token"])[1]["aud"]
    platform = registrations.find(iss, client_id)
    pending = [d for d in platform.deployments if d.deployment_id == "deployment-42"]
    assert pending and pending[0].status == Deployment.PENDING

    registrations.activate_deployment(iss, client_id, "deployment-42")
    fresh = tampered(browser, lms_key, claims={LTI + "deployment_id": "deployment-42"})
    assert browser.post_launch(fresh).status_code == 200
