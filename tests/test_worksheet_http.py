"""Worksheet #6 over real HTTP: autosave, versions and conflicts, submit, no-script form, isolation, limits."""
from __future__ import annotations

import copy

import pytest
from bs4 import BeautifulSoup

from tests.worksheet_client import Learner, complete_data, forget, form_fields, row, stored

ME = "u-learner-1"
OTHER = "u-learner-2"


@pytest.fixture()
def me(tool) -> Learner:
    forget(tool.app, ME)
    return Learner.launch(tool.base_url, ME)


@pytest.fixture()
def other(tool) -> Learner:
    forget(tool.app, OTHER)
    return Learner.launch(tool.base_url, OTHER)


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


# --- autosave and return ---------------------------------------------------------------------------

def test_first_autosave_creates_a_draft_seen_on_return(tool, me):
    data = {"rows": [row("Boys and Girls Club", "After-school space", "Busy", "Shared calendar", "formal")], "answers": {}}
    response = me.autosave(data, None)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] and body["version"] == 1 and body["status"] == "draft" and body["saved_at"]
    assert not body["complete"] and [i["done"] for i in body["checklist"]].count(True) == 1

    submission, rows, _ = stored(tool.app, ME)
    assert submission.status == "draft" and rows == data["rows"]

    again = Learner.launch(tool.base_url, ME)
    page = soup(again.page)
    assert page.select_one("#rows-0-partnership")["value"] == "Boys and Girls Club"
    assert page.select_one("#rows-0-strengths").get_text().lstrip("\r\n") == "After-school space"  # HTML drops the first newline
    assert page.select_one('input[name="rows-0-type"][value="formal"]').has_attr("checked")
    assert page.select_one(".submission-status")["data-status"] == "draft"
    assert page.select_one('input[name="base_version"]')["value"] == "1"


def test_blank_rows_are_dropped_and_text_is_trimmed(tool, me):
    data = {"rows": [row(), row("  Teen Library Council  ", "x"), row()], "answers": {"talk-more": "  the mayor "}}
    assert me.autosave(data, None).status_code == 200
    submission, rows, _ = stored(tool.app, ME)
    assert [r["partnership"] for r in rows] == ["Teen Library Council"]
    assert submission.answers["talk-more"] == "the mayor"


def test_every_save_moves_the_version_on(tool, me):
    data = complete_data()
    versions = []
    for n in range(3):
        data["rows"][0]["strengths"] = f"take {n}"
        response = me.autosave(data, versions[-1] if versions else None)
        assert response.status_code == 200, response.text
        versions.append(response.json()["version"])
    assert versions == [1, 2, 3]
    assert stored(tool.app, ME)[1][0]["strengths"] == "take 2"


# --- two tabs --------------------------------------------------------------------------------------

def test_a_stale_save_is_a_conflict_and_both_versions_are_kept(tool, me):
    first = complete_data()
    assert me.autosave(first, None).json()["version"] == 1
    tab_a = copy.deepcopy(first)
    tab_a["rows"][0]["strengths"] = "written in tab A"
    assert me.autosave(tab_a, 1).json()["version"] == 2

    tab_b = copy.deepcopy(first)
    tab_b["rows"][0]["strengths"] = "written in tab B"
    response = me.autosave(tab_b, 1)
    assert response.status_code == 409
    body = response.json()
    assert body["conflict"] and body["version"] == 2
    assert body["stored"]["rows"][0]["strengths"] == "written in tab A"

    _, rows, revisions = stored(tool.app, ME)
    assert rows[0]["strengths"] == "written in tab A", "the stale tab must not overwrite"
    assert [(kind, data["rows"][0]["strengths"]) for kind, _, data in revisions] == [("conflict", "written in tab B")]

    # The learner chooses tab B's version: it becomes current, and tab A's is kept as 'replaced'.
    keep = me.autosave(tab_b, 1, action="keep-mine")
    assert keep.status_code == 200 and keep.json()["version"] == 3
    _, rows, revisions = stored(tool.app, ME)
    assert rows[0]["strengths"] == "written in tab B"
    assert [(kind, data["rows"][0]["strengths"]) for kind, _, data in revisions][-1] == ("replaced", "written in tab A")


