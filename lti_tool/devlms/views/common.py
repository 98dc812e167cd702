"""Response helpers shared by the practice LMS's views."""
from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, render_template, request

from .. import settings


def json_response(body: object, status: int = 200, content_type: str = "application/json",
                  headers: Mapping[str, str] | None = None) -> Response:
    """body as JSON with the given media type (AGS and NRPS use their own)."""
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type=content_type)
    response.headers.update(headers or {})
    return response


def error_json(status: int, error: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON error a service client can read: {"error", "error_description", "errors": [...]}."""
    body = {"error": error, "error_description": message, "errors": [{"message": message}]}
    return json_response(body, status, headers=headers)


def autosubmit(action: str, method: str, fields: Mapping[str, str], title: str, note: str = "") -> str:
    """A page whose form #autosubmit sends fields to action by itself (with a button for no-script)."""
    return render_template("devlms/autosubmit.html", action=action, method=method, fields=fields, title=title, note=note)


def html_error(status: int, title: str, detail: str) -> tuple[str, int]:
    """A plain error page of the practice LMS."""
    return render_template("devlms/error.html", title=title, detail=detail, status=status), status


def public_url() -> str:
    """This request's URL under DEVLMS_BASE_URL (never built from the Host header)."""
    path = request.path.removeprefix(settings.PREFIX)
    query = request.query_string.decode("latin-1")
    return settings.current().base_url + path + (f"?{query}" if query else "")
