"""Which course page a request shows, from CONTENT_DIR; broken or missing pages become clear answers."""
from __future__ import annotations

import logging

from flask import abort, current_app
from flask_babel import gettext as _

from . import content
from .models import Activity

log = logging.getLogger("lti_tool.content")


def load(name: str) -> content.Page:
    """A page by name: 404 for an unknown one, 503 (logged for the admin) for a broken file."""
    try:
        return content.load_page(current_app.config["CONTENT_DIR"], name)
    except content.PageNotFound:
        abort(404, description=_("There is no course page called “%(name)s”. Ask your course designer to check the activity's settings.",
                                 name=name))
    except content.ContentInvalid as exc:
        log.error("content: page %s is broken: %s", name, exc)
        abort(503, description=_("This page cannot be shown right now because its file has errors. "
                                 "Your LMS administrator can see them with `lti-tool content check`."))


def for_request(activity: Activity, requested: str | None) -> content.Page:
    """The page asked for by a link inside the tool, or else the activity's own page."""
    return load(requested or activity.page)


def worksheet_page(activity: Activity) -> content.Page:
    page = load(activity.page)
    if page.worksheet is None:
        abort(404, description=_("This activity has no worksheet."))
    return page
