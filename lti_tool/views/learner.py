"""The learner's side of the activity."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, render_template

from .access import launch_required

bp = Blueprint("learner", __name__)


@bp.get("/activity")
@launch_required()
def home():
    return render_template("learner/home.html", **g.rows)


@bp.post("/api/launch/refresh")
@launch_required()
def refresh_token():
    """A fresh launch token for pages left open a long time (sliding expiry)."""
    return jsonify(launch_token=g.launch_token, csrf_token=g.csrf_token, role=g.launch.role)