def test_two_first_saves_never_overwrite_each_other(tool, me):
    assert me.autosave({"rows": [row("From tab A")], "answers": {}}, None).status_code == 200
    late = me.autosave({"rows": [row("From tab B")], "answers": {}}, None)
    assert late.status_code == 409
    _, rows, revisions = stored(tool.app, ME)
    assert rows == [row("From tab A")]
    assert revisions[0][0] == "conflict" and revisions[0][2]["rows"] == [row("From tab B")]


# --- submit ----------------------------------------------------------------------------------------

def test_incomplete_submit_is_refused_and_nothing_is_lost(tool, me):
    data = complete_data()
    data["answers"]["talk-more"] = ""
    response = me.autosave(data, None, action="submit")
    assert response.status_code == 422 and response.json()["incomplete"]
    assert [i for i in response.json()["checklist"] if not i["done"]], "the checklist says what is missing"
    submission, rows, revisions = stored(tool.app, ME)
    assert submission.status == "draft" and rows == data["rows"], "kept as a draft"
    assert response.json()["version"] == submission.version
    assert not [r for r in revisions if r[0] == "submit"]


def test_submit_keeps_a_revision_and_editing_after_submit_is_allowed(tool, me):
    data = complete_data()
    first = me.autosave(data, None, action="submit").json()
    assert first["status"] == "submitted" and first["submitted_at"] and not first["unsubmitted_changes"]

    data["rows"].append(row("Local artist", "Murals", "Seasonal", "Plan ahead", "informal"))
    edited = me.autosave(data, first["version"]).json()
    assert edited["status"] == "submitted" and edited["unsubmitted_changes"]
    page = soup(me.get())
    assert "not submitted yet" in page.select_one(".submission-status").get_text()

    second = me.autosave(data, edited["version"], action="submit").json()
    assert not second["unsubmitted_changes"]
    submission, rows, revisions = stored(tool.app, ME)
    assert submission.status == "submitted" and submission.submitted_version == second["version"]
    submits = [(version, len(d["rows"])) for kind, version, d in revisions if kind == "submit"]
    assert submits == [(first["version"], 1), (second["version"], 2)]


# --- validation and hostile input ------------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"rows": [row("x" * 201)], "answers": {}}, "rows-0-partnership"),
    ({"rows": [row("ok", "s" * 1001)], "answers": {}}, "rows-0-strengths"),
    ({"rows": [row("ok", type="sometimes")], "answers": {}}, "rows-0-type"),
    ({"rows": [], "answers": {"talk-more": "a" * 3001}}, "q_talk-more"),
    ({"rows": [row(f"p{i}") for i in range(31)], "answers": {}}, "rows"),
])
def test_invalid_saves_are_refused_with_the_field_and_store_nothing(tool, me, data, field):
    me.autosave({"rows": [row("Kept")], "answers": {}}, None)
    response = me.autosave(data, 1)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert stored(tool.app, ME)[1] == [row("Kept")]


def test_limits_are_reachable(tool, me):
    data = {"rows": [row(f"p{i}", "s" * 1000, "ن" * 1000, "😀" * 1000) for i in range(30)],
            "answers": {"talk-more": "a" * 3000}}
    response = me.autosave(data, None)
    assert response.status_code == 200, response.text[:500]
    assert len(stored(tool.app, ME)[1]) == 30


@pytest.mark.parametrize("payload", [[1, 2], "text", {"rows": "x", "answers": []}, {"rows": [None, 7, "a"]}])
def test_odd_json_shapes_never_500(me, payload):
    response = me.http.post(f"{me.base_url}/api/worksheet", json=payload, headers=me.headers())
    assert response.status_code in (200, 400, 422), response.text[:300]


def test_not_json_is_400(me):
    response = me.http.post(f"{me.base_url}/api/worksheet", data="{not json", headers=me.headers(**{"Content-Type": "application/json"}))
    assert response.status_code == 400


