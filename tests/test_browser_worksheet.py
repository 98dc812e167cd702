"""Worksheet #6 in real Chromium: a learner launches from the practice course, types, saves, submits.

Every test starts by deleting its learner's worksheet (the session's database is shared), so no
test depends on another. Pages are read through the tool's own URL (the launch token rides in
`lt=`), in the course frame or opened directly, with scripts on and off.
"""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.browser import assert_accessible, chromium

pytestmark = pytest.mark.browser
# The probes below evaluate strings in the page, which the tool's CSP forbids; test_browser_csp.py
# checks the pages under the CSP itself.

LINK = "rl-relationships"
TIMEOUT_MS = 15_000
AUTOSAVE_DEBOUNCE_MS = 1200  # static/worksheet.js
FARSI = "کتابخانه مرکزی"
SCRIPT = "<script>alert(1)</script>"


# --- the database ---------------------------------------------------------------------------------

@dataclass
class Stored:
    """A learner's worksheet as the database holds it."""

    status: str | None = None
    version: int | None = None
    submitted_version: int | None = None
    rows: list[dict[str, str]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    revisions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.revisions]

    def revision(self, kind: str) -> dict[str, Any]:
        found = [data for k, data in self.revisions if k == kind]
        assert found, f"no {kind!r} revision among {self.kinds()}"
        return found[-1]


def _submissions(sub: str):
    from lti_tool.models import Activity, Person, Submission

    return (select(Submission).join(Person, Submission.person_id == Person.id)
            .join(Activity, Submission.activity_id == Activity.id)
            .where(Person.sub == sub, Activity.resource_link_id == LINK))


def forget(tool, sub: str) -> None:
    """Delete the learner's worksheet (entries and revisions go with it), so the test starts from "not started"."""
    from lti_tool.extensions import db

    with tool.app.app_context():
        for submission in db.session.scalars(_submissions(sub)):
            db.session.delete(submission)
        db.session.commit()


def stored(tool, sub: str) -> Stored:
    from lti_tool import submissions
    from lti_tool.extensions import db

    with tool.app.app_context():
        submission = db.session.scalars(_submissions(sub)).first()
        if submission is None:
            return Stored()
        data = submissions.data_of(submission)
        result = Stored(submission.status, submission.version, submission.submitted_version, data["rows"], data["answers"],
                        [(r.kind, r.data) for r in submissions.revisions(submission)])
        db.session.rollback()
        return result


def eventually(read, check, timeout: float = TIMEOUT_MS / 1000):
    """read() until check(value) holds (a later autosave may still be on its way); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def row(partnership: str = "", type: str = "", strengths: str = "", weaknesses: str = "", improvement: str = "") -> dict[str, str]:
    return {"partnership": partnership, "type": type, "strengths": strengths, "weaknesses": weaknesses, "improvement": improvement}


# --- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chrome():
    with chromium() as browser:
        yield browser


@pytest.fixture()
def context(chrome):
    ctx = chrome.new_context(bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture()
def nojs_context(chrome):
    ctx = chrome.new_context(java_script_enabled=False, bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture()
def scriptless_context(chrome):
    """The page as a browser without scripts gets it, but axe can still run: the tool's scripts are blocked.

    (axe.run() never settles in a context with java_script_enabled=False: its timers do not fire.)"""
    ctx = chrome.new_context(bypass_csp=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.route(re.compile(r"/static/.*\.js(\?.*)?$"), lambda route: route.abort())
    yield ctx
    ctx.close()


@pytest.fixture()
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return expect


class Dialogs(list):
    """Every alert/confirm/prompt/beforeunload a page opens (none is expected)."""

    def watch(self, page):
        def seen(dialog):
            self.append(f"{dialog.type}: {dialog.message}")
            dialog.accept() if dialog.type == "beforeunload" else dialog.dismiss()

        page.on("dialog", seen)
        return page


def launch_in_course(page, tool, person: str):
    """Open the practice course, click Launch on the person's row (Relationships): the tool's frame."""
    page.goto(f"{tool.base_url}/dev/lms/")
    row_ = page.locator("tr", has=page.get_by_text(person, exact=True))
    row_.locator(f"a.launch[href*='link={LINK}']").click()
    page.frame_locator("iframe#tool").locator("#worksheet").wait_for()
    frame = page.frame(name="tool")
    assert frame is not None and "/activity?" in frame.url, frame and frame.url
    return frame


def tool_url(chrome, tool, person: str) -> str:
    """The tool's page after a launch (with its launch token `lt=`), to open directly in any context."""
    ctx = chrome.new_context(bypass_csp=True)
    try:
        frame = launch_in_course(ctx.new_page(), tool, person)
        assert "lt=" in frame.url
        return frame.url
    finally:
        ctx.close()


