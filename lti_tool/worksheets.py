"""Worksheet forms, built with WTForms from a page's worksheet declaration (content.WorksheetSpec)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import Form, FieldList, FormField, RadioField, StringField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.validators import Length, Optional as OptionalValue, ValidationError

from .lti import launch_token


class LaunchCSRF(CSRF):
    """CSRF token bound to the launch token's session id (no cookie session in an LMS frame)."""

    def setup_form(self, form):
        self.meta = form.meta
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field):
        identity, secret = self.meta.csrf_context
        return launch_token.csrf_token(identity, secret)

    def validate_csrf_token(self, form, field):
        identity, secret = self.meta.csrf_context
        if not launch_token.csrf_valid(identity, secret, field.data):
            raise ValidationError(_l("This form has expired. Reload the page and try again."))


def form_locales() -> list[str]:
    """The request's locale for WTForms' built-in translations, then English (WTForms ships both)."""
    locale = get_locale()
    return [str(locale), "en"] if locale is not None and str(locale) != "en" else ["en"]


class TranslatedForm(Form):
    """A form whose WTForms messages ("Field cannot be longer than…") are in the page's language."""

    class Meta:
        @property
        def locales(self) -> list[str]:
            return form_locales()


class WorksheetForm(TranslatedForm):
    class Meta:
        csrf = True
        csrf_class = LaunchCSRF
        csrf_field_name = "csrf_token"


def _row_form(spec) -> type[Form]:
    fields: dict[str, Any] = {}
    for col in spec.table.columns:
        if col.kind == "choice":
            fields[col.id] = RadioField(col.label, choices=[(c, c) for c in col.choices], validators=[OptionalValue()],
                                        validate_choice=True)
        elif col.kind == "textarea":
            fields[col.id] = TextAreaField(col.label, validators=[Length(max=col.max_length)])
        else:
            fields[col.id] = StringField(col.label, validators=[Length(max=col.max_length)])
    return type(f"RowForm_{spec.id}", (TranslatedForm,), fields)


def _max_rows_validator(max_rows: int):
    def check(form, field):
        if len(field.entries) > max_rows:
            raise ValidationError(_l("At most %(n)d partnerships can be saved.", n=max_rows))

    return check


@lru_cache(maxsize=64)
def form_class(spec) -> type[WorksheetForm]:
    """The form for one worksheet declaration (cached: specs are frozen)."""
    fields: dict[str, Any] = {
        "rows": FieldList(FormField(_row_form(spec)), max_entries=spec.table.max_rows + 1,
                          validators=[_max_rows_validator(spec.table.max_rows)]),
    }
    for q in spec.questions:
        fields[f"q_{q.id}"] = TextAreaField(q.label, validators=[Length(max=q.max_length)])
    return type(f"WorksheetForm_{spec.id}", (WorksheetForm,), fields)


def build_form(spec, identity, secret_key: str, formdata: MultiDict | None = None, data: dict | None = None) -> WorksheetForm:
    """A bound form: from posted formdata, or prefilled from saved data ({"rows": [...], "answers": {...}})."""
    cls = form_class(spec)
    meta = {"csrf_context": (identity, secret_key)}
    if formdata is not None:
        return cls(formdata=formdata, meta=meta)
    data = data or {"rows": [], "answers": {}}
    initial = {"rows": data["rows"] or [{}]}
    initial.update({f"q_{q.id}": data["answers"].get(q.id, "") for q in spec.questions})
    return cls(data=initial, meta=meta)


def form_values(spec, form: WorksheetForm, keep_blank_rows: bool = False) -> dict[str, Any]:
    """The worksheet data a form holds: rows in order (blank ones dropped unless asked), and the answers."""
    rows = []
    for entry in form.rows.entries:
        values = {col.id: (entry.form[col.id].data or "").strip() for col in spec.table.columns}
        if keep_blank_rows or any(values.values()):
            rows.append(values)
    answers = {q.id: (form[f"q_{q.id}"].data or "").strip() for q in spec.questions}
    return {"rows": rows, "answers": answers}


def json_to_formdata(spec, payload: dict[str, Any], csrf: str | None) -> MultiDict:
    """Turn an autosave JSON body into the formdata the same form validates."""
    pairs: list[tuple[str, str]] = [("csrf_token", csrf or "")]
    rows = payload.get("rows") if isinstance(payload.get("rows"), list) else []
    for i, row in enumerate(rows):
        row = row if isinstance(row, dict) else {}
        for col in spec.table.columns:
            pairs.append((f"rows-{i}-{col.id}", _as_text(row.get(col.id))))
    answers = payload.get("answers") if isinstance(payload.get("answers"), dict) else {}
    for q in spec.questions:
        pairs.append((f"q_{q.id}", _as_text(answers.get(q.id))))
    return MultiDict(pairs)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def quick_values(spec, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The worksheet data of an autosave body (as json_to_formdata and form_values would make it) when
    it passes every check of form_class(spec), without building the form: about 55 WTForms fields
    cost a millisecond, a third of an autosave. None as soon as anything is off (too many rows, a text
    too long, a choice not offered, even a blank-looking one): the form then decides, and says what is
    wrong. The CSRF token is the caller's to check. Keep in step with _row_form and form_class;
    tests/test_fuzz_save.py checks that the two agree on arbitrary bodies."""
    rows = payload.get("rows") if isinstance(payload.get("rows"), list) else []
    if len(rows) > spec.table.max_rows:
        return None
    columns = spec.table.columns
    kept = []
    for row in rows:
        row = row if isinstance(row, dict) else {}
        values = {}
        for col in columns:
            value = _as_text(row.get(col.id))
            if col.kind == "choice":
                if value and value not in col.choices:
                    return None
            elif len(value) > col.max_length:
                return None
            values[col.id] = value.strip()
        if any(values.values()):
            kept.append(values)
    answers = payload.get("answers") if isinstance(payload.get("answers"), dict) else {}
    out = {}
    for q in spec.questions:
        value = _as_text(answers.get(q.id))
        if len(value) > q.max_length:
            return None
        out[q.id] = value.strip()
    return {"rows": kept, "answers": out}


def flat_errors(form: WorksheetForm) -> dict[str, list[str]]:
    """Errors keyed by field name (rows-0-strengths, q_talk-more, rows, csrf_token)."""
    out: dict[str, list[str]] = {}

    def walk(field):
        if isinstance(field, FieldList):
            for entry in field.entries:
                walk(entry)
            messages = [str(e) for e in field.errors if not isinstance(e, (dict, list))]
            if messages:
                out[field.name] = messages
        elif isinstance(field, FormField):
            for sub in field.form:
                walk(sub)
        elif field.errors:
            out[field.name] = [str(e) for e in field.errors]

    for field in form:
        walk(field)
    return out
