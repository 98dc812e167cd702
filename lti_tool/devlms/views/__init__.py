"""The practice LMS's HTTP endpoints, all on one blueprint named "devlms"."""
from __future__ import annotations

from flask import Blueprint

# static/ (served at /dev/lms/static/...): the gradebook's polling script, the registration page's listener.
bp = Blueprint("devlms", "lti_tool.devlms", template_folder="templates", static_folder="static")

from . import admin, course, deeplink, oauth, oidc, register, services  # noqa: E402,F401  (they add their routes to bp)