def open_tool(context, url: str):
    page = context.new_page()
    page.goto(url)
    page.locator("#worksheet").wait_for()
    return page


def fill_row(scope, i: int, values: dict[str, str]) -> None:
    for col, value in values.items():
        if col == "type":
            if value:
                scope.locator(f"input[name='rows-{i}-type'][value='{value}']").check()
        else:
            scope.locator(f"#rows-{i}-{col}").fill(value)


def question_ids(scope) -> list[str]:
    return [el.get_attribute("data-question") for el in scope.locator("textarea[data-question]").all()]


def answer_all(scope, prefix: str = "Answer") -> dict[str, str]:
    answers = {}
    for qid in question_ids(scope):
        answers[qid] = f"{prefix} to {qid}"
        scope.locator(f"textarea[data-question='{qid}']").fill(answers[qid])
    return answers


def is_autosave(request) -> bool:
    return request.url.endswith("/api/worksheet") and request.method == "POST"


TRACK_INPUT = """() => {
  if (window.__lastInput !== undefined) { return; }
  window.__lastInput = performance.now();
  for (const type of ["input", "change", "click"]) {
    document.addEventListener(type, () => { window.__lastInput = performance.now(); }, true);
  }
}"""


@contextmanager
def autosave(page, status: int = 200, scope=None) -> Iterator[None]:
    """Around typing in `scope` (the page, or the tool's frame): wait for the page's debounced autosave
    to be answered with `status`, then until typing has been quiet for longer than the debounce and
    every autosave sent meanwhile has its answer (so nothing is still being saved afterwards)."""
    scope = scope or page
    scope.evaluate(TRACK_INPUT)
    sent = []
    listener = lambda request: sent.append(request) if is_autosave(request) else None  # noqa: E731
    page.on("request", listener)
    try:
        with page.expect_response(lambda response: is_autosave(response.request)) as first:
            yield
        answer = first.value
        assert answer.status == status, f"autosave answered {answer.status}: {answer.text()[:500]}"
        scope.wait_for_function(f"performance.now() - window.__lastInput > {AUTOSAVE_DEBOUNCE_MS + 300}")
        for request in sent:
            request.response()
    finally:
        page.remove_listener("request", listener)


def row_values(scope) -> list[str]:
    return [el.input_value() for el in scope.locator(".ws-row input[data-col='partnership']").all()]


# --- 1. a learner's whole journey in the course frame ---------------------------------------------

