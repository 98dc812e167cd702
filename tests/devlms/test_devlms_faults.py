"""Fault injection: kept in the database, so every worker (and every app on the same file) sees it."""
from __future__ import annotations

import time

from devlms_helpers import now_iso, scores_url
from flask import Flask

from lti_tool import devlms


def set_faults(lms, **spec) -> dict:
    response = lms.http.post(lms.url + "/api/faults", json=spec, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_fail_next_token_calls(lms):
    set_faults(lms, fail_next=2, status=503, target="token")
    for _ in range(2):
        response = lms.token_request(lms.assertion())
        assert response.status_code == 503 and response.headers["Retry-After"]
    assert lms.token_request(lms.assertion()).status_code == 200
    assert lms.http.get(lms.url + "/api/faults", timeout=10).json()["fail_next"] is None


def test_fail_next_targets_only_what_was_asked(lms, line_item_url):
    token = lms.access_token("moodle")
    set_faults(lms, fail_next=1, status=500, target="ags")
    assert lms.token_request(lms.assertion()).status_code == 200
    assert lms.call("GET", lms.url + "/courses/course-1/memberships", token).status_code == 200
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 500
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 200


def test_down_for_a_while(lms, line_item_url):
    token = lms.access_token("moodle")
    state = set_faults(lms, down_seconds=0.6)
    assert state["down_remaining_seconds"] > 0
    assert lms.token_request(lms.assertion()).status_code == 503
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 503
    time.sleep(0.7)
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 200


def test_conflict_unauthorized_and_bad_user(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    set_faults(lms, conflict_next_score=True, unauthorized_once=True, bad_request_user="u-learner-2")
    first = lms.score(url, token, "u-learner-1")
    assert first.status_code == 401 and "Bearer" in first.headers["WWW-Authenticate"]
    assert lms.score(url, token, "u-learner-1").status_code == 409
    assert lms.score(url, token, "u-learner-1", timestamp=now_iso()).status_code == 200
    assert lms.score(url, token, "u-learner-2").status_code == 400
    assert lms.score(url, token, "u-learner-2").status_code == 400
    stats = lms.http.get(lms.url + "/api/stats", timeout=10).json()
    assert stats["faults_injected"] >= 2 and stats["scores_refused"] == 3


def test_bad_fault_requests(lms):
    for spec in ({"explode": True}, {"fail_next": 1, "status": 200}, {"fail_next": -1}, {"down_seconds": "long"}):
        assert lms.http.post(lms.url + "/api/faults", json=spec, timeout=10).status_code == 400, spec


def test_faults_are_shared_through_the_database(lms, devlms_server, tmp_path):
    set_faults(lms, fail_next=3, status=429, target="nrps")
    other = Flask("another_worker", instance_path=str(tmp_path))
    other.config.update(devlms_server.app.config)
    devlms.init_app(other)
    seen = other.test_client().get("/dev/lms/api/faults").get_json()
    assert seen["fail_next"] == {"count": 3, "status": 429, "target": "nrps"}
    assert lms.http.delete(lms.url + "/api/faults", timeout=10).json()["fail_next"] is None
