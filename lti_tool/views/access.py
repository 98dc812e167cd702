"""Who is asking: the launch token on every request after a launch, and CSRF on every write."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, current_app, g, request
from flask_babel import gettext as _

from .. import launches
from ..lti import launch_token

HEADER = "X-Launch-Token"
CSRF_HEADER = "X-CSRF-Token"
REISSUE_AFTER = 300  # seconds
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Writes that carry their own proof: the LMS's signed form posts (the launch, and its platform storage check,
# which also requires the tool's own Origin and the values kept at login) and the practice LMS.
CSRF_EXEMPT_ENDPOINTS = {"lti.login", "lti.launch", "lti.launch_verify"}


def token_from_request() -> str | None:
    return request.headers.get(HEADER) or request.form.get("launch_token") or request.args.get("lt")


def launch_required(role: str | None = None, rows: Callable = launches.load_identity_rows) -> Callable:
    """Load the launch identity into g.launch (401 without a valid token, 403 for the wrong role),
    and its rows into g.rows (`rows=launches.load_course_rows` for a course-level, deep linking launch)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            identity = _identity_or_abort()
            if role is not None and identity.role != role:
                abort(403, description=_("This page is for instructors of the course."))
            try:
                g.rows = rows(identity)
            except LookupError:
                abort(401, description=_("Your launch is no longer valid. Open the activity again from your course."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _identity_or_abort() -> launch_token.LaunchIdentity:
    """The identity in the request's launch token (401 otherwise), read once per request: a write is
    checked by enforce_csrf first, then by launch_required with the same token."""
    config = current_app.config
    token = token_from_request()
    if "launch" in g and g.get("launch_read_from") == token:
        return g.launch
    try:
        identity, age = launch_token.read_with_age(token, config["SECRET_KEY"], config["LAUNCH_TOKEN_MAX_AGE"])
    except launch_token.TokenExpired:
        abort(401, description=_("Your session in this activity has expired. Open the activity again from your course."))
    except launch_token.TokenInvalid:
        abort(401, description=_("This page must be opened from your course in the LMS."))
    g.launch, g.launch_read_from = identity, token
    # Sliding expiry: a page that keeps working gets a newer token, at most every REISSUE_AFTER seconds.
    g.launch_token = token if age < REISSUE_AFTER else launch_token.issue(identity, config["SECRET_KEY"])
    g.csrf_token = launch_token.csrf_token(identity, config["SECRET_KEY"])
    return identity


def enforce_csrf() -> None:
    """before_request: every write must carry the CSRF token bound to its launch token."""
    if request.method not in WRITE_METHODS:
        return
    if request.endpoint is None or request.endpoint in CSRF_EXEMPT_ENDPOINTS or (request.blueprint or "").startswith("devlms"):
        return
    identity = _identity_or_abort()
    candidate = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")
    if not launch_token.csrf_valid(identity, current_app.config["SECRET_KEY"], candidate):
        abort(400, description=_("This form has expired or did not come from this activity. Reload the page and try again."))
