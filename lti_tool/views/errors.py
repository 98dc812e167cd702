"""Error pages and request hooks: every failure is a page that says what to do, never a bare 500."""
from __future__ import annotations

import logging
import secrets

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..lti.errors import LaunchError
from . import access, headers
from .lti import launch_error_page

log = logging.getLogger("lti_tool.errors")

# Lazy: translated when the page is shown, in the launch's language (else the browser's).
ADVICE = {
    401: _l("Open the activity again from your course in the LMS."),
    403: _l("If you think you should see this page, ask your instructor or LMS administrator."),
    404: _l("Check the address, or open the activity again from your course."),
    413: _l("What you sent is too large. Shorten it and try again."),
}
# The page titles of the statuses the tool answers with (werkzeug's names, translated); others keep werkzeug's name.
TITLES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    413: _l("Request Entity Too Large"),
    503: _l("Service Unavailable"),
}


def init_app(app: Flask) -> None:
    app.before_request(_request_id)
    app.before_request(_whole_body_within_limit)
    app.before_request(access.enforce_csrf)
    app.after_request(_security_headers)
    app.register_error_handler(LaunchError, launch_error_page)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else secrets.token_hex(8)


def _whole_body_within_limit() -> None:
    """A body sent without a Content-Length (chunked) is cut at MAX_CONTENT_LENGTH by Werkzeug, not
    refused: the first megabyte of a larger one would be saved as if it were all. Read it now, and
    answer 413 when there is more."""
    if request.content_length is not None or request.method not in access.WRITE_METHODS:
        return
    if request.max_content_length is None:
        return
    request.get_data(cache=True)
    request.stream.read(1)  # past the limit this raises RequestEntityTooLarge (413); at the end it reads nothing


def _security_headers(response):
    response = headers.apply(response)
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def _http_error(error: HTTPException):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": error.name, "message": error.description}, error.code
    advice = str(ADVICE.get(error.code or 500, ""))
    title = str(TITLES.get(error.code or 500, error.name))
    return render_template("error.html", title=title, detail=error.description, advice=advice, code=error.code), error.code


def _unexpected(error: Exception):
    log.exception("unexpected error on %s %s (request %s)", request.method, request.path, g.get("request_id"))
    return render_template(
        "error.html", title=_("Something went wrong"), detail=_("The tool hit an unexpected error. Nothing you saved is lost."),
        advice=_("Try again in a moment. If it keeps happening, tell your LMS administrator the reference below."), code=500,
    ), 500
