"""Load learners: any u-load-<n> (1..100000) is an enrolled learner who can launch and be graded,
but the course page and the NRPS roster still list only the fixed people."""
from __future__ import annotations

import pytest
from devlms_helpers import NRPS_SCOPE, now_iso, scores_url

from lti_tool.devlms import roster

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize("user_id, n", [("u-load-1", 1), ("u-load-7", 7), ("u-load-100000", 100000)])
def test_load_learner_ids(user_id, n):
    person = roster.person(user_id)
    assert person is not None and person.user_id == user_id and person.is_student and not person.test_student
    assert (person.name, person.email, person.locale) == (f"Load learner {n}", f"load{n}@example.edu", "en")
    assert roster.load_learner_number(user_id) == n


@pytest.mark.parametrize("user_id", ["u-load-0", "u-load-100001", "u-load-07", "u-load-", "u-load-1x", "u-load--1",
                                     "U-LOAD-1", " u-load-1", "u-load-1 ", "u-load-٣"])
def test_other_ids_are_nobody(user_id):
    assert roster.person(user_id) is None


@pytest.mark.parametrize("mode, method", [("moodle", "get"), ("canvas", "post")])
def test_load_learner_launches(lms, mode, method):
    launch = lms.launch("u-load-7", mode=mode, method=method)
    if mode == "moodle":
        assert launch.auth_params["login_hint"] == "u-load-7"
    else:
        assert launch.auth_params["login_hint"] != "u-load-7"
    claims = lms.verify(launch.id_token, mode)
    assert claims["sub"] == "u-load-7"
    assert (claims["name"], claims["email"], claims["locale"]) == ("Load learner 7", "load7@example.edu", "en")
    assert claims["given_name"] and claims["family_name"]
    assert claims[LTI + "roles"] == [LIS + "membership#Learner", LIS + "institution/person#Student"]
    assert claims[LTI + "launch_presentation"]["locale"] == "en"
    assert claims[AGS_CLAIM]["lineitem"]


def test_course_page_frames_a_load_learner_launch(lms):
    page = lms.http.get(lms.url + "/", params={"person": "u-load-12", "link": "rl-relationships"}, timeout=10)
    assert page.status_code == 200
    assert "/dev/lms/launch?person=u-load-12&amp;link=rl-relationships" in page.text


def test_unknown_load_ids_cannot_launch(lms):
    for person in ("u-load-0", "u-load-100001", "u-load-007"):
        response = lms.http.get(lms.url + "/launch", params={"person": person, "link": "rl-relationships"}, timeout=10)
        assert response.status_code == 400, person


def test_moodle_takes_load_learner_scores(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    for n in (1, 2, 3, 99999):
        response = lms.score(url, token, f"u-load-{n}", given=n % 5, maximum=4)
        assert response.status_code == 200, response.text
    stamp = now_iso()
    assert lms.score(url, token, "u-load-50", timestamp=stamp).status_code == 200
    assert lms.score(url, token, "u-load-50", timestamp=stamp).status_code == 409  # Moodle's rules apply
    row = lms.gradebook_row("u-load-2")
    assert row["name"] == "Load learner 2" and row["scoreGiven"] == 2 and row["resultScore"] == 0.5
    assert lms.score(url, token, "u-load-100001").status_code == 400
    parts = line_item_url.split("?")
    results = lms.call("GET", parts[0] + "/results?" + parts[1] + "&user_id=u-load-99999", token).json()
    assert [r["userId"] for r in results] == ["u-load-99999"] and results[0]["resultScore"] == 1


def test_canvas_takes_load_learner_scores(lms):
    claim = lms.verify(lms.launch("u-load-3", mode="canvas").id_token, "canvas")[AGS_CLAIM]
    url, token = claim["lineitem"] + "/scores", lms.access_token("canvas")
    ok = lms.score(url, token, "u-load-3", given=1, grading="Pending")
    assert ok.status_code == 200 and ok.json()["resultUrl"].endswith("user_id=u-load-3")
    assert lms.gradebook_row("u-load-3")["scoreGiven"] == 1  # Canvas keeps it while Pending
    assert lms.score(url, token, "u-load-3", timestamp=now_iso(-60)).status_code == 400
    assert lms.score(url, token, "u-load-0").status_code == 422


def test_gradebook_lists_only_load_learners_with_results(lms, line_item_url):
    book = lms.http.get(lms.url + "/api/gradebook", timeout=10).json()
    fixed = [g["userId"] for g in book["lineitems"][0]["grades"]]
    assert fixed == [p.user_id for p in roster.PEOPLE]
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    for user in ("u-load-10", "u-load-9", "u-load-100"):
        assert lms.score(url, token, user).status_code == 200
    book = lms.http.get(lms.url + "/api/gradebook", timeout=10).json()
    ids = [g["userId"] for g in book["lineitems"][0]["grades"]]
    assert ids == fixed + ["u-load-9", "u-load-10", "u-load-100"]
    assert "Load learner 100" in lms.http.get(lms.url + "/gradebook", timeout=10).text


def test_roster_and_course_page_are_unchanged(lms):
    token = lms.access_token("moodle", [NRPS_SCOPE])
    members = lms.call("GET", lms.url + "/courses/course-1/memberships", token).json()["members"]
    assert [m["user_id"] for m in members] == [p.user_id for p in roster.PEOPLE]
    page = lms.http.get(lms.url + "/", timeout=10).text
    assert "u-load-" not in page and "Load learner" not in page
