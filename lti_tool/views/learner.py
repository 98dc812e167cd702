"""The learner's side: the course page, Worksheet #6, autosave, submit and print."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import launches, pages, submissions
from ..lti import launch_token
from ..worksheets import build_form, flat_errors, form_values, json_to_formdata, quick_values
from .access import launch_required
from .worksheet_actions import apply_row_action, parse_action

bp = Blueprint("learner", __name__)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


@bp.get("/activity")
@launch_required()
def home():
    """The page the activity shows; its worksheet, prefilled with what the learner saved."""
    page = pages.for_request(g.rows["activity"], request.args.get("page"))
    if page.name != g.rows["activity"].page or page.worksheet is None:
        return render_template("learner/page.html", page=page, form=None, **g.rows)
    submission = submissions.find(g.launch)
    form = build_form(page.worksheet, g.launch, _secret(), data=submissions.data_of(submission))
    return _render(page, form, submission, notice=request.args.get("notice"))


@bp.post("/activity")
@launch_required()
def post_form():
    """The worksheet without scripts: Save draft, Submit, and the row buttons all post here."""
    page = pages.worksheet_page(g.rows["activity"])
    form = build_form(page.worksheet, g.launch, _secret(), formdata=request.form)
    action, index = parse_action(request.form.get("action"))
    if not form.validate():
        return _render(page, form, submissions.find(g.launch), errors=flat_errors(form)), 422
    data = form_values(page.worksheet, form)
    rows_action = action in ("add", "remove", "up", "down")
    if rows_action:  # save the rows as the page will show them after the button
        shown = apply_row_action(form_values(page.worksheet, form, keep_blank_rows=True)["rows"], action, index,
                                 page.worksheet.table.max_rows)
        data = {"rows": [r for r in shown if any(r.values())], "answers": data["answers"]}
    base = _int(request.form.get("base_version"))
    result = submissions.save(g.launch, page.worksheet, data, base, submit=action == "submit", force=action == "keep-mine")
    if result.conflict:
        return _render(page, form, result.submission, conflict=True, base_version=base if base is not None else ""), 409
    if result.incomplete:
        return _render(page, form, result.submission, incomplete=True), 422
    if rows_action:
        form = build_form(page.worksheet, g.launch, _secret(), data={"rows": shown, "answers": data["answers"]})
        return _render(page, form, result.submission, focus_row=_focus_row(action, index, len(shown)))
    notice = "submitted" if action == "submit" else "saved"
    return redirect(url_for("learner.home", lt=g.launch_token, notice=notice) + "#worksheet-status", code=303)


@bp.post("/api/worksheet")
@launch_required(rows=launches.load_activity_page)
def autosave():
    """Autosave and submit from the page's script: JSON in, JSON out (409 on a conflict)."""
    page = pages.worksheet_page(g.rows["activity"])
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: no worksheet looks like that
        payload = None
    if not isinstance(payload, dict):
        abort(400, description=_("Expected a JSON object."))
    csrf = request.headers.get("X-CSRF-Token")
    # A body that passes every check of the form needs no form; anything else goes through it (errors in its words).
    data = quick_values(page.worksheet, payload) if launch_token.csrf_valid(g.launch, _secret(), csrf) else None
    if data is None:
        form = build_form(page.worksheet, g.launch, _secret(), formdata=json_to_formdata(page.worksheet, payload, csrf))
        if not form.validate():
            return jsonify(ok=False, errors=flat_errors(form)), 422
        data = form_values(page.worksheet, form)
    action = payload.get("action") if payload.get("action") in ("save", "submit", "keep-mine") else "save"
    result = submissions.save(g.launch, page.worksheet, data, _int(payload.get("base_version")),
                              submit=action == "submit", force=action == "keep-mine")
    body = _state(page, result.submission, result.data)
    if result.conflict:
        return jsonify(ok=False, conflict=True, stored=result.stored, **body), 409
    if result.incomplete:
        return jsonify(ok=False, incomplete=True, **body), 422
    return jsonify(ok=True, **body)


@bp.get("/activity/print")
@launch_required()
def print_view():
    page = pages.worksheet_page(g.rows["activity"])
    submission = submissions.find(g.launch)
    return render_template("learner/print.html", page=page, spec=page.worksheet, submission=submission,
                           data=submissions.data_of(submission), **g.rows)


@bp.post("/api/launch/refresh")
@launch_required()
def refresh_token():
    """A fresh launch token for pages left open a long time (sliding expiry)."""
    fresh = launch_token.issue(g.launch, _secret())
    return jsonify(launch_token=fresh, csrf_token=g.csrf_token, role=g.launch.role)


def _render(page, form, submission, **extra):
    """The page with its worksheet form; the checklist reflects what the form shows."""
    data = form_values(page.worksheet, form)
    checklist = page.worksheet.checklist(data["rows"], data["answers"])
    return render_template("learner/page.html", page=page, spec=page.worksheet, form=form, submission=submission,
                           checklist=checklist, complete=all(done for _, _, done in checklist),
                           errors=extra.pop("errors", {}), **extra, **g.rows)


def _state(page, submission, data: dict | None = None) -> dict:
    """What the page's script shows after a save; `data` is the stored worksheet when the save knows it."""
    data = submissions.data_of(submission) if data is None else data
    checklist = page.worksheet.checklist(data["rows"], data["answers"])
    return {
        "launch_token": g.launch_token,
        "version": submission.version if submission else None,
        "status": submission.status if submission else "not_started",
        "saved_at": submission.updated_at.isoformat() + "Z" if submission else None,
        "submitted_at": submission.submitted_at.isoformat() + "Z" if submission and submission.submitted_at else None,
        "unsubmitted_changes": bool(submission and submission.has_unsubmitted_changes),
        "checklist": [{"id": i, "label": str(label), "done": done} for i, label, done in checklist],
        "complete": all(done for _, _, done in checklist),
    }


def _focus_row(action: str, index: int, count: int) -> int:
    if action == "add":
        return count - 1
    if action == "up":
        return max(index - 1, 0)
    if action == "down":
        return min(index + 1, count - 1)
    return min(index, count - 1)


# Versions are INTEGER columns (32-bit on PostgreSQL): a base version outside them matches no version,
# exactly as no base version does (a conflict once the worksheet exists), and never reaches the database.
MAX_VERSION = 2**31 - 2


def _int(value) -> int | None:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return None  # JSON true is not version 1, nor 1.5 version 1
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity
        return None
    return number if 0 <= number <= MAX_VERSION else None
