"""Saving and submitting a learner's worksheet. Every write is one transaction, here.

A save names the version it was based on. If another tab saved in between, nothing is
overwritten: the incoming work is kept as a 'conflict' revision and the caller is told,
so the learner can choose which version to keep (choosing theirs keeps the other as a
'replaced' revision). Every submit keeps a 'submit' revision.

The common case, an autosave over the version the page holds, takes three statements
(_save_over); everything else (first save, conflict, submit, keep-mine) takes the full path.
On SQLite, whose database has one writer at a time, saves queue on a lock shared by the
processes of the machine instead of sleeping in SQLite's busy handler (see _one_writer).
"""
from __future__ import annotations

import re
import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional, Union

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from . import file_lock, grade_outbox, prepared
from .extensions import db
from .lti.launch_token import LaunchIdentity
from .models import Entry, Revision, Submission, utcnow


@dataclass(frozen=True)
class Saved:
    """The columns of a submission as an autosave left them: what the learner's page shows of it
    (the fast path answers with this instead of loading the row again)."""

    id: int
    version: int
    status: str
    updated_at: datetime
    submitted_at: Optional[datetime]
    submitted_version: Optional[int]

    @property
    def has_unsubmitted_changes(self) -> bool:
        return self.status == Submission.SUBMITTED and self.submitted_version != self.version


@dataclass
class SaveResult:
    """What happened to a save: saved (with the new version) or a conflict (with what is stored).

    `data` is the worksheet as stored now ({"rows", "answers"}), so the answer needs no other query."""

    ok: bool
    submission: Optional[Union[Submission, Saved]]
    conflict: bool = False
    incomplete: bool = False
    stored: dict[str, Any] = field(default_factory=dict)
    data: Optional[dict[str, Any]] = None


def find(identity: LaunchIdentity) -> Optional[Submission]:
    """The learner's submission in the launch's activity (scoped to both ids of the launch)."""
    return db.session.scalars(
        select(Submission).where(Submission.activity_id == identity.activity_id, Submission.person_id == identity.person_id)
    ).first()


def data_of(submission: Optional[Submission]) -> dict[str, Any]:
    if submission is None:
        return {"rows": [], "answers": {}}
    return {"rows": [dict(e.values) for e in submission.entries], "answers": dict(submission.answers or {})}


def name_key(name: str) -> str:
    """A partnership name folded for grouping: case, accents kept apart, spacing and punctuation ignored."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\W_]+", " ", folded).strip()[:255]


def save(identity: LaunchIdentity, spec, data: dict[str, Any], base_version: Optional[int], *,
         submit: bool = False, force: bool = False) -> SaveResult:
    """Save a draft (or submit) of `data`, based on `base_version` (None for a first save).

    `force` is the learner choosing their version after a conflict: the stored one is kept
    as a revision and theirs becomes current."""
    fast = not submit and not force and base_version is not None
    entries = _entry_rows(data["rows"]) if fast else []
    with _one_writer():
        if fast:
            saved = _save_over(identity, data, entries, base_version)
            if saved is not None:
                return saved
        return _save(identity, spec, data, base_version, submit=submit, force=force)


def _save(identity: LaunchIdentity, spec, data: dict[str, Any], base_version: Optional[int], *,
          submit: bool = False, force: bool = False) -> SaveResult:
    """The full path: creates the worksheet, detects conflicts, keeps revisions, submits."""
    submission = find(identity)
    if submit and not spec.is_complete(data["rows"], data["answers"]):
        # Not submitted, but what they wrote is kept as a draft.
        saved = _save(identity, spec, data, base_version, force=force)
        return SaveResult(ok=False, submission=saved.submission, conflict=saved.conflict, incomplete=not saved.conflict,
                          stored=saved.stored, data=saved.data)
    started = submission is None
    if submission is None:
        submission = _create(identity, spec)
        if submission is None:  # another tab made it first
            return _conflict(find(identity), data)
    else:
        expected = submission.version if force else base_version
        if expected is None or not _claim(submission, expected):
            return _conflict(submission, data)
        if expected != base_version:
            _keep(submission, Revision.REPLACED, data_of(submission), submission.version - 1)
    _write(submission, data)
    if submit:
        submission.status = Submission.SUBMITTED
        submission.submitted_at = utcnow()
        submission.submitted_version = submission.version
        _keep(submission, Revision.SUBMIT, data, submission.version)
    grade = _queue_grade(submission, spec, submit, started)
    db.session.commit()
    if grade is not None:
        grade_outbox.queued_here.set()
    return SaveResult(ok=True, submission=submission, data=data)


_SUBMISSION, _ENTRY = Submission.__table__, Entry.__table__
# Built once: an autosave runs these three and nothing else (see _save_over).
_CLAIM_AND_WRITE = prepared.Prepared(
    update(_SUBMISSION)
    .where(_SUBMISSION.c.activity_id == bindparam("launch_activity_id"), _SUBMISSION.c.person_id == bindparam("launch_person_id"),
           _SUBMISSION.c.version == bindparam("base_version"))
    .values(version=bindparam("next_version", type_=_SUBMISSION.c.version.type),
            answers=bindparam("new_answers", type_=_SUBMISSION.c.answers.type),
            updated_at=bindparam("now", type_=_SUBMISSION.c.updated_at.type))
    .returning(_SUBMISSION.c.id, _SUBMISSION.c.status, _SUBMISSION.c.submitted_at, _SUBMISSION.c.submitted_version),
    returning=(_SUBMISSION.c.id, _SUBMISSION.c.status, _SUBMISSION.c.submitted_at, _SUBMISSION.c.submitted_version),
)
_DELETE_ENTRIES = prepared.Prepared(delete(_ENTRY).where(_ENTRY.c.submission_id == bindparam("submission_id")))
_INSERT_ENTRIES = prepared.Prepared(insert(_ENTRY).values(
    submission_id=bindparam("submission_id", type_=_ENTRY.c.submission_id.type),
    position=bindparam("position", type_=_ENTRY.c.position.type),
    values=bindparam("values", type_=_ENTRY.c["values"].type),
    name_key=bindparam("name_key", type_=_ENTRY.c.name_key.type)))


def _entry_rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The entry rows of a worksheet's table, ready to insert (made before the writer's lock is taken)."""
    return [{"position": position, "values": dict(values), "name_key": name_key(values.get("partnership", ""))}
            for position, values in enumerate(rows)]


