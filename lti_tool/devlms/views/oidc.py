"""The OIDC authorization endpoint: checks the tool's request and posts the id_token back."""
from __future__ import annotations

from flask import request

from .. import settings, stats
from ..authorize import AuthError, authorize, error_fields
from . import bp
from .common import autosubmit, html_error


@bp.route("/auth", methods=["GET", "POST"])
def auth():
    """Answer with a form that posts id_token and state to the registered redirect_uri."""
    params = request.values
    try:
        answer = authorize(params, settings.current())
    except AuthError as error:
        stats.bump("auth_errors")
        if not error.redirect:
            return html_error(400, "Launch refused by the LMS", f"{error.error}: {error.description}")
        return autosubmit(params["redirect_uri"], "post", error_fields(error, params), "Launch refused by the LMS",
                          f"{error.error}: {error.description}")
    stats.bump("id_tokens_issued")
    return autosubmit(answer.redirect_uri, "post", answer.fields, "Signing you in to the tool")
