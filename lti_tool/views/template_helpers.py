"""Jinja globals and filters shared by the tool's pages."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from flask import Flask, g, url_for
from flask_babel import format_datetime, format_time, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

INTERNAL_LINK = re.compile(r'href="\?page=([a-z0-9][a-z0-9_-]{0,63})((?:#[^"]*)?)"')


def page_html(page) -> Markup:
    """The rendered (already sanitised) page, its links to other course pages carrying the launch token."""
    token = g.get("launch_token")

    def internal(match: re.Match) -> str:
        return f'href="{url_for("learner.home", lt=token, page=match.group(1))}{match.group(2)}"'

    return Markup(INTERNAL_LINK.sub(internal, page.html))  # noqa: S704 - sanitised by content.py with nh3


def with_error(attrs: dict[str, Any], field_id: str, errors) -> dict[str, Any]:
    """Field attributes, plus aria-invalid and aria-describedby when the field has an error."""
    if not errors:
        return attrs
    return {**attrs, "aria-invalid": "true", "aria-describedby": f"{field_id}-error"}


def field_label(form, name: str) -> str:
    """A readable label for a field name such as rows-0-strengths ('Strengths (Partnership 1)')."""
    match = re.fullmatch(r"rows-(\d+)-(.+)", name)
    if match:
        index, column = int(match.group(1)), match.group(2)
        entry = form.rows.entries[index] if index < len(form.rows.entries) else None
        label = entry.form[column].label.text if entry is not None and column in entry.form else column
        return f"{label} ({index + 1})"
    field = form[name] if name in form else None
    return field.label.text if field is not None else name


def completion_rule(spec) -> dict[str, Any]:
    """The completion rule as the page's script needs it to update the checklist while typing."""
    rule = spec.completion
    return {"min_rows": rule.min_rows, "row_requires": list(rule.row_requires), "questions": list(rule.questions)}


def N_(message: str) -> str:
    """Mark a message for extraction (pybabel's default keywords include N_) without translating it yet."""
    return message


def js_strings() -> dict[str, str]:
    """The worksheet script's messages, in the page's language (keys are the English text)."""
    keys = (
        N_("Done:"),
        N_("To do:"),
        N_("Partnership %s added."),
        N_("Partnership removed."),
        N_("Partnership moved to position %s."),
        N_("Saving…"),
        N_("Submitting…"),
        N_("Saved at %s."),
        N_("Submitted. Thank you!"),
        N_("Not submitted: the worksheet is not complete yet. See the checklist."),
        N_("Not saved: please check the highlighted fields."),
        N_("Your session has expired. Your latest changes are not saved: copy them, then open the activity again from your course."),
        N_("Not saved yet: the connection failed. Retrying in %s seconds…"),
        N_("Submitted earlier. You have changes that are not submitted yet."),
        N_("Submitted."),
        N_("Draft — not submitted yet."),
        N_("This worksheet was changed in another tab or window"),
        N_("Both versions are kept, so nothing is lost. Which one do you want to keep working on?"),
        N_("Keep my version"),
        N_("Use the other version"),
        N_("Showing the version saved in the other tab."),
        N_("Not saved: this worksheet was changed in another tab."),
    )
    return {key: _(key) for key in keys}


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(page_html=page_html, with_error=with_error, field_label=field_label,
                                 completion_rule=completion_rule, js_strings=js_strings, current_locale=lambda: str(get_locale() or "en"))
    app.jinja_env.filters["datetime"] = lambda v: format_datetime(_as_utc(v), "medium") if v else ""
    app.jinja_env.filters["time"] = lambda v: format_time(_as_utc(v), "short") if v else ""