def test_learner_fills_saves_relaunches_and_submits_in_course_frame(tool, context, expect, tmp_path_factory):
    person = "u-learner-1"
    forget(tool, person)
    dialogs = Dialogs()
    page = dialogs.watch(context.new_page())
    frame = launch_in_course(page, tool, person)
    expect(frame.locator(".submission-status")).to_have_attribute("data-status", "not_started")

    first = row(FARSI, "formal", "Open late; bilingual staff", "Far from the school", "A shared calendar")
    second = row(SCRIPT, "informal", "<b>bold?</b> & \"quotes\"", "None <img src=x onerror=alert(2)>", "Keep it as text")
    with autosave(page, scope=frame):
        fill_row(frame, 0, first)
        frame.locator("#add-row").click()
        expect(frame.locator("#rows-1-partnership")).to_be_focused()
        fill_row(frame, 1, second)
    expect(frame.locator("#save-status")).to_contain_text("Saved at")
    expect(frame.locator(".submission-status")).to_have_attribute("data-status", "draft")

    saved = eventually(lambda: stored(tool, person), lambda s: len(s.rows) == 2)
    assert saved.rows == [first, second]
    assert saved.status == "draft"

    # Launch again from the course: what was typed is back, as text.
    frame = launch_in_course(page, tool, person)
    for i, values in enumerate([first, second]):
        for col in ("partnership", "strengths", "weaknesses", "improvement"):
            expect(frame.locator(f"#rows-{i}-{col}")).to_have_value(values[col])
        expect(frame.locator(f"input[name='rows-{i}-type'][value='{values['type']}']")).to_be_checked()
    expect(frame.locator(".submission-status")).to_contain_text("Draft")
    expect(frame.locator("#save-status")).to_contain_text("Last saved")
    scripts = [s.get_attribute("src") for s in frame.locator("script").all()]
    assert all(src and src.startswith("/static/") for src in scripts), scripts
    assert frame.evaluate("document.querySelectorAll('img[src=x]').length") == 0

    farsi = frame.locator("#rows-0-partnership")
    assert farsi.get_attribute("dir") == "auto"
    assert farsi.evaluate("el => el.matches(':dir(rtl)')"), "the Farsi entry is not shown right to left"
    assert farsi.bounding_box()["width"] > 0
    farsi.screenshot(path=str(tmp_path_factory.getbasetemp() / "worksheet-farsi-field.png"))

    # The print view shows the same text, as text.
    printed = dialogs.watch(context.new_page())
    printed.goto(tool.base_url + frame.locator(".print-link").get_attribute("href"))
    cells = printed.locator(".print-table tbody tr")
    expect(cells).to_have_count(2)
    expect(cells.nth(0).locator("td").first).to_have_text(FARSI)
    expect(cells.nth(1).locator("td").first).to_have_text(SCRIPT)
    assert printed.locator(".print-table script, .print-table img, .print-table b").count() == 0
    printed.close()

    # The reflection questions: each checklist item turns done as its answer is typed.
    checklist = frame.locator("#checklist")
    expect(checklist.locator("li[data-item=rows]")).to_have_class("done")
    qids = question_ids(frame)
    assert qids, "no reflection questions on the page"
    with autosave(page, scope=frame):
        answers = {}
        for qid in qids:
            item = checklist.locator(f"li[data-item='question-{qid}']")
            expect(item).to_have_class("todo")
            answers[qid] = f"Thoughts on {qid}: {FARSI}"
            frame.locator(f"textarea[data-question='{qid}']").fill(answers[qid])
            expect(item).to_have_class("done")
            expect(item.locator(".state")).to_have_text("Done:")

    frame.locator("#submit").click()
    expect(frame.locator("#save-status")).to_have_text("Submitted. Thank you!")
    expect(frame.locator(".submission-status")).to_have_attribute("data-status", "submitted")
    saved = eventually(lambda: stored(tool, person), lambda s: s.status == "submitted")
    assert saved.status == "submitted"
    assert saved.rows == [first, second] and saved.answers == answers
    assert saved.revision("submit") == {"rows": [first, second], "answers": answers}

    # Editing after submitting: the page says the changes are not submitted yet.
    with autosave(page, scope=frame):
        frame.locator(f"textarea[data-question='{qids[0]}']").fill("A second thought")
    expect(frame.locator(".submission-status")).to_contain_text("changes that are not submitted yet")
    saved = eventually(lambda: stored(tool, person), lambda s: s.answers.get(qids[0]) == "A second thought")
    assert saved.status == "submitted" and saved.version != saved.submitted_version
    frame = launch_in_course(page, tool, person)
    expect(frame.locator(".submission-status")).to_contain_text("changes that are not submitted yet")

    assert list(dialogs) == [], f"the page opened dialogs: {list(dialogs)}"


# --- 2. row buttons with scripts on ---------------------------------------------------------------

