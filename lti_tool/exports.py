"""CSV exports of an activity's worksheets: UTF-8 with a byte order mark (Excel and LibreOffice
open it with the right characters), and cells that a spreadsheet would run as a formula neutralised."""
from __future__ import annotations

import csv
import io
from typing import Iterable

from .class_view import ClassView

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (OWASP CSV injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(header: list[str], rows: Iterable[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return BOM + out.getvalue()


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def entries_csv(view: ClassView, spec) -> str:
    """One row per partnership entry, with the learner and their worksheet's status."""
    columns = list(spec.table.columns)
    header = ["Learner", "Email", "Status", "Submitted at", "Row", *[c.label for c in columns]]

    def rows():
        for row in view.rows:
            if row.submission is None:
                continue
            for n, entry in enumerate(row.submission.entries, start=1):
                yield [row.member.display, row.member.email or "", row.status, _when(row.submitted_at), n,
                       *[entry.values.get(c.id, "") for c in columns]]

    return _csv(header, rows())


def answers_csv(view: ClassView, spec) -> str:
    """One row per learner on the roster: status, how many partnerships, each reflection answer."""
    header = ["Learner", "Email", "Status", "Last saved", "Submitted at", "Partnerships", *[q.label for q in spec.questions]]

    def rows():
        for row in view.rows:
            answers = (row.submission.answers or {}) if row.submission else {}
            count = len(row.submission.entries) if row.submission else 0
            yield [row.member.display, row.member.email or "", row.status, _when(row.last_saved), _when(row.submitted_at),
                   count, *[answers.get(q.id, "") for q in spec.questions]]

    return _csv(header, rows())
