"""Random failures (fail_rate): a share of service calls fail, reproducibly with a seed, in every worker."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from devlms_helpers import scores_url
from flask import Flask

from lti_tool import devlms

ROOT = Path(__file__).resolve().parents[2]
MEMBERSHIPS = "/courses/course-1/memberships"


def set_faults(lms, **spec) -> dict:
    response = lms.http.post(lms.url + "/api/faults", json=spec, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def stats(lms) -> dict:
    return lms.http.get(lms.url + "/api/stats", timeout=10).json()


def nrps_statuses(lms, token: str, calls: int) -> list[tuple[int, str | None]]:
    """(status, Retry-After) of calls NRPS requests."""
    out = []
    for _ in range(calls):
        response = lms.call("GET", lms.url + MEMBERSHIPS, token)
        out.append((response.status_code, response.headers.get("Retry-After")))
    return out


def test_rate_with_seed_fails_about_that_share_of_200_calls(lms):
    token = lms.access_token("moodle")
    state = set_faults(lms, fail_rate=0.3, fail_seed=1234)
    assert state["fail_rate"] == 0.3 and state["fail_statuses"] == [503, 500, 429]
    assert state["fail_target"] == "services" and state["fail_seed"] == 1234 and state["fail_seed_draws"] == 0
    answers = nrps_statuses(lms, token, 200)
    failed = [(s, retry) for s, retry in answers if s != 200]
    assert 0.15 * 200 <= len(failed) <= 0.45 * 200, len(failed)
    assert {s for s, _ in failed} <= {503, 500, 429}
    assert len({s for s, _ in failed}) > 1  # each failure picks a status
    for status, retry in failed:
        assert retry == ("1" if status in (429, 503) else None), (status, retry)
    assert stats(lms)["faults_injected"] == len(failed)
    assert lms.http.get(lms.url + "/api/faults", timeout=10).json()["fail_seed_draws"] == 200


def test_same_seed_same_outcomes(lms):
    token = lms.access_token("moodle")
    runs = []
    for _ in range(2):
        set_faults(lms, fail_rate=0.5, fail_seed=99, fail_statuses=[502, 429])
        runs.append([s for s, _ in nrps_statuses(lms, token, 40)])
    assert runs[0] == runs[1] and {502, 429, 200} >= set(runs[0]) and 200 in runs[0] and len(set(runs[0])) > 1
    set_faults(lms, fail_rate=0.5, fail_seed=100, fail_statuses=[502, 429])
    assert [s for s, _ in nrps_statuses(lms, token, 40)] != runs[0]


def test_unseeded_rate_fails_some_and_counts_them(lms):
    token = lms.access_token("canvas")
    set_faults(lms, fail_rate=0.3, fail_statuses=[500])
    statuses = [s for s, _ in nrps_statuses(lms, token, 200)]
    failures = statuses.count(500)
    assert 0.15 * 200 <= failures <= 0.45 * 200 and failures + statuses.count(200) == 200
    assert stats(lms)["faults_injected"] == failures
    assert lms.http.get(lms.url + "/api/faults", timeout=10).json()["fail_seed_draws"] is None


@pytest.mark.parametrize("clear", [{"fail_rate": 0}, {"fail_rate": None}])
def test_rate_zero_or_null_clears_and_fails_nothing(lms, clear):
    token = lms.access_token("moodle")
    set_faults(lms, fail_rate=1.0, fail_seed=5)
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code != 200
    state = set_faults(lms, **clear)
    assert state["fail_rate"] is None and state["fail_statuses"] is None and state["fail_seed"] is None
    assert all(s == 200 for s, _ in nrps_statuses(lms, token, 200))
    assert stats(lms)["faults_injected"] == 1


def test_rate_zero_from_the_start_fails_nothing(lms):
    token = lms.access_token("moodle")
    set_faults(lms, fail_rate=0, fail_seed=3)
    assert all(s == 200 for s, _ in nrps_statuses(lms, token, 200))
    assert stats(lms)["faults_injected"] == 0


def test_delete_clears_the_rate(lms):
    token = lms.access_token("moodle")
    set_faults(lms, fail_rate=1, fail_statuses=[503])
    response = lms.call("GET", lms.url + MEMBERSHIPS, token)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    cleared = lms.http.delete(lms.url + "/api/faults", timeout=10).json()
    assert cleared["fail_rate"] is None
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code == 200


def test_target_token_fails_only_the_token_endpoint(lms, line_item_url):
    token = lms.access_token("moodle")
    set_faults(lms, fail_rate=1, fail_target="token", fail_statuses=[429])
    refused = lms.token_request(lms.assertion())
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == "temporarily_unavailable"
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code == 200
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 200
    counted = stats(lms)
    assert counted["token_errors"] == 1 and counted["token_errors:practice-moodle"] == 1


def test_target_ags_leaves_nrps_and_tokens_alone(lms, line_item_url):
    token = lms.access_token("moodle")
    set_faults(lms, fail_rate=1, fail_target="ags", fail_statuses=[500])
    assert lms.score(scores_url(line_item_url), token, "u-learner-1").status_code == 500
    assert lms.call("GET", line_item_url, token).status_code == 500
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code == 200
    assert lms.token_request(lms.assertion()).status_code == 200


def test_fail_next_goes_before_the_rate(lms):
    token = lms.access_token("moodle")
    set_faults(lms, fail_next=1, status=418, target="nrps", fail_rate=1, fail_statuses=[500])
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code == 418
    assert lms.call("GET", lms.url + MEMBERSHIPS, token).status_code == 500


def test_other_faults_survive_setting_the_rate(lms):
    set_faults(lms, bad_request_user="u-learner-2")
    state = set_faults(lms, fail_rate=0.25)
    assert state["bad_request_user"] == "u-learner-2" and state["fail_rate"] == 0.25
    assert set_faults(lms, fail_rate=None)["bad_request_user"] == "u-learner-2"


@pytest.mark.parametrize("spec", [
    {"fail_rate": 1.5}, {"fail_rate": -0.1}, {"fail_rate": "often"}, {"fail_rate": True},
    {"fail_rate": 0.3, "fail_statuses": []}, {"fail_rate": 0.3, "fail_statuses": [200]},
    {"fail_rate": 0.3, "fail_statuses": 503}, {"fail_rate": 0.3, "fail_statuses": ["503"]},
    {"fail_rate": 0.3, "fail_target": "lti"}, {"fail_rate": 0.3, "fail_seed": "abc"}, {"fail_rate": 0.3, "fail_seed": 1.5},
    {"fail_seed": 4}, {"fail_statuses": [503]},
])
def test_bad_rate_specs_are_refused(lms, spec):
    response = lms.http.post(lms.url + "/api/faults", json=spec, timeout=10)
    assert response.status_code == 400, spec
    assert lms.http.get(lms.url + "/api/faults", timeout=10).json()["fail_rate"] is None


def test_gradebook_page_shows_the_rate(lms):
    set_faults(lms, fail_rate=0.3, fail_seed=8, fail_statuses=[503, 502])
    page = lms.http.get(lms.url + "/gradebook", timeout=10).text
    assert "30.0% of services calls answer 503/502 (seed 8)" in page


WORKER = """
import json, sys
from flask import Flask
from lti_tool import devlms
app = Flask("worker", instance_path=sys.argv[2])
app.config.update(TOOL_BASE_URL="http://127.0.0.1:9", DEVLMS_DB_PATH=sys.argv[1])
devlms.init_app(app)
client = app.test_client()
statuses = [client.get("/dev/lms/courses/course-1/memberships").status_code for _ in range(int(sys.argv[3]))]
print(json.dumps(statuses))
"""


def _app(db: str, tmp_path: Path) -> Flask:
    app = Flask("parent", instance_path=str(tmp_path))
    app.config.update(TOOL_BASE_URL="http://127.0.0.1:9", DEVLMS_DB_PATH=db)
    devlms.init_app(app)
    return app


def test_seeded_rate_is_shared_by_worker_processes(tmp_path):
    """The n-th call draws the same outcome whichever process serves it: 4 workers x 30 calls fail
    exactly as often as 120 calls in one process did (each non-failure is a 401: no bearer token)."""
    spec = {"fail_rate": 0.3, "fail_seed": 42, "fail_statuses": [503]}
    reference = _app(str(tmp_path / "reference.sqlite3"), tmp_path).test_client()
    assert reference.post("/dev/lms/api/faults", json=spec).status_code == 200
    expected = [reference.get("/dev/lms/courses/course-1/memberships").status_code for _ in range(120)].count(503)
    assert 0.15 * 120 <= expected <= 0.45 * 120

    db = str(tmp_path / "shared.sqlite3")
    app = _app(db, tmp_path)
    assert app.test_client().post("/dev/lms/api/faults", json=spec).status_code == 200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db, str(tmp_path), "30"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    statuses = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        statuses += json.loads(out.strip().splitlines()[-1])
    assert statuses.count(503) == expected and statuses.count(401) == 120 - expected
    client = app.test_client()
    assert client.get("/dev/lms/api/stats").get_json()["faults_injected"] == expected
    assert client.get("/dev/lms/api/faults").get_json()["fail_seed_draws"] == 120
