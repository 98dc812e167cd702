"""The practice LMS's launch flow: login initiation, authorization, and the id_token it signs."""
from __future__ import annotations

import json

import jwt
import pytest
from devlms_helpers import CLIENT_IDS, parse_form, thumbprint

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def test_course_page_frames_the_launch(lms):
    page = lms.http.get(lms.url + "/", params={"person": "u-learner-2", "link": "rl-relationships", "mode": "canvas", "method": "post"}, timeout=10)
    assert page.status_code == 200
    assert "Connected Learning for Teens" in page.text and "نسرین احمدی" in page.text
    assert '<iframe id="tool"' in page.text
    assert "/dev/lms/launch?person=u-learner-2&amp;link=rl-relationships&amp;mode=canvas&amp;method=post" in page.text
    assert lms.http.get(lms.url + "/gradebook", timeout=10).status_code == 200


def test_jwks_kid_is_the_rfc7638_thumbprint(lms):
    keys = lms.http.get(lms.url + "/jwks.json", timeout=10).json()["keys"]
    assert len(keys) == 1 and "d" not in keys[0]
    assert keys[0]["kid"] == thumbprint(keys[0]) and keys[0]["alg"] == "RS256"


@pytest.mark.parametrize("method", ["get", "post"])
def test_moodle_launch_claims(lms, method):
    launch = lms.launch("u-learner-1", method=method)
    assert launch.posted_to == lms.base + "/lti/launch"
    assert launch.fields["state"] == launch.auth_params["state"]
    header = jwt.get_unverified_header(launch.id_token)
    assert header["alg"] == "RS256" and header["kid"]
    claims = lms.verify(launch.id_token, "moodle")
    assert claims["iss"] == lms.url and claims["aud"] == "practice-moodle" and claims["sub"] == "u-learner-1"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["nonce"] == launch.auth_params["nonce"]
    assert (claims["name"], claims["given_name"], claims["family_name"], claims["email"]) == ("Maya Chen", "Maya", "Chen", "maya.chen@example.edu")
    assert claims[LTI + "version"] == "1.3.0" and claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "deployment_id"] == "1"
    assert claims[LTI + "target_link_uri"] == lms.base + "/lti/launch"
    assert claims[LTI + "resource_link"]["id"] == "rl-relationships"
    assert claims[LTI + "roles"] == [LIS + "membership#Learner", LIS + "institution/person#Student"]
    assert claims[LTI + "context"] == {"id": "course-1", "label": "CLT", "title": "Connected Learning for Teens", "type": ["CourseSection"]}
    assert claims[LTI + "tool_platform"]["product_family_code"] == "moodle"
    assert claims[LTI + "launch_presentation"]["document_target"] == "iframe"
    assert claims[LTI + "custom"] == {"page": "relationships"}
    ags = claims[AGS_CLAIM]
    assert set(ags["scope"]) == {"https://purl.imsglobal.org/spec/lti-ags/scope/" + s for s in ("lineitem", "lineitem.readonly", "result.readonly", "score")}
    assert ags["lineitems"] == lms.url + "/courses/course-1/lineitems?type_id=1"
    assert ags["lineitem"] == lms.url + "/courses/course-1/lineitems/1/lineitem?type_id=1"
    assert claims[NRPS_CLAIM] == {"context_memberships_url": lms.url + "/courses/course-1/memberships", "service_versions": ["1.0", "2.0"]}


def test_moodle_hints_are_user_id_and_json(lms):
    params = lms.start("u-learner-1", link="rl-rethinking")
    assert params["login_hint"] == "u-learner-1"
    hint = json.loads(params["lti_message_hint"])
    assert hint["cmid"] == 3 and hint["launchid"]


def test_canvas_launch_claims(lms):
    launch = lms.launch("u-instructor-1", link="rl-rethinking", mode="canvas", method="post")
    assert launch.auth_params["login_hint"] != "u-instructor-1"  # opaque, passed back unchanged
    claims = lms.verify(launch.id_token, "canvas")
    assert claims["iss"] == "https://canvas.instructure.com" and claims["aud"] == "practice-canvas"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims[LTI + "roles"][0] == LIS + "membership#Instructor"
    assert claims[LTI + "context"]["type"] == [LIS.replace("vocab/lis/v2/", "vocab/lis/v2/course#CourseOffering")]
    assert claims[LTI + "tool_platform"]["product_family_code"] == "canvas"
    assert claims["https://www.instructure.com/placement"]
    assert claims[LTI + "custom"] == {"page": "rethinking-partnerships"}
    assert "lineitem" not in claims[AGS_CLAIM]
    assert claims[AGS_CLAIM]["lineitems"] == lms.url + "/courses/course-1/lineitems"