def test_reorder_and_remove_rows_with_scripts_on(tool, context, expect):
    person = "u-learner-3"
    forget(tool, person)
    page = context.new_page()
    frame = launch_in_course(page, tool, person)
    rows = frame.locator(".ws-row")
    with autosave(page, scope=frame):
        fill_row(frame, 0, {"partnership": "Alpha"})
        frame.locator("#add-row").click()
        fill_row(frame, 1, {"partnership": "Bravo"})
        frame.locator("#add-row").click()
        fill_row(frame, 2, {"partnership": "Charlie", "type": "formal"})
    assert eventually(lambda: [r["partnership"] for r in stored(tool, person).rows], lambda v: len(v) == 3) == ["Alpha", "Bravo", "Charlie"]

    expect(rows.nth(0).get_by_role("button", name="Move up")).to_be_disabled()
    expect(rows.nth(2).get_by_role("button", name="Move down")).to_be_disabled()
    with autosave(page, scope=frame):
        rows.nth(2).get_by_role("button", name="Move up").click()     # Alpha, Charlie, Bravo
        rows.nth(0).get_by_role("button", name="Move down").click()   # Charlie, Alpha, Bravo
        rows.nth(2).get_by_role("button", name="Remove").click()      # Charlie, Alpha
    assert row_values(frame) == ["Charlie", "Alpha"]
    # The rows were renumbered: ids, names, labels and the buttons' values follow the new order.
    expect(frame.locator("#rows-0-partnership")).to_have_value("Charlie")
    expect(frame.locator("input[name='rows-0-type'][value='formal']")).to_be_checked()
    expect(rows.nth(1).locator(".row-number")).to_have_text("2")
    expect(rows.nth(1).get_by_role("button", name="Remove")).to_have_attribute("value", "remove-1")
    expect(rows.nth(1).get_by_role("button", name="Move down")).to_be_disabled()
    expect(frame.locator("#save-status")).to_contain_text("Saved at")

    saved = eventually(lambda: stored(tool, person), lambda s: len(s.rows) == 2)
    assert saved.rows == [row("Charlie", "formal"), row("Alpha")]

    frame = launch_in_course(page, tool, person)
    assert row_values(frame) == ["Charlie", "Alpha"]


def test_autosave_retries_when_the_connection_fails(tool, chrome, context, expect):
    person = "u-learner-3"
    forget(tool, person)
    page = open_tool(context, tool_url(chrome, tool, person))
    context.set_offline(True)
    page.locator("#rows-0-partnership").fill("Typed while offline")
    expect(page.locator("#save-status")).to_contain_text("Retrying in")
    assert stored(tool, person).rows == []
    with page.expect_response(lambda response: is_autosave(response.request) and response.ok):
        context.set_offline(False)
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    assert eventually(lambda: stored(tool, person).rows, bool) == [row("Typed while offline")]


# --- 3. scripts off -------------------------------------------------------------------------------

