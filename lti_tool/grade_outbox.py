"""The grade outbox: scores queued with the submit that earns them, claimed and settled by workers.

Rules that keep grades from being lost or sent out of order:
- a row is added in the caller's transaction (the submit), so a submit without its grade cannot commit;
- a newer grade for the same learner and activity supersedes any older one not yet sent;
- a row is sent only while no other row of the same learner and activity is being sent;
- workers claim rows with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL, an atomic UPDATE on
  SQLite), so two workers never hold the same row; a lease left by a dead worker runs out and
  the row is queued again.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.orm import aliased, joinedload

from . import prepared
from .extensions import db
from .models import GradeOutbox as Row
from .models import Submission, utcnow

WAITING = (Row.QUEUED, Row.FAILED)
# Set when this process queues a grade, so its in-process worker sends it at once.
queued_here = threading.Event()
COMPLETED, IN_PROGRESS = "Completed", "InProgress"
FULLY_GRADED, NOT_READY = "FullyGraded", "NotReady"


def enqueue(submission: Submission, score_maximum: float, *, completed: bool = True,
            comment: Optional[str] = None) -> Row:
    """Queue the learner's grade (completed: full marks; else InProgress without a score).

    Joins the caller's transaction; the caller commits."""
    _supersede_waiting(submission.activity_id, submission.person_id)
    row = Row(
        activity_id=submission.activity_id, person_id=submission.person_id, submission_id=submission.id,
        score_given=score_maximum if completed else None, score_maximum=score_maximum if completed else None,
        activity_progress=COMPLETED if completed else IN_PROGRESS,
        grading_progress=FULLY_GRADED if completed else NOT_READY,
        comment=comment, status=Row.QUEUED, next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def _supersede_waiting(activity_id: int, person_id: int) -> None:
    db.session.execute(
        update(Row).where(Row.activity_id == activity_id, Row.person_id == person_id, Row.status.in_(WAITING))
        .values(status=Row.SUPERSEDED, lease_until=None, last_error="replaced by a newer grade")
        .execution_options(synchronize_session=False)
    )


# While the queue is long, a worker sweeps it for rows a newer grade replaced (_supersede_older) at most this
# often: the sweep reads every queued row, and the claim never takes such a row anyway (see claim). Once a
# claim finds fewer rows than it may take (the queue is short), the next claim sweeps again.
SWEEP_SECONDS = 30.0
_sweep = {"last": 0.0, "queue_short": True}


def _claim_statement():
    """UPDATE … WHERE id IN (the due rows, FOR UPDATE SKIP LOCKED) RETURNING id, built once.

    Due rows are taken in next_attempt_at order, which ix_grade_outbox_due (status, next_attempt_at)
    gives: PostgreSQL then reads only the rows it claims and stops (0.5 ms on a 10,000-row queue),
    where ordering by id as well made it read and sort the whole queue first (12 ms)."""
    busy, newer = aliased(Row), aliased(Row)
    in_flight = exists().where(
        busy.activity_id == Row.activity_id, busy.person_id == Row.person_id, busy.id != Row.id,
        busy.status == Row.SENDING,
    )
    replaced = exists().where(
        newer.activity_id == Row.activity_id, newer.person_id == Row.person_id, newer.id > Row.id,
        newer.status != Row.SUPERSEDED,
    )
    due = (
        select(Row.id).where(Row.status == Row.QUEUED, Row.next_attempt_at <= bindparam("now"), ~in_flight, ~replaced)
        .order_by(Row.next_attempt_at).limit(bindparam("limit")).with_for_update(skip_locked=True)
    )
    return (
        update(Row).where(Row.id.in_(due.scalar_subquery()), Row.status == Row.QUEUED)
        .values(status=Row.SENDING, claimed_by=bindparam("worker"), lease_until=bindparam("lease_until"),
                attempts=Row.attempts + 1)
        .returning(Row.id)
        .execution_options(synchronize_session=False)
    )


_CLAIM = _claim_statement()


def claim(worker: str, limit: int, lease_seconds: float) -> list[int]:
    """Claim up to `limit` due rows for `worker`; returns their ids (committed).

    A row is claimed only while no other row of the same learner and activity is being sent, and only
    if no newer grade of theirs is waiting: each claim reads the rows it takes, not the whole queue."""
    now = utcnow()
    _requeue_expired(now)
    if _sweep["queue_short"] or time.monotonic() - _sweep["last"] >= SWEEP_SECONDS:
        _supersede_older()
        _sweep["last"] = time.monotonic()
    result = db.session.execute(_CLAIM, {"now": now, "limit": int(limit), "worker": worker[:64],
                                         "lease_until": now + timedelta(seconds=lease_seconds)})
    ids = sorted(result.scalars())
    db.session.commit()
    _sweep["queue_short"] = len(ids) < limit
    return ids


def _requeue_expired(now: datetime) -> None:
    """Rows whose worker died mid-send go back to the queue (at most once more sent)."""
    db.session.execute(
        update(Row).where(Row.status == Row.SENDING, Row.lease_until < now)
        .values(status=Row.QUEUED, claimed_by=None, lease_until=None, last_error="the worker sending it stopped")
        .execution_options(synchronize_session=False)
    )


def _supersede_older() -> None:
    """A queued row with a newer grade beside it (a failed send re-queued late) is never sent."""
    newer = aliased(Row)
    db.session.execute(
        update(Row).where(Row.status == Row.QUEUED, exists().where(
            newer.activity_id == Row.activity_id, newer.person_id == Row.person_id, newer.id > Row.id,
            newer.status != Row.SUPERSEDED))
        .values(status=Row.SUPERSEDED, last_error="replaced by a newer grade")
        .execution_options(synchronize_session=False)
    )


def load(row_ids: list[int]) -> list[Row]:
    """Claimed rows with their learner and activity, in one round trip."""
    if not row_ids:
        return []
    return list(db.session.scalars(select(Row).where(Row.id.in_(row_ids)).order_by(Row.id)
                                   .options(joinedload(Row.person), joinedload(Row.activity))))


def is_superseded(row: Row) -> bool:
    """True when a newer grade for the same learner and activity exists (don't re-send this one)."""
    return db.session.scalar(
        select(exists().where(Row.activity_id == row.activity_id, Row.person_id == row.person_id, Row.id > row.id,
                              Row.status != Row.SUPERSEDED))
    )


_table = Row.__table__
# Built once, run on the driver's cursor: settling sent grades is the worker's most frequent write.
_SETTLE_SENT = prepared.Prepared(
    update(_table)
    .where(_table.c.id == bindparam("row_id", type_=_table.c.id.type), _table.c.status == Row.SENDING,
           _table.c.claimed_by == bindparam("worker", type_=_table.c.claimed_by.type))
    .values(status=Row.SENT, lease_until=None, last_error=None,
            sent_timestamp=bindparam("stamp", type_=_table.c.sent_timestamp.type),
            sent_at=bindparam("sent_at", type_=_table.c.sent_at.type),
            last_http_status=bindparam("http_status", type_=_table.c.last_http_status.type))
)


def settle_sent(sent: list[tuple[Row, str, int]]) -> None:
    """Mark grades the LMS accepted as sent, each (row, timestamp sent, http status), in one commit.

    Only rows this worker still holds change (a row whose lease ran out is left alone)."""
    if not sent:
        return
    now = utcnow()
    _SETTLE_SENT.run_many(db.session.connection(), [
        {"row_id": row.id, "worker": row.claimed_by, "stamp": stamp, "sent_at": now, "http_status": status}
        for row, stamp, status in sent])
    db.session.commit()


def settle_retry(row: Row, reason: str, http_status: Optional[int], delay_seconds: float) -> None:
    _settle(row, status=Row.QUEUED, next_attempt_at=utcnow() + timedelta(seconds=delay_seconds),
            last_error=reason[:2000], last_http_status=http_status)


def settle_failed(row: Row, reason: str, http_status: Optional[int]) -> None:
    _settle(row, status=Row.FAILED, last_error=reason[:2000], last_http_status=http_status)


def settle_superseded(row: Row) -> None:
    _settle(row, status=Row.SUPERSEDED, last_error="replaced by a newer grade")


def _settle(row: Row, **values) -> None:
    """Record the outcome, but only if this worker still holds the row (one small committed UPDATE)."""
    table = Row.__table__
    db.session.connection().execute(
        update(table).where(table.c.id == row.id, table.c.status == Row.SENDING, table.c.claimed_by == row.claimed_by)
        .values(lease_until=None, **values)
    )
    db.session.commit()


@dataclass
class Summary:
    counts: dict[str, int]
    oldest_queued: Optional[datetime]


def summary() -> Summary:
    counts = dict(db.session.execute(select(Row.status, func.count()).group_by(Row.status)).all())
    oldest = db.session.scalar(select(func.min(Row.created_at)).where(Row.status == Row.QUEUED))
    return Summary(counts={s: counts.get(s, 0) for s in (Row.QUEUED, Row.SENDING, Row.SENT, Row.FAILED, Row.SUPERSEDED)},
                   oldest_queued=oldest)


def failures(limit: int = 50, activity_id: Optional[int] = None) -> list[Row]:
    stmt = select(Row).where(Row.status == Row.FAILED)
    if activity_id is not None:
        stmt = stmt.where(Row.activity_id == activity_id)
    return list(db.session.scalars(stmt.order_by(Row.id.desc()).limit(limit)))


def activity_counts(activity_id: int) -> dict[str, int]:
    """How many grades of one activity are in each state (superseded ones left out)."""
    counts = dict(db.session.execute(select(Row.status, func.count()).where(Row.activity_id == activity_id)
                                     .group_by(Row.status)).all())
    return {s: counts.get(s, 0) for s in (Row.QUEUED, Row.SENDING, Row.SENT, Row.FAILED)}


def latest_for(activity_id: int, person_ids: Iterable[int]) -> dict[int, Row]:
    """Each learner's newest grade row in an activity (for the instructor's view)."""
    newest = (select(Row.person_id, func.max(Row.id).label("id"))
              .where(Row.activity_id == activity_id, Row.person_id.in_(list(person_ids))).group_by(Row.person_id).subquery())
    rows = db.session.scalars(select(Row).join(newest, and_(Row.id == newest.c.id)))
    return {r.person_id: r for r in rows}


def retry(ids: Optional[list[int]] = None) -> int:
    """Queue failed grades again (all, or those ids), unless a newer grade for the learner exists."""
    newer = aliased(Row)
    has_newer = exists().where(newer.activity_id == Row.activity_id, newer.person_id == Row.person_id,
                               newer.id > Row.id, newer.status != Row.SUPERSEDED)
    conditions = [Row.status == Row.FAILED, ~has_newer]
    if ids:
        conditions.append(Row.id.in_(ids))
    result = db.session.execute(
        update(Row).where(*conditions)
        .values(status=Row.QUEUED, next_attempt_at=utcnow(), attempts=0, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def resend(activity_id: int, person_ids: Optional[list[int]] = None) -> int:
    """Queue the newest sent or failed grade of each learner again (fresh timestamps at send)."""
    latest = latest_for(activity_id, person_ids) if person_ids else _latest_in_activity(activity_id)
    count = 0
    for row in latest.values():
        if row.status in (Row.SENT, Row.FAILED):
            _supersede_waiting(row.activity_id, row.person_id)
            db.session.add(Row(activity_id=row.activity_id, person_id=row.person_id, submission_id=row.submission_id,
                               score_given=row.score_given, score_maximum=row.score_maximum,
                               activity_progress=row.activity_progress, grading_progress=row.grading_progress,
                               comment=row.comment, status=Row.QUEUED, next_attempt_at=utcnow()))
            count += 1
    db.session.commit()
    return count


def _latest_in_activity(activity_id: int) -> dict[int, Row]:
    people = db.session.scalars(select(Row.person_id).where(Row.activity_id == activity_id).distinct())
    return latest_for(activity_id, list(people))


def due_soon() -> Optional[datetime]:
    """When the next queued row falls due (None when nothing is queued)."""
    return db.session.scalar(select(func.min(Row.next_attempt_at)).where(Row.status == Row.QUEUED))


