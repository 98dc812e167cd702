"""The instructor's side of the activity."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from .. import grade_outbox, grade_passback
from .access import launch_required

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/")
@launch_required(role="instructor")
def home():
    activity = g.rows["activity"]
    return render_template("instructor/home.html", grade_problem=grade_passback.service_problem(activity),
                           grade_counts=grade_outbox.activity_counts(activity.id),
                           grade_failures=grade_outbox.failures(20, activity_id=activity.id), **g.rows)
