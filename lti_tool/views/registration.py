"""LTI Dynamic Registration: GET /lti/register, the address an LMS administrator pastes into the LMS.

A GET by the LMS's own design (the LMS opens it in a frame or a window with openid_configuration and
registration_token), so no CSRF token: the single-use registration token is the proof. The answer page
may be framed by the LMS being registered, for this response only (headers.allow_framing): it is not in
the registered platforms' origins yet. Once its configuration checked out, by its configuration's,
issuer's and endpoints' origins; when it did not (the LMS is unreachable, or names another issuer), the
error page (which has nothing to click) by the origin of the configuration URL only, so that the
administrator sees it in the LMS's frame.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template, request

from .. import tool_config
from ..dynamic_registration import RegistrationFailed, ToolDynamicRegistration, origin_of
from ..lti.tool_conf import forget_registrations
from . import headers

bp = Blueprint("registration", __name__)
log = logging.getLogger("lti_tool.registration")


def register_url() -> str:
    return current_app.config["TOOL_BASE_URL"] + "/lti/register"


@bp.get("/lti/register")
def register():
    """Fetch the LMS's configuration, post the tool's registration, store the LMS; say what to do next."""
    config_url = (request.args.get("openid_configuration") or "").strip()
    if not config_url:
        raise RegistrationFailed("missing_parameters", "openid_configuration is missing", url=register_url())
    flow = ToolDynamicRegistration(current_app.config["TOOL_BASE_URL"], config_url,
                                   request.args.get("registration_token"), current_app.config["HTTP_TIMEOUT_SECONDS"])
    try:
        registered = flow.register()
    finally:
        headers.allow_framing(flow.platform_origins or [origin_of(config_url)])
    headers.forget_origins()  # the new platform frames the tool's pages from now on (in this process at once)
    forget_registrations()  # a re-registration's new endpoints apply at once here too
    return render_template("registration_done.html", registered=registered, tool_title=tool_config.TITLE)


@bp.errorhandler(RegistrationFailed)
def registration_failed(failure: RegistrationFailed):
    """A 4xx or 502 page that says what happened and what to do (the token is never in it, nor in the log)."""
    log.warning("registration refused: %s (%s)", failure.code, failure.detail)
    return render_template("error.html", title=failure.title, detail=failure.detail, advice=failure.advice,
                           code=failure.code), failure.status
