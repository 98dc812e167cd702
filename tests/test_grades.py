"""Completion grades reach the practice LMS gradebook through the outbox, whatever the LMS does."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.gradebook import PracticeLMS, outbox, wait_for
from tests.lms import Browser, resign, submit, unverified
from tests.worksheet_client import Learner, complete_data, forget, stored

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
BIN = Path(sys.executable).parent / "lti-tool"


@pytest.fixture()
def lms(tool):
    lms = PracticeLMS(tool.base_url)
    lms.clear_faults()
    yield lms
    lms.clear_faults()


def submitted(tool, person: str, **launch) -> Learner:
    forget(tool.app, person)
    learner = Learner.launch(tool.base_url, person, **launch)
    response = learner.autosave(complete_data(), None, action="submit")
    assert response.status_code == 200, response.text
    return learner


def launched_with(tool, person: str, key, *, claims: dict | None = None, drop: tuple = ()) -> Learner:
    """A launch whose id_token the practice LMS signed with some claims changed (e.g. no grade service)."""
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start(person))
    _, body = unverified(form.fields["id_token"])
    changes = {name: change(copy.deepcopy(body)) if callable(change) else change for name, change in (claims or {}).items()}
    form.fields["id_token"] = resign(form.fields["id_token"], key, claims=changes, drop=drop)
    page = submit(browser.http, form)
    assert page.status_code == 200, page.text[:1000]
    node = BeautifulSoup(page.text, "html.parser").find(id="launch")
    return Learner(tool.base_url, browser.http, page, node["data-launch-token"], node["data-csrf-token"])


def accepted(lms: PracticeLMS, user: str) -> list[dict]:
    return [s for s in lms.scores(user_id=user) if s["status"] == 200]


def test_submit_puts_the_completion_grade_in_the_gradebook(tool, lms):
    before = len(accepted(lms, "u-learner-1"))
    submitted(tool, "u-learner-1")
    result = wait_for(lambda: (r := lms.result("u-learner-1")) and r["scoreGiven"] == 1 and r, what="the grade")
    assert (result["activityProgress"], result["gradingProgress"], result["scoreMaximum"]) == ("Completed", "FullyGraded", 1)
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="the outbox row settled")
    posts = accepted(lms, "u-learner-1")[before:]
    assert len(posts) == 1, "sent exactly once"
    assert posts[0]["scoreGiven"] == 1 and posts[0]["timestamp"].endswith("+00:00")


def test_draft_saves_send_nothing_by_default(tool, lms):
    forget(tool.app, "u-learner-3")
    before = len(lms.scores(user_id="u-learner-3"))
    learner = Learner.launch(tool.base_url, "u-learner-3")
    assert learner.autosave(complete_data(), None).status_code == 200
    assert outbox(tool.app, "u-learner-3") == []
    assert len(lms.scores(user_id="u-learner-3")) == before


def test_lms_down_for_five_attempts_then_delivered_once(tool, lms):
    lms.faults(fail_next=5, status=503, target="ags")
    before = lms.scores(user_id="u-learner-2")
    injected = lms.stats().get("faults_injected", 0)
    submitted(tool, "u-learner-2")
    row = wait_for(lambda: (rows := outbox(tool.app, "u-learner-2")) and rows[-1].status == "sent" and rows[-1], timeout=60,
                   what="delivery after the outage")
    posts = lms.scores(user_id="u-learner-2")[len(before):]
    assert [p["status"] for p in posts] == [200], "delivered once (the 503s are answered before the score log)"
    assert row.attempts == 6 and lms.stats()["faults_injected"] == injected + 5


def test_a_409_is_resent_with_a_fresh_timestamp(tool, lms):
    lms.faults(conflict_next_score=1)
    before = lms.scores(user_id="u-learner-1")
    submitted(tool, "u-learner-1")
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="delivery after a 409")
    posts = lms.scores(user_id="u-learner-1")[len(before):]
    assert [p["status"] for p in posts] == [409, 200]
    assert posts[1]["timestamp"] > posts[0]["timestamp"]


def test_a_401_gets_a_new_token_once(tool, lms):
    submitted(tool, "u-learner-1")  # a token is cached now
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="first delivery")
    tokens = lms.stats().get("tokens_issued", 0)
    lms.faults(unauthorized_once=1)
    submitted(tool, "u-learner-1")
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="delivery after a 401")
    assert lms.stats().get("tokens_issued", 0) == tokens + 1


def test_a_400_for_a_non_student_stops_with_a_reason_and_can_be_retried(tool, lms):
    lms.faults(bad_request_user="u-learner-3")
    submitted(tool, "u-learner-3")
    row = wait_for(lambda: (rows := outbox(tool.app, "u-learner-3")) and rows[-1].status == "failed" and rows[-1],
                   what="a permanent failure")
    assert row.last_http_status == 400 and "not students" in row.last_error and row.attempts == 1

    env = {**os.environ, **tool.env, "DEV_LMS": "1"}
    status = subprocess.run([str(BIN), "grades", "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and f"failed #{row.id}" in status.stdout and "400" in status.stdout

    lms.clear_faults()
    retried = subprocess.run([str(BIN), "grades", "retry", str(row.id)], env=env, capture_output=True, text=True, timeout=60)
    assert "queued 1 grade(s) again" in retried.stdout
    wait_for(lambda: outbox(tool.app, "u-learner-3")[-1].status == "sent", what="delivery after retry")


def test_canvas_test_student_is_refused_with_a_reason(tool, lms):
    submitted(tool, "u-test-student", mode="canvas")
    row = wait_for(lambda: (rows := outbox(tool.app, "u-test-student")) and rows[-1].status == "failed" and rows[-1],
                   what="a 422")
    assert row.last_http_status == 422 and "Test Student" in row.last_error


def test_a_newer_submit_replaces_an_undelivered_grade(tool, lms):
    lms.faults(down_seconds=3)
    learner = submitted(tool, "u-learner-2")
    data = complete_data()
    data["rows"][0]["strengths"] = "second submit"
    version = stored(tool.app, "u-learner-2")[0].version
    assert learner.autosave(data, version, action="submit").status_code == 200
    rows = wait_for(lambda: (rows := outbox(tool.app, "u-learner-2")) and rows[-1].status == "sent" and rows, timeout=30,
                    what="the newest grade delivered")
    assert [r.status for r in rows[-2:]] == ["superseded", "sent"]


def test_without_grade_services_the_reason_says_how_to_turn_them_on(tool, lms, lms_key):
    forget(tool.app, "u-learner-1")
    learner = launched_with(tool, "u-learner-1", lms_key, drop=(AGS,),
                            claims={LINK: {"id": f"rl-nogrades-{uuid.uuid4().hex[:6]}", "title": "No grades"},
                                    CUSTOM: {"page": "relationships"}})
    assert learner.autosave(complete_data(), None, action="submit").status_code == 200
    row = wait_for(lambda: (rows := outbox(tool.app, "u-learner-1")) and rows[-1].status == "failed" and rows[-1],
                   what="a failure without grade services")
    assert "Moodle" in row.last_error and "Canvas" in row.last_error and row.attempts == 1


def test_without_a_lineitem_claim_one_is_created_by_resource_link(tool, lms, lms_key):
    link_id = "rl-rethinking"  # a link of the practice course without a line item
    forget(tool.app, "u-learner-1")

    def no_lineitem(body):
        claim = dict(body[AGS])
        claim.pop("lineitem", None)
        return claim

    learner = launched_with(tool, "u-learner-1", lms_key, claims={AGS: no_lineitem, LINK: {"id": link_id, "title": "New"},
                                                                   CUSTOM: {"page": "relationships"}})
    assert learner.autosave(complete_data(), None, action="submit").status_code == 200
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="delivery to a created line item")
    item = next(i for i in lms.lineitems() if i.get("resourceLinkId") == link_id)
    assert item["label"] == "Relationships" and item["scoreMaximum"] == 1
    assert next(g for g in item["grades"] if g["userId"] == "u-learner-1")["scoreGiven"] == 1

    # The second grade uses the remembered line item: no second one is created.
    forget(tool.app, "u-learner-1")
    again = launched_with(tool, "u-learner-1", lms_key, claims={AGS: no_lineitem, LINK: {"id": link_id, "title": "New"},
                                                                 CUSTOM: {"page": "relationships"}})
    assert again.autosave(complete_data(), None, action="submit").status_code == 200
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="second delivery")
    assert len([i for i in lms.lineitems() if i.get("resourceLinkId") == link_id]) == 1


def test_moodle_lineitem_urls_with_a_query_get_scores_before_the_query(tool, lms):
    submitted(tool, "u-learner-1")
    row = wait_for(lambda: (rows := outbox(tool.app, "u-learner-1")) and rows[-1].status == "sent" and rows[-1], what="delivery")
    with tool.app.app_context():
        from lti_tool.extensions import db
        from lti_tool.models import Activity

        assert "?type_id=" in db.session.get(Activity, row.activity_id).ags_lineitem
    assert accepted(lms, "u-learner-1")[-1]["lineitem_id"] == 1


def test_instructor_sees_why_grades_cannot_be_sent(tool, lms_key):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-instructor-1"))
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, drop=(AGS,),
                                     claims={LINK: {"id": "rl-nogrades-instructor", "title": "No grades"}})
    page = submit(browser.http, form)
    assert page.status_code == 200
    notice = BeautifulSoup(page.text, "html.parser").select_one("#no-grade-service")
    assert notice is not None and "Moodle" in notice.get_text() and "Canvas" in notice.get_text()


def test_instructor_sees_failed_grades_with_their_reason(tool, lms):
    lms.faults(bad_request_user="u-learner-3")
    submitted(tool, "u-learner-3")
    wait_for(lambda: outbox(tool.app, "u-learner-3")[-1].status == "failed", what="a failure")
    page = Browser(tool.base_url).launch("u-instructor-1")
    cell = BeautifulSoup(page.text, "html.parser").select_one('tr[data-sub="u-learner-3"] td.grade')
    assert cell["data-grade"] == "failed" and "not students" in cell.get_text()
    assert BeautifulSoup(page.text, "html.parser").select_one("#no-grade-service") is None


@pytest.fixture(scope="module")
def progress_tool(tmp_path_factory):
    """A tool with GRADE_PROGRESS_ON_DRAFT on: starting a worksheet reports InProgress to the gradebook."""
    from tests.conftest import _app_config, prepare_database
    from tests.servers import ToolServer, free_port

    tmp = tmp_path_factory.mktemp("progress")
    port = free_port()
    env = {**_app_config(tmp, port), "GRADE_PROGRESS_ON_DRAFT": "1"}
    prepare_database(env)
    server = ToolServer(env, port=port, log_path=tmp / "server.log").start()
    yield server
    server.stop()


def test_a_first_draft_can_report_in_progress_without_a_score(progress_tool):
    lms = PracticeLMS(progress_tool.base_url)
    learner = Learner.launch(progress_tool.base_url, "u-learner-1")
    data = complete_data()
    version = learner.autosave(data, None).json()["version"]
    result = wait_for(lambda: (r := lms.result("u-learner-1")) and r["activityProgress"] and r, what="InProgress")
    assert (result["activityProgress"], result["gradingProgress"], result["scoreGiven"]) == ("InProgress", "NotReady", None)
    version = learner.autosave(data, version).json()["version"]  # later drafts send nothing more
    assert learner.autosave(data, version, action="submit").status_code == 200
    wait_for(lambda: lms.result("u-learner-1")["scoreGiven"] == 1, what="the completion grade")
    assert [s["activityProgress"] for s in lms.scores(user_id="u-learner-1", status=200)] == ["InProgress", "Completed"]
