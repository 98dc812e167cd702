"""The instructor's side of the activity: the class, one learner's worksheet, the partnership map,
exports and grades. Only instructor-like launches reach it; every lookup is scoped to the launch's
activity (and so to its course, deployment and platform)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import class_roster, class_view, exports, grade_outbox, grade_passback, pages, submissions
from .access import launch_required

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
instructor_only = launch_required(role="instructor")


@bp.get("/")
@instructor_only
def home():
    activity = g.rows["activity"]
    page = pages.load(activity.page)
    roster = class_roster.learners(activity, g.rows["course"])
    status, sort = request.args.get("status"), request.args.get("sort", "name")
    view = class_view.class_view(activity, roster)
    return render_template("instructor/dashboard.html", page=page, view=view, rows=view.shown(status, sort),
                           totals=view.counts, status=status, sort=sort,
                           grade_problem=grade_passback.service_problem(activity),
                           grade_counts=grade_outbox.activity_counts(activity.id), notice=request.args.get("notice"),
                           **g.rows)


@bp.get("/learner/<int:person_id>")
@instructor_only
def learner(person_id: int):
    activity = g.rows["activity"]
    person, submission = _learner_or_404(person_id)
    page = pages.load(activity.page)
    grade = grade_outbox.latest_for(activity.id, [person.id]).get(person.id)
    return render_template("instructor/learner.html", page=page, spec=page.worksheet, learner=person,
                           submission=submission, data=submissions.data_of(submission), grade=grade,
                           revisions=submissions.revisions(submission) if submission else [],
                           notice=request.args.get("notice"), **g.rows)


@bp.post("/learner/<int:person_id>/feedback")
@instructor_only
def feedback(person_id: int):
    activity = g.rows["activity"]
    person, submission = _learner_or_404(person_id)
    if submission is None:
        abort(409, description=_("This learner has not started the worksheet yet, so there is nothing to comment on."))
    page = pages.worksheet_page(activity)
    queued = submissions.set_feedback(submission, page.worksheet, request.form.get("feedback", ""))
    return _back_to_learner(person.id, "feedback-sent" if queued else "feedback-saved")


@bp.post("/learner/<int:person_id>/resend")
@instructor_only
def resend_one(person_id: int):
    person, _submission = _learner_or_404(person_id)
    count = grade_outbox.resend(g.rows["activity"].id, [person.id])
    return _back_to_learner(person.id, "resent" if count else "nothing-to-resend")


@bp.post("/grades/resend")
@instructor_only
def resend_all():
    count = grade_outbox.resend(g.rows["activity"].id)
    return redirect(url_for("instructor.home", lt=g.launch_token, notice=f"resent-{count}") + "#grades", code=303)


@bp.get("/map")
@instructor_only
def partnership_map():
    activity = g.rows["activity"]
    page = pages.load(activity.page)
    return render_template("instructor/map.html", page=page, spec=page.worksheet,
                           groups=class_view.partnership_map(activity), **g.rows)


@bp.get("/export/<kind>.csv")
@instructor_only
def export(kind: str):
    if kind not in ("entries", "answers"):
        abort(404)
    activity = g.rows["activity"]
    page = pages.worksheet_page(activity)
    view = class_view.class_view(activity, class_roster.learners(activity, g.rows["course"]))
    body = (exports.entries_csv if kind == "entries" else exports.answers_csv)(view, page.worksheet)
    filename = f"{page.name}-{kind}.csv"
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def _learner_or_404(person_id: int):
    """(person, their submission or None): a person of this activity's platform who is in this course
    or has worked in this activity; 404 for anyone else."""
    activity = g.rows["activity"]
    person = class_view.person_in_activity(activity, person_id)
    submission = class_view.submission_of(activity, person.id) if person else None
    if person is None or not (submission or class_view.in_course(g.rows["course"], person.id)):
        abort(404, description=_("There is no such learner in this activity."))
    return person, submission


def _back_to_learner(person_id: int, notice: str):
    return redirect(url_for("instructor.learner", person_id=person_id, lt=g.launch_token, notice=notice), code=303)
