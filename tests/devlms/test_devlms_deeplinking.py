"""Deep linking: the instructor adds an activity through the tool's content picker."""
from __future__ import annotations

import secrets
import time

import jwt
from devlms_helpers import CLIENT_IDS, now_iso, parse_form, scores_url

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def deep_link_request(lms, mode: str = "moodle") -> dict:
    params = lms.start("u-instructor-1", mode=mode, message="deeplink")
    fields = parse_form(lms.authorize(params).text)[2]
    return lms.verify(fields["id_token"], mode)


def respond(lms, request: dict, mode: str, items: list, **overrides) -> str:
    """The tool's LtiDeepLinkingResponse, signed with the tool's key."""
    now = int(time.time())
    claims = {
        "iss": CLIENT_IDS[mode], "aud": request["iss"], "iat": now, "exp": now + 300, "nonce": secrets.token_hex(8),
        LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
        LTI + "deployment_id": request[LTI + "deployment_id"],
        DL + "data": request[DL + "deep_linking_settings"]["data"], DL + "content_items": items,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = lms.tool.keys[0]
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})


def test_deep_linking_request_claims(lms):
    claims = deep_link_request(lms)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    assert LTI + "resource_link" not in claims
    settings = claims[DL + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == lms.url + "/deep-link/return"
    assert settings["accept_types"] == ["ltiResourceLink"] and settings["data"]


def test_learners_cannot_deep_link(lms):
    response = lms.http.get(lms.url + "/launch", params={"person": "u-learner-1", "message": "deeplink"}, timeout=10)
    assert response.status_code == 400


def test_added_activity_can_be_launched_and_graded(lms):
    request = deep_link_request(lms, "canvas")
    item = {"type": "ltiResourceLink", "title": "Rethinking partnerships (graded)", "url": lms.base + "/lti/launch",
            "custom": {"page": "rethinking-partnerships"}, "lineItem": {"scoreMaximum": 4, "label": "Rethinking"}}
    answer = lms.http.post(request[DL + "deep_linking_settings"]["deep_link_return_url"],
                           data={"JWT": respond(lms, request, "canvas", [item, {"type": "html", "html": "<p>x</p>"}])}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert "Rethinking partnerships (graded)" in answer.text and "html" in answer.text
    link_id = answer.text.split('data-resource-link-id="')[1].split('"')[0]
    assert link_id in lms.http.get(lms.url + "/", timeout=10).text
    claims = lms.verify(lms.launch("u-learner-2", link=link_id).id_token, "moodle")
    assert claims[LTI + "resource_link"]["id"] == link_id
    assert claims[LTI + "custom"] == {"page": "rethinking-partnerships"}
    lineitem = claims[AGS_CLAIM]["lineitem"]
    token = lms.access_token("moodle")
    assert lms.call("GET", lineitem, token).json()["scoreMaximum"] == 4
    assert lms.score(scores_url(lineitem), token, "u-learner-2", given=2, maximum=4, timestamp=now_iso()).status_code == 200


def test_deep_linking_response_is_checked(lms):
    request = deep_link_request(lms)
    url = request[DL + "deep_linking_settings"]["deep_link_return_url"]
    item = {"type": "ltiResourceLink", "title": "X"}
    for overrides in ({"aud": "https://elsewhere.example"}, {LTI + "message_type": "LtiResourceLinkRequest"},
                      {DL + "data": "forged"}, {"nonce": None}):
        token = respond(lms, request, "moodle", [item], **overrides)
        assert lms.http.post(url, data={"JWT": token}, timeout=10).status_code == 400, overrides
    good = respond(lms, request, "moodle", [item])
    assert lms.http.post(url, data={"JWT": good}, timeout=10).status_code == 200
    assert lms.http.post(url, data={"JWT": good}, timeout=10).status_code == 400  # data is single use
