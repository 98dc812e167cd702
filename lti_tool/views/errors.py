"""Error pages and request hooks: every failure is a page that says what to do, never a bare 500."""
from __future__ import annotations

import logging
import secrets

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from ..lti.errors import LaunchError
from . import access
from .lti import launch_error_page

log = logging.getLogger("lti_tool.errors")

ADVICE = {
    401: "Open the activity again from your course in the LMS.",
    403: "If you think you should see this page, ask your instructor or LMS administrator.",
    404: "Check the address, or open the activity again from your course.",
    413: "What you sent is too large. Shorten it and try again.",
}


def init_app(app: Flask) -> None:
    app.before_request(_request_id)
    app.before_request(access.enforce_csrf)
    app.after_request(_security_headers)
    app.register_error_handler(LaunchError, launch_error_page)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else secrets.token_hex(8)


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def _http_error(error: HTTPException):
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return {"error": error.name, "message": error.description}, error.code
    advice = ADVICE.get(error.code or 500, "")
    return render_template("error.html", title=error.name, detail=error.description, advice=advice, code=error.code), error.code


def _unexpected(error: Exception):
    log.exception("unexpected error on %s %s (request %s)", request.method, request.path, g.get("request_id"))
    return render_template(
        "error.html", title="Something went wrong", detail="The tool hit an unexpected error. Nothing you saved is lost.",
        advice="Try again in a moment. If it keeps happening, tell your LMS administrator the reference below.", code=500,
    ), 500
