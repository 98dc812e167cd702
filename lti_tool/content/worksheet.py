"""A page's worksheet, as declared under `worksheet:` in its front matter, and its completion rule."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from flask_babel import get_locale, gettext, ngettext

KINDS = ("text", "textarea", "choice")
MAX_ROWS_CAP = 200
IDENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

Problem = tuple[str, str]  # (key path such as "worksheet.table.columns[1]", message)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the worksheet table; `choices` only for kind "choice"."""

    id: str
    label: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    max_length: int = 2000


@dataclass(frozen=True)
class TableSpec:
    """The worksheet's table: one row per entry (a partnership), up to max_rows rows."""

    id: str
    label: str
    row_label: str
    columns: tuple[ColumnSpec, ...]
    max_rows: int = 50


@dataclass(frozen=True)
class QuestionSpec:
    """A free-text question answered once per worksheet."""

    id: str
    label: str
    max_length: int = 4000


@dataclass(frozen=True)
class CompletionRule:
    """Complete when at least min_rows rows have every row_requires column filled, and every listed question."""

    min_rows: int
    row_requires: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class WorksheetSpec:
    """A worksheet declaration (frozen and hashable, so forms built from it can be cached)."""

    id: str
    title: str
    instructions: str
    score_maximum: float
    table: TableSpec
    questions: tuple[QuestionSpec, ...]
    completion: CompletionRule

    def checklist(self, rows: list[dict], answers: dict) -> list[tuple[str, str, bool]]:
        """The completion rule as (item_id, label, done) items: "rows", then "question-<id>" per required question."""
        done = self._done(rows, answers)
        return [(item, label, done[item]) for item, label in _checklist_labels(self, str(get_locale()))]

    def is_complete(self, rows: list[dict], answers: dict) -> bool:
        """True when every checklist item is done."""
        return all(self._done(rows, answers).values())

    def _done(self, rows: list[dict], answers: dict) -> dict[str, bool]:
        rule = self.completion
        good = sum(1 for row in rows if all(_filled(row.get(c)) for c in rule.row_requires))
        return {"rows": good >= rule.min_rows, **{f"question-{qid}": _filled(answers.get(qid)) for qid in rule.questions}}

    def _rows_label(self) -> str:
        labels = {c.id: c.label for c in self.table.columns}
        fields = ", ".join(labels[c] for c in self.completion.row_requires)
        n = self.completion.min_rows
        if not fields:
            return ngettext("At least %(num)d row", "At least %(num)d rows", n)
        return ngettext("At least %(num)d row with: %(fields)s", "At least %(num)d rows with: %(fields)s", n, fields=fields)


@lru_cache(maxsize=256)
def _checklist_labels(spec: WorksheetSpec, locale: str) -> tuple[tuple[str, str], ...]:
    """The checklist's items and labels, translated once per worksheet and language (the request's, `locale`):
    every autosave answers with them."""
    labels = {q.id: q.label for q in spec.questions}
    return (("rows", spec._rows_label()),) + tuple(
        (f"question-{qid}", gettext("Answer: %(question)s", question=labels[qid])) for qid in spec.completion.questions)


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


