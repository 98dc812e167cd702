"""NRPS: the roster as a membership container, paged with Link rel="next"."""
from __future__ import annotations

import re

from devlms_helpers import AGS, NRPS_SCOPE

NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def next_link(response) -> str | None:
    match = re.search(r'<([^>]+)>;\s*rel="next"', response.headers.get("Link", ""))
    return match.group(1) if match else None


def test_memberships_paged(lms):
    url = lms.verify(lms.launch("u-instructor-1").id_token, "moodle")[NRPS_CLAIM]["context_memberships_url"]
    token = lms.access_token("moodle", [NRPS_SCOPE])
    headers = {"Accept": MEMBERSHIP_TYPE}
    members, pages, page_url = [], 0, url + "?limit=2"
    while page_url:
        response = lms.call("GET", page_url, token, headers=headers)
        assert response.status_code == 200 and response.headers["Content-Type"] == MEMBERSHIP_TYPE
        body = response.json()
        assert body["context"]["id"] == "course-1" and len(body["members"]) <= 2
        members += body["members"]
        pages += 1
        page_url = next_link(response)
        assert page_url is None or page_url.startswith(lms.url + "/courses/course-1/memberships?")
    assert pages == 3
    by_id = {m["user_id"]: m for m in members}
    assert list(by_id) == ["u-learner-1", "u-learner-2", "u-learner-3", "u-instructor-1", "u-test-student"]
    assert all(m["status"] == "Active" and m["roles"] for m in members)
    assert by_id["u-learner-1"]["name"] == "Maya Chen" and by_id["u-learner-1"]["email"] == "maya.chen@example.edu"
    assert "name" not in by_id["u-learner-3"] and "email" not in by_id["u-learner-3"]
    assert by_id["u-instructor-1"]["roles"][0].endswith("membership#Instructor")


def test_memberships_unpaged_and_role_filter(lms):
    token = lms.access_token("canvas", [NRPS_SCOPE])
    url = lms.url + "/courses/course-1/memberships"
    whole = lms.call("GET", url, token)
    assert len(whole.json()["members"]) == 5 and next_link(whole) is None
    teachers = lms.call("GET", url + "?role=Instructor", token).json()["members"]
    assert [m["user_id"] for m in teachers] == ["u-instructor-1"]


def test_memberships_need_the_nrps_scope(lms):
    url = lms.url + "/courses/course-1/memberships"
    assert lms.call("GET", url, None).status_code == 401
    assert lms.call("GET", url, lms.access_token("moodle", [AGS + "score"])).status_code == 403
    assert lms.call("GET", lms.url + "/courses/course-9/memberships", lms.access_token("moodle")).status_code == 404
    assert lms.call("GET", url + "?limit=0", lms.access_token("moodle")).status_code == 400
