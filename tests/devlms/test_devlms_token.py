"""The token endpoint: client credentials with the tool's signed assertion, checked over HTTP."""
from __future__ import annotations

import time

import pytest
from devlms_helpers import ALL_SCOPES, NRPS_SCOPE, ToolKey
from urllib3.util import SKIP_HEADER


@pytest.mark.parametrize("mode", ["moodle", "canvas"])
def test_signed_assertion_gets_a_bearer_token(lms, mode):
    response = lms.token_request(lms.assertion(mode), ALL_SCOPES + ["https://example.com/not-a-scope"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]
    assert set(body["scope"].split()) == set(ALL_SCOPES)
    assert response.headers["Cache-Control"] == "no-store"


def test_only_requested_scopes_are_granted(lms):
    body = lms.token_request(lms.assertion(), [NRPS_SCOPE]).json()
    assert body["scope"] == NRPS_SCOPE


def test_issuer_is_accepted_as_audience(lms):
    assert lms.token_request(lms.assertion("moodle", aud=lms.url)).status_code == 200
    assert lms.token_request(lms.assertion("canvas", aud="https://canvas.instructure.com")).status_code == 200


def test_assertion_signed_by_another_key_is_refused(lms):
    stranger = ToolKey()
    stranger.kid = lms.tool.keys[0].kid  # claims to be the tool's key
    response = lms.token_request(lms.assertion(key=stranger))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_reused_jti_is_refused(lms):
    assertion = lms.assertion()
    assert lms.token_request(assertion).status_code == 200
    again = lms.token_request(assertion)
    assert again.status_code == 401 and "jti" in again.json()["error_description"]


@pytest.mark.parametrize("overrides", [
    {"aud": "https://elsewhere.example/token"},
    {"sub": "someone-else"},
    {"iss": "practice-unknown", "sub": "practice-unknown"},
    {"exp": int(time.time()) - 120},
    {"jti": None},
    {"iat": int(time.time()) + 600, "exp": int(time.time()) + 900},
])
def test_bad_assertion_claims_are_refused(lms, overrides):
    response = lms.token_request(lms.assertion(**overrides))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def test_rfc6749_errors(lms):
    assert lms.token_request(lms.assertion(), grant_type="password").json()["error"] == "unsupported_grant_type"
    response = lms.token_request(lms.assertion(), scopes=["openid"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    response = lms.http.post(lms.url + "/token", data={"grant_type": "client_credentials"}, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert lms.token_request("not-a-jwt").status_code == 401


def test_unknown_kid_makes_the_lms_refetch_the_tool_jwks_once(lms):
    assert lms.token_request(lms.assertion()).status_code == 200  # the key set is cached now
    fresh = ToolKey()
    lms.tool.keys.append(fresh)
    try:
        before = lms.tool.jwks_fetches
        assert lms.token_request(lms.assertion(key=fresh)).status_code == 200
        assert lms.tool.jwks_fetches == before + 1
        assert lms.token_request(lms.assertion(key=fresh)).status_code == 200
        assert lms.tool.jwks_fetches == before + 1
        ghost = ToolKey()
        assert lms.token_request(lms.assertion(key=ghost)).status_code == 401
    finally:
        lms.tool.keys.remove(fresh)


def test_canvas_refuses_requests_without_user_agent(lms):
    lms.http.headers["User-Agent"] = SKIP_HEADER  # urllib3 then sends no User-Agent at all
    response = lms.token_request(lms.assertion("canvas"))
    assert response.status_code in (400, 403) and response.json()["error"]
    assert lms.token_request(lms.assertion("moodle")).status_code == 200


def test_token_requests_are_counted(lms):
    lms.token_request(lms.assertion())
    lms.token_request("junk")
    stats = lms.http.get(lms.url + "/api/stats", timeout=10).json()
    assert stats["token_requests"] == 2 and stats["tokens_issued"] == 1 and stats["token_errors"] == 1