class _Reader:
    """Reads one worksheet mapping, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(self, value: Any, path: str, keys: set[str]) -> Optional[dict]:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping (key: value lines)")
            return None
        for key in value:
            if key not in keys:
                self.fail(f"{path}.{key}", f"unknown key (expected one of: {', '.join(sorted(keys))})")
        return value

    def text(self, m: dict, key: str, path: str, default: Optional[str] = None) -> str:
        value = m.get(key)
        if value is None and default is not None:
            return default
        if value is None:
            self.fail(path, f"missing {key}")
        elif not isinstance(value, str) or (not value.strip() and not default):
            self.fail(f"{path}.{key}", "must be a non-empty text")
        else:
            return value.strip()
        return default or ""

    def ident(self, m: dict, key: str, path: str) -> str:
        value = self.text(m, key, path)
        if value and not IDENT.fullmatch(value):
            self.fail(f"{path}.{key}", f"{value!r} is not a valid id (lowercase letters, digits, - and _)")
        return value

    def number(self, m: dict, key: str, path: str, default: int, minimum: int = 1, cap: Optional[int] = None) -> int:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{path}.{key}", "must be a whole number")
        elif value < minimum or (cap is not None and value > cap):
            limit = f"between {minimum} and {cap}" if cap is not None else f"at least {minimum}"
            self.fail(f"{path}.{key}", f"must be {limit} (got {value})")
        else:
            return value
        return default

    def positive(self, m: dict, key: str, path: str, default: float) -> float:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            self.fail(f"{path}.{key}", "must be a number above 0")
            return default
        return value

    def items(self, m: dict, key: str, path: str, required: bool = True) -> list:
        value = m.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            self.fail(path if value is None else f"{path}.{key}",
                      f"missing {key}" if value is None else "must be a non-empty list")
            return []
        return value

    def unique(self, ids: list[str], path: str) -> None:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident and ident in seen:
                self.fail(f"{path}[{i}].id", f"duplicate id {ident!r}")
            seen.add(ident)


WORKSHEET_KEYS = {"id", "title", "instructions", "score_maximum", "table", "questions", "completion"}
TABLE_KEYS = {"id", "label", "row_label", "max_rows", "columns"}
COLUMN_KEYS = {"id", "label", "kind", "choices", "max_length"}
QUESTION_KEYS = {"id", "label", "max_length"}
COMPLETION_KEYS = {"min_rows", "row_requires", "questions"}


def parse_worksheet(value: Any) -> tuple[Optional[WorksheetSpec], list[Problem]]:
    """The WorksheetSpec declared by a front matter `worksheet:` value, or None and the problems found."""
    r = _Reader()
    m = r.mapping(value, "worksheet", WORKSHEET_KEYS)
    if m is None:
        return None, r.problems
    table = _table(r, m.get("table"), "worksheet.table")
    questions = _questions(r, m)
    spec = WorksheetSpec(
        id=r.ident(m, "id", "worksheet"), title=r.text(m, "title", "worksheet"),
        instructions=r.text(m, "instructions", "worksheet", default=""),
        score_maximum=r.positive(m, "score_maximum", "worksheet", 1),
        table=table, questions=questions,
        completion=_completion(r, m.get("completion", {}), table, questions),
    )
    return (None, r.problems) if r.problems else (spec, [])


def _table(r: _Reader, value: Any, path: str) -> TableSpec:
    if value is None:
        r.fail("worksheet", "missing table")
        value = {}
    m = r.mapping(value, path, TABLE_KEYS) or {}
    columns = tuple(_column(r, c, f"{path}.columns[{i}]") for i, c in enumerate(r.items(m, "columns", path)))
    r.unique([c.id for c in columns], f"{path}.columns")
    return TableSpec(id=r.ident(m, "id", path) if "id" in m else "rows", label=r.text(m, "label", path),
                     row_label=r.text(m, "row_label", path, default="Row") or "Row", columns=columns,
                     max_rows=r.number(m, "max_rows", path, 50, cap=MAX_ROWS_CAP))


def _column(r: _Reader, value: Any, path: str) -> ColumnSpec:
    m = r.mapping(value, path, COLUMN_KEYS) or {}
    kind = m.get("kind", "text")
    if kind not in KINDS:
        r.fail(f"{path}.kind", f"unknown kind {kind!r} (expected one of: {', '.join(KINDS)})")
    return ColumnSpec(id=r.ident(m, "id", path), label=r.text(m, "label", path), kind=kind,
                      choices=_choices(r, m, kind, path), max_length=r.number(m, "max_length", path, 2000))


def _choices(r: _Reader, m: dict, kind: Any, path: str) -> tuple[str, ...]:
    value = m.get("choices")
    if kind != "choice":
        if value is not None:
            r.fail(f"{path}.choices", "only a choice column has choices")
        return ()
    if value is None:
        r.fail(path, "choice column needs choices")
        return ()
    ok = isinstance(value, list) and value and all(isinstance(c, str) and c.strip() for c in value)
    if not ok or len(set(value)) != len(value):
        r.fail(f"{path}.choices", "must be a list of different, non-empty texts")
        return ()
    return tuple(c.strip() for c in value)


def _questions(r: _Reader, m: dict) -> tuple[QuestionSpec, ...]:
    questions = []
    for i, value in enumerate(r.items(m, "questions", "worksheet", required=False)):
        path = f"worksheet.questions[{i}]"
        q = r.mapping(value, path, QUESTION_KEYS) or {}
        questions.append(QuestionSpec(id=r.ident(q, "id", path), label=r.text(q, "label", path),
                                      max_length=r.number(q, "max_length", path, 4000)))
    r.unique([q.id for q in questions], "worksheet.questions")
    return tuple(questions)


def _completion(r: _Reader, value: Any, table: TableSpec, questions: tuple[QuestionSpec, ...]) -> CompletionRule:
    path = "worksheet.completion"
    m = r.mapping(value, path, COMPLETION_KEYS) or {}
    min_rows = r.number(m, "min_rows", path, 1, minimum=0)
    if min_rows > table.max_rows:
        r.fail(f"{path}.min_rows", f"must not be more than table.max_rows ({table.max_rows})")
    default_cols = [c.id for c in table.columns if c.kind in ("text", "textarea")]
    cols = _id_list(r, m.get("row_requires", default_cols), [c.id for c in table.columns], f"{path}.row_requires", "column")
    qids = [q.id for q in questions]
    wanted = m.get("questions", "all")
    chosen = qids if wanted == "all" else _id_list(r, wanted, qids, f"{path}.questions", "question")
    return CompletionRule(min_rows=min_rows, row_requires=tuple(cols), questions=tuple(chosen))


def _id_list(r: _Reader, value: Any, known: list[str], path: str, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.fail(path, f"must be a list of {what} ids" + (' or "all"' if what == "question" else ""))
        return []
    for v in value:
        if v not in known:
            r.fail(path, f"no {what} with id {v!r}")
    return [v for v in dict.fromkeys(value) if v in known]