def test_worksheet_works_with_scripts_off(tool, chrome, nojs_context, expect):
    person = "u-test-student"
    forget(tool, person)
    dialogs = Dialogs()
    page = dialogs.watch(nojs_context.new_page())
    page.goto(tool_url(chrome, tool, person))
    assert page.evaluate("typeof window.ltiTool") == "undefined", "scripts ran in a context without JavaScript"

    first = row("Teen Advisory Board", "informal", "Teens lead", "Meets rarely", "Meet monthly")
    fill_row(page, 0, first)
    page.locator("#add-row").click()
    expect(page.locator("#rows-1-partnership")).to_be_visible()
    expect(page.locator("#rows-0-partnership")).to_have_value(first["partnership"])
    second = row("Makerspace volunteers", "formal", "Tools", "Few volunteers", "Recruit at school")
    fill_row(page, 1, second)
    page.locator("#save-draft").click()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    assert stored(tool, person).rows == [first, second]

    # An incomplete worksheet is not submitted: the summary and the checklist say why.
    page.locator("#submit").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("not complete yet")
    expect(page.locator("#checklist li[data-item=rows]")).to_have_class("done")
    for qid in question_ids(page):
        expect(page.locator(f"#checklist li[data-item='question-{qid}']")).to_have_class("todo")
    saved = stored(tool, person)
    assert saved.status == "draft" and "submit" not in saved.kinds()

    # A field too long for the server (a browser that ignores maxlength): the error is beside the field.
    too_long = "x" * (int(page.locator("#rows-0-strengths").get_attribute("maxlength")) + 1)
    with_too_long_field(page, "rows-0-strengths", too_long)
    page.locator("#save-draft").click()
    error = page.locator("#rows-0-strengths-error")
    expect(error).to_be_visible()
    expect(page.locator("#rows-0-strengths")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#rows-0-strengths")).to_have_attribute("aria-describedby", "rows-0-strengths-error")
    expect(page.locator(".col-strengths").first.locator(".field-error")).to_have_id("rows-0-strengths-error")
    expect(page.locator("#error-summary a[href='#rows-0-strengths']")).to_be_visible()
    assert stored(tool, person).rows[0]["strengths"] == first["strengths"]
    page.unroute("**/activity")
    page.locator("#rows-0-strengths").fill(first["strengths"])

    answers = answer_all(page)
    page.locator("#submit").click()
    expect(page.locator("#save-status")).to_have_text("Submitted. Thank you!")
    expect(page.locator(".submission-status")).to_have_attribute("data-status", "submitted")
    saved = stored(tool, person)
    assert saved.status == "submitted" and saved.rows == [first, second] and saved.answers == answers
    assert saved.revision("submit") == {"rows": [first, second], "answers": answers}
    assert list(dialogs) == []


def with_too_long_field(page, name: str, value: str) -> None:
    """Rewrite the next form post so `name` carries `value` (as a browser not enforcing maxlength would)."""
    from urllib.parse import parse_qsl, urlencode

    def rewrite(route):
        request = route.request
        if request.method != "POST":
            return route.continue_()
        fields = [(k, value if k == name else v) for k, v in parse_qsl(request.post_data or "", keep_blank_values=True)]
        route.continue_(post_data=urlencode(fields))

    page.route("**/activity", rewrite)


@pytest.mark.parametrize("button, expected", [("Remove", ["Bravo"]), ("Move down", ["Bravo", "Alpha"])])
def test_row_buttons_with_scripts_off_keep_what_the_page_shows(tool, chrome, nojs_context, expect, button, expected):
    person = "u-test-student"
    forget(tool, person)
    page = nojs_context.new_page()
    page.goto(tool_url(chrome, tool, person))
    fill_row(page, 0, {"partnership": "Alpha"})
    page.locator("#add-row").click()
    fill_row(page, 1, {"partnership": "Bravo"})
    page.locator("#save-draft").click()
    expect(page.locator("#save-status")).to_contain_text("Saved at")
    page.locator(".ws-row").nth(0).get_by_role("button", name=button).click()
    expect(page.locator(".ws-row")).to_have_count(len(expected))
    assert row_values(page) == expected
    # The page shows the change as done; the learner leaves (nothing else is pressed) and comes back.
    assert [r["partnership"] for r in stored(tool, person).rows] == expected


# --- 4. two tabs ----------------------------------------------------------------------------------

def test_second_tab_gets_a_conflict_not_a_silent_overwrite(tool, chrome, context, expect):
    person = "u-learner-2"
    forget(tool, person)
    url = tool_url(chrome, tool, person)
    tab_a, tab_b = open_tool(context, url), open_tool(context, url)

    mine_a = row("Tab A library", "formal", "From tab A")
    with autosave(tab_a):
        fill_row(tab_a, 0, mine_a)
    expect(tab_a.locator("#save-status")).to_contain_text("Saved at")

    mine_b = row("Tab B library", "informal", "From tab B")
    with autosave(tab_b, status=409):
        fill_row(tab_b, 0, mine_b)
    notice = tab_b.locator("#conflict-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("changed in another tab")
    expect(tab_b.locator("#save-status")).to_contain_text("Not saved")
    expect(tab_b.locator("#rows-0-partnership")).to_have_value(mine_b["partnership"])
    saved = eventually(lambda: stored(tool, person), lambda s: "conflict" in s.kinds())
    assert saved.rows == [mine_a], "tab B overwrote tab A's save"
    assert saved.revision("conflict")["rows"] == [mine_b]

    with autosave(tab_b):
        notice.get_by_role("button", name="Keep my version").click()
    expect(notice).to_be_hidden()
    expect(tab_b.locator("#save-status")).to_contain_text("Saved at")
    saved = eventually(lambda: stored(tool, person), lambda s: s.rows == [mine_b])
    assert saved.rows == [mine_b]
    assert saved.revision("replaced")["rows"] == [mine_a], f"tab A's version was not kept: {saved.revisions}"

    # Tab A is now behind: its next save is a conflict too, not an overwrite of B's.
    with autosave(tab_a, status=409):
        tab_a.locator("#rows-0-weaknesses").fill("Typed later in tab A")
    expect(tab_a.locator("#conflict-notice")).to_be_visible()
    assert stored(tool, person).rows == [mine_b]

    # Tab A takes the other version instead: its form shows B's, and its next save is based on it.
    tab_a.locator("#conflict-notice").get_by_role("button", name="Use the other version").click()
    expect(tab_a.locator("#rows-0-partnership")).to_have_value(mine_b["partnership"])
    expect(tab_a.locator("#rows-0-weaknesses")).to_have_value("")
    with autosave(tab_a):
        tab_a.locator("#rows-0-improvement").fill("Agreed in tab A")
    assert eventually(lambda: stored(tool, person).rows, lambda r: r[0]["improvement"]) == [{**mine_b, "improvement": "Agreed in tab A"}]


def test_second_tab_without_scripts_gets_a_conflict_and_can_keep_its_version(tool, chrome, nojs_context, expect):
    person = "u-learner-2"
    forget(tool, person)
    url = tool_url(chrome, tool, person)
    tab_a, tab_b = nojs_context.new_page(), nojs_context.new_page()
    tab_a.goto(url)
    tab_b.goto(url)

    mine_a, mine_b = row("Saved in A", "formal"), row("Saved in B", "informal")
    fill_row(tab_a, 0, mine_a)
    tab_a.locator("#save-draft").click()
    expect(tab_a.locator("#save-status")).to_contain_text("Saved at")
    fill_row(tab_b, 0, mine_b)
    tab_b.locator("#save-draft").click()
    expect(tab_b.locator("#conflict-notice")).to_be_visible()
    expect(tab_b.locator("#rows-0-partnership")).to_have_value(mine_b["partnership"])
    saved = stored(tool, person)
    assert saved.rows == [mine_a] and saved.revision("conflict")["rows"] == [mine_b]

    tab_b.locator("#keep-mine").click()
    expect(tab_b.locator("#save-status")).to_contain_text("Saved at")
    expect(tab_b.locator("#conflict-notice")).to_have_count(0)
    saved = stored(tool, person)
    assert saved.rows == [mine_b]
    assert saved.revision("replaced")["rows"] == [mine_a]


# --- 5. the frame follows the page's height -------------------------------------------------------

RESIZE_LISTENER = """
window.__resizes = [];
window.addEventListener("message", function (e) {
  if (e.data && e.data.subject === "lti.frameResize") { window.__resizes.push(e.data.height); }
});
"""


LAST_RESIZE = "window.__resizes.length ? window.__resizes[window.__resizes.length - 1] : 0"
CONTENT_HEIGHT = "Math.ceil(document.body.getBoundingClientRect().height)"


def test_tool_asks_the_course_page_to_resize_its_frame(tool, context, expect):
    person = "u-learner-3"
    forget(tool, person)
    page = context.new_page()
    page.add_init_script(RESIZE_LISTENER)
    frame = launch_in_course(page, tool, person)
    iframe = page.locator("iframe#tool")

    def frame_follows_content() -> int:
        """Wait until the last message asked for the content's height and the frame took it; that height."""
        page.wait_for_function(f"Math.abs(({LAST_RESIZE}) - document.getElementById('tool').contentWindow.eval('{CONTENT_HEIGHT}')) <= 1")
        height = page.evaluate(LAST_RESIZE)
        expect(iframe).to_have_attribute("style", re.compile(rf"height:\s*{height}px"))
        assert iframe.evaluate("el => el.getBoundingClientRect().height") == pytest.approx(height, abs=1)
        # no scroll bar inside the frame, and no blank space below the page either
        assert frame.evaluate("document.documentElement.scrollHeight") <= height + 1
        return height

    height = frame_follows_content()
    assert height > 720, "the page is taller than the frame's default height"

    # Adding rows makes the page taller: the frame grows with it.
    for _ in range(2):
        frame.locator("#add-row").click()
    page.wait_for_function(f"({LAST_RESIZE}) > {height}")
    taller = frame_follows_content()

    # Removing them again: the frame shrinks back (it does not keep a blank tail).
    for _ in range(2):
        frame.locator(".ws-row").last.get_by_role("button", name="Remove").click()
    page.wait_for_function(f"({LAST_RESIZE}) < {taller}")
    assert frame_follows_content() <= height + 50  # the status line may read differently now
    assert page.evaluate("window.__resizes.length") < 50, "the frame keeps resizing"


# --- 6. a narrow frame ----------------------------------------------------------------------------

OVERFLOW = """() => {
  const root = document.documentElement, limit = root.clientWidth + 1;
  const scrolls = el => { const s = getComputedStyle(el); return el !== root && el !== document.body && /(auto|scroll|hidden)/.test(s.overflowX); };
  const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) { if (scrolls(p)) return true; } return false; };
  const wide = [...document.body.querySelectorAll("*")]
    .filter(el => el.getBoundingClientRect().right > limit && !inScroller(el))
    .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : ""));
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 10) };
}"""


def assert_no_horizontal_scroll(scope, what: str) -> None:
    found = scope.evaluate(OVERFLOW)
    assert found["scrollWidth"] <= found["clientWidth"] + 1, f"{what} scrolls sideways: {found}"


@pytest.mark.parametrize("where", ["course frame", "top level"])
def test_narrow_screen_has_no_sideways_scrolling(tool, chrome, expect, where):
    person = "u-learner-3"
    forget(tool, person)
    ctx = chrome.new_context(bypass_csp=True, viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        if where == "course frame":
            scope = launch_in_course(page, tool, person)
        else:
            page.goto(tool_url(chrome, tool, person))
            scope = page
        assert scope.evaluate("document.documentElement.clientWidth") <= 360
        with autosave(page, scope=scope):
            fill_row(scope, 0, row("https://example.org/a-very-long-partnership-name-without-any-spaces-at-all", "formal",
                                   "Strengths" * 20, "Weaknesses", "Improve"))
        assert_no_horizontal_scroll(scope, f"the worksheet ({where})")
        table = scope.locator(".course-page table").first
        if table.count():
            assert table.evaluate("el => getComputedStyle(el).overflowX") in ("auto", "scroll")

        scope.goto(tool.base_url + scope.locator(".print-link").get_attribute("href"))
        scope.locator(".print-table").wait_for()
        assert_no_horizontal_scroll(scope, f"the print view ({where})")
    finally:
        ctx.close()


# --- 7. accessibility (axe-core, WCAG 2.1 A and AA), on the tool's own page ------------------------

def _state_empty(tool, chrome, context, scriptless, person):
    return open_tool(context, tool_url(chrome, tool, person))


def _state_errors(tool, chrome, context, scriptless, person):
    page = _state_errors_with_field_error(tool, chrome, context, scriptless, person)
    page.unroute("**/activity")
    page.locator("#submit").click()
    page.locator("#error-summary").wait_for()
    return page


def _state_errors_with_field_error(tool, chrome, context, scriptless, person):
    page = scriptless.new_page()
    page.goto(tool_url(chrome, tool, person))
    assert page.evaluate("typeof window.ltiTool") == "undefined", "the tool's scripts ran"
    fill_row(page, 0, row("Half done", "formal"))
    with_too_long_field(page, "rows-0-strengths", "x" * 5000)
    page.locator("#submit").click()
    page.locator("#rows-0-strengths-error").wait_for()
    return page


def _state_filled(tool, chrome, context, scriptless, person):
    page = open_tool(context, tool_url(chrome, tool, person))
    with autosave(page):
        fill_row(page, 0, row(FARSI, "formal", "Strong", "Weak", "Better"))
        page.locator("#add-row").click()
        fill_row(page, 1, row("Second", "informal", "S", "W", "I"))
        answer_all(page)
    page.locator("#save-status").filter(has_text="Saved at").wait_for()
    return page


def _state_conflict(tool, chrome, context, scriptless, person):
    url = tool_url(chrome, tool, person)
    tab_a, tab_b = open_tool(context, url), open_tool(context, url)
    with autosave(tab_a):
        fill_row(tab_a, 0, row("From A"))
    with autosave(tab_b, status=409):
        fill_row(tab_b, 0, row("From B"))
    tab_b.locator("#conflict-notice").wait_for()
    return tab_b


def _state_conflict_without_scripts(tool, chrome, context, scriptless, person):
    url = tool_url(chrome, tool, person)
    tab_a, tab_b = scriptless.new_page(), scriptless.new_page()
    tab_a.goto(url)
    tab_b.goto(url)
    fill_row(tab_a, 0, row("From A"))
    tab_a.locator("#save-draft").click()
    tab_a.locator("#save-status").filter(has_text="Saved at").wait_for()
    fill_row(tab_b, 0, row("From B"))
    tab_b.locator("#save-draft").click()
    tab_b.locator("#conflict-notice").wait_for()
    return tab_b


def _state_print(tool, chrome, context, scriptless, person):
    page = _state_filled(tool, chrome, context, scriptless, person)
    page.goto(tool.base_url + page.locator(".print-link").get_attribute("href"))
    page.locator(".print-table").wait_for()
    return page


AXE_STATES = {
    "empty worksheet": _state_empty,
    "incomplete submit without scripts": _state_errors,
    "field error without scripts": _state_errors_with_field_error,
    "filled worksheet": _state_filled,
    "conflict notice": _state_conflict,
    "conflict notice without scripts": _state_conflict_without_scripts,
    "print view": _state_print,
}


@pytest.mark.parametrize("state", AXE_STATES)
def test_axe_finds_no_wcag_violations(tool, chrome, context, scriptless_context, state):
    person = "u-learner-3"
    forget(tool, person)
    page = AXE_STATES[state](tool, chrome, context, scriptless_context, person)
    assert "/dev/lms" not in page.url
    assert_accessible(page, state)


# --- 8. nothing from other hosts ------------------------------------------------------------------

def test_tool_pages_load_nothing_from_other_hosts(tool, chrome, context, expect):
    person = "u-learner-3"
    forget(tool, person)
    url = tool_url(chrome, tool, person)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))

    page = open_tool(context, url)
    with autosave(page):
        fill_row(page, 0, row("Library Friends", "formal", "S", "W", "I"))
    with context.expect_page() as popup:
        page.locator(".print-link").click()
    printed = popup.value
    printed.locator(".print-table").wait_for()
    printed.wait_for_load_state("networkidle")
    page.wait_for_load_state("networkidle")

    host = urlsplit(tool.base_url).netloc
    foreign = [u for u in requested if urlsplit(u).scheme not in ("http", "https") or urlsplit(u).netloc != host]
    assert requested and not foreign, f"requests to other hosts: {foreign}"
    paths = {urlsplit(u).path for u in requested}
    assert {"/activity", "/static/app.css", "/static/frame.js", "/static/worksheet.js", "/api/worksheet", "/activity/print"} <= paths, paths