def _save_over(identity: LaunchIdentity, data: dict[str, Any], entries: list[dict[str, Any]],
               base_version: int) -> Optional[SaveResult]:
    """A draft saved over `base_version`, when that is the stored version: what the full path does in
    that case (claim the next version, replace the answers and rows, no revision, no grade), in one
    UPDATE (scoped to the launch's activity and person, and conditional on the version), one DELETE
    and one INSERT, in the session's transaction. None, with nothing changed, when the version had
    moved on or nothing is stored yet: the full path then tells a conflict or creates the worksheet."""
    now = utcnow()
    connection = db.session.connection()
    row = _CLAIM_AND_WRITE.run(connection, {
        "launch_activity_id": identity.activity_id, "launch_person_id": identity.person_id, "base_version": base_version,
        "next_version": base_version + 1, "new_answers": dict(data["answers"]), "now": now})
    if row is None:
        db.session.rollback()
        return None
    submission_id, status, submitted_at, submitted_version = row
    _DELETE_ENTRIES.run(connection, {"submission_id": submission_id})
    if entries:
        _INSERT_ENTRIES.run_many(connection, [{**entry, "submission_id": submission_id} for entry in entries])
    db.session.commit()
    saved = Saved(id=submission_id, version=base_version + 1, status=status, updated_at=now, submitted_at=submitted_at,
                  submitted_version=submitted_version)
    return SaveResult(ok=True, submission=saved, data=data)


def _one_writer():
    """SQLite has one writer at a time: saves take the database's lock file first (file_lock), so
    concurrent autosaves queue without sleeping in SQLite's busy handler, which had made the slowest
    saves wait a second. PostgreSQL locks rows, not the database: saves of different learners go on
    side by side."""
    path = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    return file_lock.held(path + ".writer-lock") if path and path != ":memory:" else nullcontext()


def _queue_grade(submission: Submission, spec, submit: bool, started: bool):
    """The completion grade joins the submit's transaction; optionally "in progress" on a first save."""
    if submit:
        return grade_outbox.enqueue(submission, spec.score_maximum, completed=True, comment=submission.feedback)
    if started and current_app.config["GRADE_PROGRESS_ON_DRAFT"]:
        return grade_outbox.enqueue(submission, spec.score_maximum, completed=False)
    return None


def _create(identity: LaunchIdentity, spec) -> Optional[Submission]:
    submission = Submission(activity_id=identity.activity_id, person_id=identity.person_id, worksheet_id=spec.id, version=1)
    db.session.add(submission)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return submission


def _claim(submission: Submission, expected: int) -> bool:
    """Move the version from `expected` to the next one, atomically; False if it had moved on."""
    result = db.session.execute(
        update(Submission).where(Submission.id == submission.id, Submission.version == expected).values(version=expected + 1)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    db.session.refresh(submission)
    return True


def _write(submission: Submission, data: dict[str, Any]) -> None:
    submission.answers = dict(data["answers"])
    submission.updated_at = utcnow()
    submission.entries.clear()
    db.session.flush()
    for position, values in enumerate(data["rows"]):
        submission.entries.append(Entry(position=position, values=dict(values), name_key=name_key(values.get("partnership", ""))))


def _keep(submission: Submission, kind: str, data: dict[str, Any], version: int) -> None:
    db.session.add(Revision(submission_id=submission.id, version=version, kind=kind, data=data))


def _conflict(submission: Submission, incoming: dict[str, Any]) -> SaveResult:
    _keep(submission, Revision.CONFLICT, incoming, submission.version)
    db.session.commit()
    stored = data_of(submission)
    return SaveResult(ok=False, submission=submission, conflict=True, stored=stored, data=stored)


def revisions(submission: Submission) -> list[Revision]:
    return list(db.session.scalars(select(Revision).where(Revision.submission_id == submission.id).order_by(Revision.id)))


def last_saved(submission: Optional[Submission]) -> Optional[datetime]:
    return submission.updated_at if submission else None


FEEDBACK_MAX = 4000


def set_feedback(submission: Submission, spec, text: str) -> bool:
    """Keep the instructor's comment; a submitted worksheet's grade is sent again with it.

    Returns True when a grade was queued."""
    text = text.strip()[:FEEDBACK_MAX] or None
    if text == submission.feedback:
        return False
    submission.feedback = text
    queued = submission.status == Submission.SUBMITTED
    if queued:
        grade_outbox.enqueue(submission, spec.score_maximum, completed=True, comment=text or "")
    db.session.commit()
    if queued:
        grade_outbox.queued_here.set()
    return queued
