"""The instructor's side of the activity."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from .access import launch_required

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/")
@launch_required(role="instructor")
def home():
    return render_template("instructor/home.html", **g.rows)
