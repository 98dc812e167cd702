"""The instructor's pages over HTTP: the class, one learner, the map, exports, grades, and who may see them."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict

import pytest
import requests
from bs4 import BeautifulSoup
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.gradebook import PracticeLMS, outbox, wait_for
from tests.lms import Browser, resign, submit
from tests.worksheet_client import Learner, complete_data, forget, row

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def tokens_of(response) -> tuple[str, str]:
    node = soup(response).find(id="launch")
    return node["data-launch-token"], node["data-csrf-token"]


@pytest.fixture(scope="module")
def classroom(tool):
    """Two learners who submitted (both naming the makerspace, spelled differently), one with a draft."""
    for sub in ("u-learner-1", "u-learner-2", "u-learner-3"):
        forget(tool.app, sub)
    maya = Learner.launch(tool.base_url, "u-learner-1")
    data = complete_data()
    data["rows"] = [row("Teen Makerspace", "3D printers", "Few mentors", "Recruit volunteers", "formal"),
                    row("=HYPERLINK(\"http://evil\")", "x", "y", "z", "informal")]
    assert maya.autosave(data, None, action="submit").status_code == 200
    nasrin = Learner.launch(tool.base_url, "u-learner-2")
    data = complete_data()
    data["rows"] = [row("teen  makerspace!", "کتابخانه مرکزی", "Noise", "Quiet hours", "informal")]
    assert nasrin.autosave(data, None, action="submit").status_code == 200
    learner3 = Learner.launch(tool.base_url, "u-learner-3")
    assert learner3.autosave({"rows": [row("Draft only")], "answers": {}}, None).status_code == 200
    return {"maya": maya, "nasrin": nasrin}


@pytest.fixture()
def instructor(tool, classroom):
    browser = Browser(tool.base_url)
    page = browser.launch("u-instructor-1")
    assert page.status_code == 200
    token, csrf = tokens_of(page)
    return browser, page, token, csrf


def person_id(tool, sub: str) -> int:
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Person

    with tool.app.app_context():
        return db.session.scalars(select(Person.id).where(Person.sub == sub)).first()


def test_dashboard_shows_everyone_with_their_state(tool, instructor):
    _, page, _, _ = instructor
    rows = {tr["data-sub"]: tr for tr in soup(page).select("#class-table tbody tr")}
    assert rows["u-learner-1"]["data-status"] == "submitted" and rows["u-learner-2"]["data-status"] == "submitted"
    assert rows["u-learner-3"]["data-status"] == "draft"
    assert rows["u-test-student"]["data-status"] == "not_started"
    assert "Learner u-learner-3" in rows["u-learner-3"].get_text(), "no name or email: still shown sensibly"
    assert "u-instructor-1" not in rows, "instructors are not listed as learners"
    counts = {a["data-status"]: int(a.select_one(".count").get_text()) for a in soup(page).select("#counts a[data-status]")}
    shown = {k: sum(1 for tr in rows.values() if tr["data-status"] == k) for k in counts}
    assert counts == shown and counts["submitted"] >= 2 and counts["draft"] >= 1
    wait_for(lambda: all(outbox(tool.app, s)[-1].status == "sent" for s in ("u-learner-1", "u-learner-2")), what="grades")


def test_dashboard_filters_and_sorts(tool, instructor):
    browser, _, token, _ = instructor
    page = browser.http.get(f"{tool.base_url}/instructor/", params={"lt": token, "status": "submitted", "sort": "submitted"})
    subs = [tr["data-sub"] for tr in soup(page).select("#class-table tbody tr")]
    assert {tr["data-status"] for tr in soup(page).select("#class-table tbody tr")} == {"submitted"}
    mine = [s for s in subs if s in ("u-learner-1", "u-learner-2")]
    assert mine == ["u-learner-2", "u-learner-1"], "newest submission first"


def test_grade_state_shows_on_the_dashboard(tool, instructor):
    browser, _, token, _ = instructor
    wait_for(lambda: outbox(tool.app, "u-learner-1")[-1].status == "sent", what="grade")
    page = browser.http.get(f"{tool.base_url}/instructor/", params={"lt": token})
    cell = soup(page).select_one('tr[data-sub="u-learner-1"] td.grade')
    assert cell["data-grade"] == "sent"


def test_one_learners_worksheet_with_revisions(tool, instructor):
    browser, _, token, _ = instructor
    page = browser.http.get(f"{tool.base_url}/instructor/learner/{person_id(tool, 'u-learner-2')}", params={"lt": token})
    assert page.status_code == 200
    view = soup(page)
    cells = [td.get_text() for td in view.select(".ws-readonly td")]
    assert "کتابخانه مرکزی" in cells and all(td.get("dir") == "auto" for td in view.select(".ws-readonly td"))
    assert [d["data-kind"] for d in view.select("details.revision")] == ["submit"]


def test_feedback_goes_to_the_gradebook_with_the_grade(tool, instructor):
    browser, _, token, csrf = instructor
    lms = PracticeLMS(tool.base_url)
    pid = person_id(tool, "u-learner-1")
    url = f"{tool.base_url}/instructor/learner/{pid}/feedback"
    response = browser.http.post(url, data={"launch_token": token, "csrf_token": csrf, "feedback": "Lovely map — well done"})
    assert response.status_code == 200 and "sent again" in response.text
    wait_for(lambda: (r := lms.result("u-learner-1")) and r["comment"] == "Lovely map — well done", what="the comment")
    browser.http.post(url, data={"launch_token": token, "csrf_token": csrf, "feedback": "Changed my mind"})
    wait_for(lambda: lms.result("u-learner-1")["comment"] == "Changed my mind", what="the changed comment")


def test_resend_one_and_all_with_fresh_timestamps(tool, instructor):
    browser, _, token, csrf = instructor
    lms = PracticeLMS(tool.base_url)
    wait_for(lambda: all(outbox(tool.app, s)[-1].status == "sent" for s in ("u-learner-1", "u-learner-2")), what="grades")
    before = lms.result("u-learner-1")["timestamp"]
    pid = person_id(tool, "u-learner-1")
    response = browser.http.post(f"{tool.base_url}/instructor/learner/{pid}/resend", data={"launch_token": token, "csrf_token": csrf})
    assert response.status_code == 200
    wait_for(lambda: lms.result("u-learner-1")["timestamp"] > before, what="a re-sent grade")
    both = {s: lms.result(s)["timestamp"] for s in ("u-learner-1", "u-learner-2")}
    response = browser.http.post(f"{tool.base_url}/instructor/grades/resend", data={"launch_token": token, "csrf_token": csrf})
    assert response.status_code == 200 and "queued to be sent again" in response.text
    wait_for(lambda: all(lms.result(s)["timestamp"] > both[s] for s in both), what="every grade re-sent")


def test_partnership_map_groups_names(tool, instructor):
    browser, _, token, _ = instructor
    page = soup(browser.http.get(f"{tool.base_url}/instructor/map", params={"lt": token}))
    group = page.select_one('article.partnership[data-key="teen makerspace"]')
    assert group is not None
    text = group.get_text(" ", strip=True)
    assert "2 learners named it" in text and "formal: 1" in text and "informal: 1" in text
    assert "3D printers" in text and "کتابخانه مرکزی" in text


def test_csv_exports_read_back(tool, instructor):
    browser, _, token, _ = instructor
    response = browser.http.get(f"{tool.base_url}/instructor/export/entries.csv", params={"lt": token})
    assert response.headers["Content-Type"].startswith("text/csv") and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_name = {r["Partnership"]: r for r in rows}
    assert by_name["teen  makerspace!"]["Strengths"] == "کتابخانه مرکزی" and by_name["teen  makerspace!"]["Status"] == "submitted"
    assert "'=HYPERLINK(\"http://evil\")" in by_name, "a formula is neutralised"
    answers = list(csv.DictReader(io.StringIO(browser.http.get(f"{tool.base_url}/instructor/export/answers.csv",
                                                             params={"lt": token}).content.decode("utf-8-sig"))))
    maya = next(r for r in answers if r["Email"] == "maya.chen@example.edu")
    assert maya["Partnerships"] == "2" and any(v == "Answer to talk-more" for v in maya.values())


# --- access --------------------------------------------------------------------------------------

def routes(tool) -> list[tuple[str, str]]:
    pid = person_id(tool, "u-learner-1")
    return [("GET", "/instructor/"), ("GET", f"/instructor/learner/{pid}"), ("GET", "/instructor/map"),
            ("GET", "/instructor/export/entries.csv"), ("GET", "/instructor/export/answers.csv"),
            ("POST", f"/instructor/learner/{pid}/feedback"), ("POST", f"/instructor/learner/{pid}/resend"),
            ("POST", "/instructor/grades/resend")]


def call(tool, method: str, path: str, token: str | None, csrf: str | None = None) -> requests.Response:
    data = {"launch_token": token or "", "csrf_token": csrf or "", "feedback": "x"}
    if method == "GET":
        return requests.get(tool.base_url + path, params={"lt": token} if token else {}, timeout=10)
    return requests.post(tool.base_url + path, data=data, timeout=10, allow_redirects=False)


def test_a_learner_gets_403_on_every_instructor_route(tool, classroom):
    maya = classroom["maya"]
    for method, path in routes(tool):
        assert call(tool, method, path, maya.launch_token, maya.csrf_token).status_code == 403, path


def test_no_token_gets_401_everywhere(tool, classroom):
    for method, path in routes(tool):
        assert call(tool, method, path, None).status_code in (400, 401), path
        if method == "GET":
            assert call(tool, method, path, None).status_code == 401, path


def test_an_expired_token_gets_401(tool, instructor):
    from lti_tool.lti import launch_token

    _, _, token, csrf = instructor
    identity = launch_token.read(token, tool.env["SECRET_KEY"], 3600)

    class Yesterday(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 86400

    old = URLSafeTimedSerializer(tool.env["SECRET_KEY"], salt=launch_token.SALT, signer=Yesterday).dumps(asdict(identity))
    for method, path in routes(tool):
        assert call(tool, method, path, old, csrf).status_code == 401, path


def test_another_courses_instructor_sees_nothing_of_this_course(tool, classroom, lms_key):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-instructor-1"))
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={
        CONTEXT: {"id": "course-other", "label": "OTHER", "title": "Another course"}})
    page = submit(browser.http, form)
    assert page.status_code == 200
    token, csrf = tokens_of(page)
    assert not soup(page).select('#class-table tbody tr[data-sub="u-learner-1"][data-status="submitted"]')
    for method, path in routes(tool):
        response = call(tool, method, path, token, csrf)
        if "/learner/" in path:
            assert response.status_code == 404, path
        elif path.endswith(".csv"):
            assert "Teen Makerspace" not in response.text and "Answer to" not in response.text
        elif method == "GET":
            assert "Teen Makerspace" not in response.text and "کتابخانه" not in response.text, path
    mine = requests.get(f"{tool.base_url}/instructor/map", params={"lt": token}, timeout=10)
    assert "makerspace" not in mine.text.lower()


def test_instructor_writes_need_csrf(tool, instructor):
    _, _, token, _ = instructor
    for method, path in routes(tool):
        if method == "POST":
            assert call(tool, method, path, token, "forged").status_code == 400, path


def test_learner_ids_of_another_platform_are_not_found(tool, instructor):
    browser, _, token, _ = instructor
    canvas = Learner.launch(tool.base_url, "u-learner-1", mode="canvas")
    del canvas
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Person, Platform

    with tool.app.app_context():
        other = db.session.scalars(select(Person.id).join(Platform, Person.platform_id == Platform.id)
                                   .where(Platform.client_id == "practice-canvas")).first()
    response = browser.http.get(f"{tool.base_url}/instructor/learner/{other}", params={"lt": token})
    assert response.status_code == 404


def test_the_roster_follows_nrps_paging(tool, classroom, lms_key):
    """The LMS hands the roster out two members a page: every learner still appears."""
    from tests.lms import unverified

    nrps = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-instructor-1"))
    claim = dict(unverified(form.fields["id_token"])[1][nrps])
    claim["context_memberships_url"] += ("&" if "?" in claim["context_memberships_url"] else "?") + "limit=2"
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={nrps: claim})
    page = submit(browser.http, form)
    subs = {tr["data-sub"] for tr in soup(page).select("#class-table tbody tr")}
    assert {"u-learner-1", "u-learner-2", "u-learner-3", "u-test-student"} <= subs
    assert soup(page).select_one("#roster-source") is None, "the roster came from the LMS"
    stats = requests.get(f"{tool.base_url}/dev/lms/api/stats", timeout=10).json()
    assert stats["nrps_requests"] >= 3, "several pages were fetched"