@pytest.mark.parametrize("mode", ["moodle", "canvas"])
def test_person_without_name_or_email_gets_no_such_claims(lms, mode):
    claims = lms.verify(lms.launch("u-learner-3", mode=mode).id_token, mode)
    assert claims["sub"] == "u-learner-3"
    assert not {"name", "given_name", "family_name", "email"} & set(claims)


def test_right_to_left_name_arrives_intact(lms):
    claims = lms.verify(lms.launch("u-learner-2").id_token, "moodle")
    assert claims["name"] == "نسرین احمدی" and claims["email"]


def test_storage_target_offered_when_asked(lms):
    params = lms.start("u-learner-1", mode="canvas", storage="parent")
    response = lms.authorize(params)
    assert parse_form(response.text)[2]["lti_storage_target"] == "_parent"


def test_wrong_redirect_uri_is_a_400_page(lms):
    params = lms.start("u-learner-1")
    for wrong in (lms.base + "/lti/launch/", lms.base + "/elsewhere"):
        response = lms.authorize({**params, "redirect_uri": wrong})
        assert response.status_code == 400
        assert 'id="autosubmit"' not in response.text


def test_unknown_client_is_a_400_page(lms):
    params = lms.start("u-learner-1")
    assert lms.authorize({**params, "client_id": "nobody"}).status_code == 400


@pytest.mark.parametrize("change, error", [
    ({"prompt": "login"}, "invalid_request"),
    ({"response_mode": "query"}, "invalid_request"),
    ({"response_type": "code"}, "unsupported_response_type"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"nonce": ""}, "invalid_request"),
    ({"login_hint": "u-learner-2"}, "login_required"),
])
def test_bad_requests_are_posted_back_as_oidc_errors(lms, change, error):
    params = lms.start("u-learner-1")
    response = lms.authorize({**params, **change}, method="post")
    method, action, fields = parse_form(response.text)
    assert (method, action) == ("post", lms.base + "/lti/launch")
    assert fields["error"] == error and fields["error_description"]
    assert fields["state"] == params["state"] and "id_token" not in fields


def test_forged_or_cross_mode_message_hint_is_refused(lms):
    params = lms.start("u-learner-1")
    hint = json.loads(params["lti_message_hint"])
    forged = json.dumps({**hint, "launchid": hint["launchid"][:-4] + "AAAA"})
    fields = parse_form(lms.authorize({**params, "lti_message_hint": forged}).text)[2]
    assert fields["error"] == "invalid_request"
    canvas = lms.start("u-learner-1", mode="canvas")
    fields = parse_form(lms.authorize({**params, "lti_message_hint": canvas["lti_message_hint"]}).text)[2]
    assert fields["error"] == "invalid_request"


def test_launch_start_rejects_unknown_person(lms):
    response = lms.http.get(lms.url + "/launch", params={"person": "nobody", "link": "rl-relationships"}, timeout=10)
    assert response.status_code == 400


def test_registrations_shape(devlms_server):
    from lti_tool import devlms

    regs = devlms.registrations({"TOOL_BASE_URL": "http://tool.test/", "DEVLMS_DEPLOYMENT_ID": 7})
    assert [r["client_id"] for r in regs] == list(CLIENT_IDS.values())
    moodle, canvas = regs
    assert moodle["issuer"] == "http://tool.test/dev/lms" and canvas["issuer"] == "https://canvas.instructure.com"
    for reg in regs:
        assert set(reg) == {"name", "issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids", "auth_audience"}
        assert reg["auth_login_url"] == "http://tool.test/dev/lms/auth" and reg["deployment_ids"] == ["7"]
        assert reg["auth_audience"] is None
    custom = devlms.registrations({"TOOL_BASE_URL": "http://tool.test", "DEVLMS_BASE_URL": "https://lms.test/sub/"})
    assert custom[0]["issuer"] == "https://lms.test/sub" and custom[0]["key_set_url"] == "https://lms.test/sub/jwks.json"