def test_oversized_body_is_413(me):
    big = {"rows": [row("x" * 1_100_000)], "answers": {}}
    response = me.autosave(big, None)
    assert response.status_code == 413


def test_learner_text_is_escaped_and_shown_as_written(tool, me):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    farsi = "کتابخانه مرکزی"
    me.autosave({"rows": [row(hostile, farsi, "**bold?**", "[link](javascript:alert(1))")], "answers": {"talk-more": hostile}}, None)
    for path in ("/activity", "/activity/print"):
        response = me.get(path)
        assert response.status_code == 200
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert "&lt;script&gt;" in response.text
        assert farsi in response.text and "**bold?**" in response.text and "javascript:alert" not in soup(response).select("a[href]").__str__()
    printed = soup(me.get("/activity/print"))
    cells = [c for c in printed.select("td") if c.get_text() == farsi]
    assert cells and cells[0].get("dir") == "auto"


# --- CSRF, tokens, isolation -----------------------------------------------------------------------

def test_save_without_csrf_token_is_refused(me):
    response = me.autosave(complete_data(), None, headers={"X-Launch-Token": me.launch_token})
    assert response.status_code == 400


def test_save_with_another_launchs_csrf_token_is_refused(me, other):
    response = me.autosave(complete_data(), None, headers={"X-Launch-Token": me.launch_token, "X-CSRF-Token": other.csrf_token})
    assert response.status_code == 400


@pytest.mark.parametrize("token", ["", "garbage", "x.y.z"])
def test_save_without_a_valid_launch_token_is_401(me, token):
    response = me.autosave(complete_data(), None, headers={"X-Launch-Token": token, "X-CSRF-Token": me.csrf_token})
    assert response.status_code == 401


def test_learners_never_see_or_touch_each_others_work(tool, me, other):
    me.autosave({"rows": [row("Mine only: the makerspace")], "answers": {}}, None)
    other.autosave({"rows": [row("Theirs only: the food bank")], "answers": {}}, None)
    assert "Theirs only" not in me.get().text and "Theirs only" not in me.get("/activity/print").text
    assert "Mine only" not in other.get().text
    assert stored(tool.app, ME)[1] == [row("Mine only: the makerspace")]
    assert stored(tool.app, OTHER)[1] == [row("Theirs only: the food bank")]


def test_the_same_person_in_another_activity_has_a_separate_worksheet(tool, me):
    me.autosave({"rows": [row("In the Moodle course")], "answers": {}}, None)
    canvas = Learner.launch(tool.base_url, ME, mode="canvas")
    assert "In the Moodle course" not in canvas.get().text


# --- the form without scripts ----------------------------------------------------------------------

def test_no_script_row_buttons_add_move_and_remove(tool, me):
    data = {"rows": [row("First"), row("Second")], "answers": {}}
    added = me.post_form(form_fields(data, None, "add"))
    assert added.status_code == 200
    assert len(soup(added).select("li.ws-row")) == 3

    version = stored(tool.app, ME)[0].version
    moved = me.post_form(form_fields(data, version, "down-0"))
    names = [i["value"] for i in soup(moved).select('input[id$="-partnership"]') if i.get("value")]
    assert names == ["Second", "First"]
    assert [r["partnership"] for r in stored(tool.app, ME)[1]] == ["Second", "First"], "the move is saved"

    version = stored(tool.app, ME)[0].version
    removed = me.post_form(form_fields({"rows": [row("Second"), row("First")], "answers": {}}, version, "remove-0"))
    names = [i.get("value") for i in soup(removed).select('input[id$="-partnership"]')]
    assert names == ["First"]
    assert [r["partnership"] for r in stored(tool.app, ME)[1]] == ["First"], "the removal is saved"


def test_no_script_save_draft_redirects_back_with_saved_notice(tool, me):
    response = me.post_form(form_fields({"rows": [row("Saved without scripts")], "answers": {}}, None, "save"), allow_redirects=False)
    assert response.status_code == 303
    page = me.http.get(me.base_url + response.headers["Location"])
    assert "Saved at" in soup(page).select_one("#save-status").get_text()
    assert stored(tool.app, ME)[1] == [row("Saved without scripts")]


