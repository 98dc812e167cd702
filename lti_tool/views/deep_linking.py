"""LTI Deep Linking: an instructor picks course pages, and the LMS gets them back as activities.

GET  /deep-linking   the pages of CONTENT_DIR (title, whether they hold a worksheet) as a form
POST /deep-linking   the chosen pages as ltiResourceLink items, in a signed LtiDeepLinkingResponse
                     that the browser form-posts to the platform's deep_link_return_url
"""
from __future__ import annotations

import logging
from functools import wraps
from typing import Callable, Optional

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import gettext as _

from .. import content, launches, pages
from ..lti import deep_linking
from .access import launch_required
from .lti import launch_url

bp = Blueprint("deep_linking", __name__, url_prefix="/deep-linking")
log = logging.getLogger("lti_tool.deep_linking")


def deep_linking_required(view: Callable) -> Callable:
    """A deep linking launch by an instructor: g.rows (person, course) and g.deep_link (what the LMS asked)."""

    @wraps(view)
    @launch_required(role="instructor", rows=launches.load_course_rows)
    def wrapped(*args, **kwargs):
        if g.launch.deep_link is None:
            abort(403, description=_("This page opens when you add an activity to the course from your LMS."))
        g.deep_link = deep_linking.load_request(g.launch.deep_link)
        if g.deep_link is None:
            abort(401, description=_("This choice of content has expired or was already sent to your LMS. "
                                     "Start again from your course: add an activity with the tool."))
        return view(*args, **kwargs)

    return wrapped


@bp.get("/")
@deep_linking_required
def choose():
    """The course pages, to pick one (or several, when the LMS accepts several)."""
    return _form()


@bp.post("/")
@deep_linking_required
def respond():
    """The chosen pages as resource links, signed, on their way back to the LMS."""
    chosen = list(dict.fromkeys(request.form.getlist("page")))
    problem = _problem_with(chosen)
    if problem:
        return _form(error=problem, chosen=chosen), 422
    chosen_pages = [pages.load(name) for name in chosen]
    try:
        token = deep_linking.response_jwt(g.deep_link, chosen_pages, launch_url())
    except LookupError:
        abort(401, description=_("Your LMS is no longer registered with the tool. Ask your LMS administrator."))
    if not deep_linking.consume_request(g.launch.deep_link):
        abort(409, description=_("This choice of content was already sent to your LMS."))
    log.info("deep linking answered: person=%s pages=%s", g.launch.person_id, ",".join(chosen))
    return render_template("instructor/deep_linking_return.html", pages=chosen_pages, jwt=token,
                           return_url=g.deep_link.return_url)


def _available() -> list[content.PageSummary]:
    return content.list_pages(current_app.config["CONTENT_DIR"])


def _problem_with(chosen: list[str]) -> Optional[str]:
    """Why this choice cannot be sent, or None."""
    known = {p.name for p in _available()}
    unknown = [name for name in chosen if name not in known]
    if unknown:
        return _("There is no course page called “%(name)s”. Choose from the list.", name=unknown[0][:64])
    if not chosen:
        return _("Choose at least one page.")
    if len(chosen) > 1 and not g.deep_link.accept_multiple:
        return _("Your LMS accepts one activity at a time: choose one page.")
    return None


def _form(error: Optional[str] = None, chosen: Optional[list[str]] = None) -> str:
    return render_template("instructor/deep_linking.html", choices=_available(), error=error, chosen=chosen or [],
                           multiple=g.deep_link.accept_multiple, lms_text=g.deep_link.text, **g.rows)
