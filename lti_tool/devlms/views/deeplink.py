"""Where the tool's deep linking response comes back: the content it picked becomes course activities."""
from __future__ import annotations

from flask import render_template, request

from .. import deeplinking, settings, stats
from . import bp
from .common import html_error


@bp.post("/deep-link/return")
def deep_link_return():
    """Verify the tool's signed LtiDeepLinkingResponse (form field JWT) and add its resource links."""
    try:
        outcome = deeplinking.accept(request.form.get("JWT"), settings.current())
    except deeplinking.DeepLinkError as error:
        stats.bump("deep_link_errors")
        return html_error(400, "Content from the tool refused", str(error))
    stats.bump("deep_link_returns")
    return render_template("devlms/deep_link_done.html", outcome=outcome)