def test_no_script_submit(tool, me):
    response = me.post_form(form_fields(complete_data(), None, "submit"))
    assert response.status_code == 200
    assert "Submitted" in soup(response).select_one("#save-status").get_text()
    assert stored(tool.app, ME)[0].status == "submitted"


def test_no_script_errors_are_shown_beside_the_field(tool, me):
    response = me.post_form(form_fields({"rows": [row("y" * 201)], "answers": {}}, None, "save"))
    assert response.status_code == 422
    page = soup(response)
    field = page.select_one("#rows-0-partnership")
    assert field["aria-invalid"] == "true" and field["aria-describedby"] == "rows-0-partnership-error"
    assert page.select_one("#rows-0-partnership-error").get_text(strip=True)
    assert page.select_one("#error-summary a[href='#rows-0-partnership']")
    assert field["value"] == "y" * 201, "what the learner typed is shown back, not lost"


def test_no_script_incomplete_submit_keeps_the_draft(tool, me):
    data = {"rows": [row("Half done")], "answers": {}}
    response = me.post_form(form_fields(data, None, "submit"))
    assert response.status_code == 422
    assert "not complete" in soup(response).select_one("#error-summary").get_text()
    submission, rows, _ = stored(tool.app, ME)
    assert submission.status == "draft" and rows == [row("Half done")], "kept as a draft"


def test_no_script_conflict_offers_keep_mine(tool, me):
    me.autosave({"rows": [row("Other tab")], "answers": {}}, None)
    response = me.post_form(form_fields({"rows": [row("This tab")], "answers": {}}, None, "save"))
    assert response.status_code == 409
    page = soup(response)
    assert page.select_one("#conflict-notice") and page.select_one("#keep-mine")
    kept = me.post_form(form_fields({"rows": [row("This tab")], "answers": {}}, None, "keep-mine"), allow_redirects=False)
    assert kept.status_code == 303
    assert stored(tool.app, ME)[1] == [row("This tab")]


def test_no_script_form_without_csrf_is_refused(me):
    response = me.http.post(f"{me.base_url}/activity", data={"launch_token": me.launch_token, "action": "save", "rows-0-partnership": "x"})
    assert response.status_code == 400


# --- pages ---------------------------------------------------------------------------------------

def test_page_is_chosen_by_the_custom_parameter(tool):
    learner = Learner.launch(tool.base_url, ME, link="rl-rethinking")
    page = soup(learner.page)
    assert page.select_one("article.course-page")["data-page"] == "rethinking-partnerships"
    assert page.select_one("#worksheet") is None


def test_links_between_course_pages_keep_the_launch(tool, me):
    link = soup(me.page).find("a", string="Community Partnerships module")
    assert link is not None and "page=rethinking-partnerships" in link["href"] and "lt=" in link["href"]
    response = me.http.get(tool.base_url + link["href"])
    assert response.status_code == 200
    assert soup(response).select_one("article.course-page")["data-page"] == "rethinking-partnerships"


def test_unknown_page_is_a_clear_404(me):
    response = me.get(page="no-such-page")
    assert response.status_code == 404
    assert "no-such-page" in response.text


def test_sunnydale_partnerships_are_a_four_column_table(me):
    table = soup(me.page).select_one("article.course-page table")
    assert [th.get_text(strip=True) for th in table.select("thead th")] == ["Partnership", "Strengths", "Weaknesses", "How can it be improved?"]
    assert len(table.select("tbody tr")) >= 3


def test_print_view_lists_the_entries(tool, me):
    me.autosave(complete_data(), None)
    page = soup(me.get("/activity/print"))
    assert "Teen Advisory Board" in page.get_text() and "Answer to talk-more" in page.get_text()


def test_the_autosaves_prepared_statements_store_what_the_orm_stores(tool):
    from tests.stored_values import check_saves_store_like_the_orm

    check_saves_store_like_the_orm(tool.app, Learner.launch(tool.base_url, "u-load-9101"), "u-load-9101")
