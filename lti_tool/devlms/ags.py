"""Assignment and Grade Services: line items, scores and results, with each platform's rules.

Moodle: scoreGiven is kept only with gradingProgress FullyGraded; a timestamp equal to or older
than the last one for that user and line item gets 409; a score for a non-student gets 400.
Canvas: scores for non-students and the test student get 422; an older timestamp gets 400.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from . import faults, roster, stats, store
from .modes import Mode
from .paging import with_params
from .settings import Settings

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class AgsError(Exception):
    """A refused AGS request: HTTP status and a message for the tool's developer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class LineItem:
    id: int
    context_id: str
    label: str
    score_maximum: float
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None


@dataclass(frozen=True)
class Score:
    user_id: str
    timestamp: str
    timestamp_us: int
    activity_progress: str
    grading_progress: str
    score_given: float | None
    score_maximum: float | None
    comment: str | None


# --- URLs -----------------------------------------------------------------------------------

def lineitems_url(settings: Settings, mode: Mode, context_id: str) -> str:
    """The line items container URL (Moodle adds ?type_id=<deployment id>)."""
    url = settings.course_url(context_id) + "/lineitems"
    return with_params(url, type_id=mode.deployment_id(settings)) if mode.is_moodle else url


def _item_path(settings: Settings, mode: Mode, context_id: str, item_id: int, suffix: str = "") -> str:
    base = f"{settings.course_url(context_id)}/lineitems/{item_id}"
    if mode.is_moodle:
        return with_params(f"{base}/lineitem{suffix}", type_id=mode.deployment_id(settings))
    return base + suffix


def lineitem_url(settings: Settings, mode: Mode, context_id: str, item_id: int) -> str:
    """Moodle: .../lineitems/<id>/lineitem?type_id=<n>; Canvas: .../lineitems/<id>."""
    return _item_path(settings, mode, context_id, item_id)


def scores_url(settings: Settings, mode: Mode, context_id: str, item_id: int) -> str:
    """/scores goes before the query string."""
    return _item_path(settings, mode, context_id, item_id, "/scores")


def results_url(settings: Settings, mode: Mode, context_id: str, item_id: int) -> str:
    """/results goes before the query string."""
    return _item_path(settings, mode, context_id, item_id, "/results")


# --- line items -----------------------------------------------------------------------------

def seed(conn: sqlite3.Connection) -> None:
    """Create the course's graded activities' line items if they are not there yet."""
    for act in roster.ACTIVITIES:
        if act.line_item_id is None:
            continue
        conn.execute(
            "INSERT OR IGNORE INTO lineitems (id, context_id, label, score_maximum, resource_link_id, resource_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (act.line_item_id, roster.COURSE.context_id, act.title, act.score_maximum, act.resource_link_id,
             act.custom.get("page"), time.time()),
        )


def _item(row: sqlite3.Row) -> LineItem:
    return LineItem(**{k: row[k] for k in LineItem.__dataclass_fields__})


def lineitem_json(settings: Settings, mode: Mode, item: LineItem) -> dict:
    """A line item as the AGS JSON the tool receives."""
    out = {"id": lineitem_url(settings, mode, item.context_id, item.id), "label": item.label,
           "scoreMaximum": _number(item.score_maximum)}
    optional = {"resourceLinkId": item.resource_link_id, "resourceId": item.resource_id, "tag": item.tag,
                "startDateTime": item.start_date_time, "endDateTime": item.end_date_time}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def list_lineitems(context_id: str, resource_link_id: str | None = None, resource_id: str | None = None,
                   tag: str | None = None) -> list[LineItem]:
    """The course's line items, filtered as the AGS query parameters ask."""
    sql, params = "SELECT * FROM lineitems WHERE context_id = ?", [context_id]
    for column, value in (("resource_link_id", resource_link_id), ("resource_id", resource_id), ("tag", tag)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    with store.connection() as conn:
        return [_item(r) for r in conn.execute(sql + " ORDER BY id", params)]


def get_lineitem(context_id: str, item_id: int) -> LineItem | None:
    """One line item of the course, or None."""
    with store.connection() as conn:
        row = conn.execute("SELECT * FROM lineitems WHERE id = ? AND context_id = ?", (item_id, context_id)).fetchone()
    return None if row is None else _item(row)


def lineitem_fields(body: object, check_link: Callable[[str], bool] | None = None) -> dict:
    """Validate a line item JSON (label, scoreMaximum, ...); the column values (AgsError 400 when wrong).

    check_link(resource_link_id) says whether a resourceLinkId names a resource link of the course.
    """
    if not isinstance(body, dict):
        raise AgsError(400, "the body must be a line item JSON object")
    label, maximum = body.get("label"), body.get("scoreMaximum")
    if not isinstance(label, str) or not label.strip():
        raise AgsError(400, "label is required")
    if not _is_number(maximum) or maximum <= 0:
        raise AgsError(400, "scoreMaximum must be a number greater than 0")
    link = body.get("resourceLinkId")
    if link is not None and not (check_link or roster.activity)(str(link)):
        raise AgsError(400, f"resourceLinkId {link!r} is not a resource link in this course")
    fields = {"label": label, "score_maximum": float(maximum), "resource_link_id": link}
    for key, column in (("resourceId", "resource_id"), ("tag", "tag"), ("startDateTime", "start_date_time"),
                        ("endDateTime", "end_date_time")):
        value = body.get(key)
        fields[column] = None if value is None else str(value)
    return fields


def insert_lineitem(conn: sqlite3.Connection, context_id: str, fields: dict) -> int:
    """Insert a line item from validated column values (inside conn's transaction); its id."""
    columns = ", ".join(fields)
    cursor = conn.execute(
        f"INSERT INTO lineitems (context_id, created_at, {columns}) VALUES (?, ?, {', '.join('?' * len(fields))})",
        (context_id, time.time(), *fields.values()),
    )
    return cursor.lastrowid


def create_lineitem(context_id: str, body: object, check_link: Callable[[str], bool] | None = None) -> LineItem:
    """Create a line item from the tool's JSON (400 when label or scoreMaximum is wrong)."""
    fields = lineitem_fields(body, check_link)
    with store.transaction() as conn:
        item_id = insert_lineitem(conn, context_id, fields)
    return get_lineitem(context_id, item_id)


def update_lineitem(item: LineItem, body: object) -> LineItem:
    """Replace a line item's fields (its resource link stays what it was, as Moodle does)."""
    fields = lineitem_fields({**body, "resourceLinkId": None} if isinstance(body, dict) else body)
    fields.pop("resource_link_id")
    assignments = ", ".join(f"{k} = ?" for k in fields)
    with store.transaction() as conn:
        conn.execute(f"UPDATE lineitems SET {assignments} WHERE id = ?", (*fields.values(), item.id))
    return get_lineitem(item.context_id, item.id)


def delete_lineitem(item: LineItem) -> None:
    """Delete a line item and its results."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM results WHERE lineitem_id = ?", (item.id,))
        conn.execute("DELETE FROM lineitems WHERE id = ?", (item.id,))


# --- scores ---------------------------------------------------------------------------------

def parse_timestamp(value: object) -> int:
    """An ISO 8601 timestamp as microseconds since the epoch (naive times are taken as UTC)."""
    if not isinstance(value, str):
        raise AgsError(400, "timestamp is required (ISO 8601 with time zone)")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise AgsError(400, f"timestamp {value!r} is not ISO 8601") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def parse_score(body: object) -> Score:
    """Validate a score body (userId, timestamp, activityProgress, gradingProgress, ...)."""
    if not isinstance(body, dict):
        raise AgsError(400, "the body must be a score JSON object")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise AgsError(400, "userId is required")
    stamp_us = parse_timestamp(body.get("timestamp"))
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise AgsError(400, f"activityProgress must be one of {sorted(ACTIVITY_PROGRESS)}")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        raise AgsError(400, f"gradingProgress must be one of {sorted(GRADING_PROGRESS)}")
    given, maximum, comment = body.get("scoreGiven"), body.get("scoreMaximum"), body.get("comment")
    if given is not None and (not _is_number(given) or given < 0):
        raise AgsError(400, "scoreGiven must be a number >= 0")
    if given is not None and (not _is_number(maximum) or maximum <= 0):
        raise AgsError(400, "scoreMaximum (a number > 0) is required with scoreGiven")
    if comment is not None and not isinstance(comment, str):
        raise AgsError(400, "comment must be a string")
    return Score(user_id, body["timestamp"], stamp_us, body["activityProgress"], body["gradingProgress"],
                 None if given is None else float(given), None if maximum is None else float(maximum), comment)


def _check_person(mode: Mode, user_id: str) -> None:
    person = roster.person(user_id)
    if mode.is_canvas:
        if person is None or not person.is_student:
            raise AgsError(422, "User not found in course or is not a student")
        if person.test_student:
            raise AgsError(422, "Scores for the test student are not accepted")
        return
    if person is None:
        raise AgsError(400, f"user {user_id!r} is not enrolled in this course")
    if not person.is_student:
        raise AgsError(400, f"user {user_id!r} is not a student: scores are only accepted for students")


def _check_timestamp(mode: Mode, score: Score, last: sqlite3.Row | None) -> None:
    if last is None:
        return
    if mode.is_moodle and score.timestamp_us <= last["timestamp_us"]:
        raise AgsError(409, f"Refusing score with an earlier timestamp: {score.timestamp} is not after {last['timestamp']}")
    if mode.is_canvas and score.timestamp_us < last["timestamp_us"]:
        raise AgsError(400, f"Provided timestamp of {score.timestamp} before last updated time of {last['timestamp']}")


def post_score(mode: Mode, item: LineItem, body: object, client_id: str) -> None:
    """Apply a score to the gradebook under mode's rules; AgsError when refused. Every post is logged."""
    try:
        score = parse_score(body)
        faults.check_score(score.user_id)
        _check_person(mode, score.user_id)
        _store_score(mode, item, score, body, client_id)
    except (AgsError, faults.InjectedFault) as error:
        with store.transaction() as conn:
            _log(conn, item.id, body, client_id, error.status, error.message)
            stats.bump("scores_refused", conn)
        raise AgsError(error.status, error.message) from error


def _store_score(mode: Mode, item: LineItem, score: Score, body: object, client_id: str) -> None:
    given = score.score_given
    if mode.is_moodle and score.grading_progress != "FullyGraded":
        given = None  # Moodle keeps a grade only when it is final
    with store.transaction() as conn:
        last = conn.execute(
            "SELECT timestamp, timestamp_us FROM results WHERE lineitem_id = ? AND user_id = ?", (item.id, score.user_id)
        ).fetchone()
        _check_timestamp(mode, score, last)
        conn.execute(
            "INSERT OR REPLACE INTO results (lineitem_id, user_id, score_given, score_maximum, comment, activity_progress,"
            " grading_progress, timestamp, timestamp_us, updated_at, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.id, score.user_id, given, score.score_maximum if given is not None else None, score.comment,
             score.activity_progress, score.grading_progress, score.timestamp, score.timestamp_us, time.time(), client_id),
        )
        _log(conn, item.id, body, client_id, 200, "accepted")
        stats.bump("scores_accepted", conn)


def _log(conn: sqlite3.Connection, item_id: int, body: object, client_id: str, status: int, detail: str) -> None:
    user_id = body.get("userId") if isinstance(body, dict) else None
    row = (item_id, None if user_id is None else str(user_id), client_id, status, detail,
           json.dumps(body, ensure_ascii=False, default=str)[:4000], time.time())
    sql = ("INSERT INTO score_log (lineitem_id, user_id, client_id, status, detail, body, received_at)"
           " VALUES (?, ?, ?, ?, ?, ?, ?)")
    conn.execute(sql, row)


# --- results and the gradebook --------------------------------------------------------------

def _result_rows(item_id: int, user_id: str | None = None) -> list[sqlite3.Row]:
    sql, params = "SELECT * FROM results WHERE lineitem_id = ?", [item_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    with store.connection() as conn:
        return list(conn.execute(sql + " ORDER BY user_id", params))


def _scaled(item: LineItem, row: sqlite3.Row) -> float | None:
    if row["score_given"] is None or not row["score_maximum"]:
        return None
    return row["score_given"] * item.score_maximum / row["score_maximum"]


def results_json(settings: Settings, mode: Mode, item: LineItem, user_id: str | None = None) -> list[dict]:
    """The AGS result container for a line item (optionally one user's result)."""
    out = []
    for row in _result_rows(item.id, user_id):
        result = {
            "id": with_params(results_url(settings, mode, item.context_id, item.id), user_id=row["user_id"]),
            "scoreOf": lineitem_url(settings, mode, item.context_id, item.id),
            "userId": row["user_id"],
            "resultMaximum": _number(item.score_maximum),
        }
        scaled = _scaled(item, row)
        if scaled is not None:
            result["resultScore"] = _number(scaled)
        if row["comment"]:
            result["comment"] = row["comment"]
        out.append(result)
    return out


def gradebook(context_id: str) -> list[dict]:
    """Every line item with one row per person on the roster: what the gradebook shows.

    Load learners (u-load-<n>) are not on the roster: they get a row, after it, only once they have a result.
    """
    book = []
    for item in list_lineitems(context_id):
        rows = {r["user_id"]: r for r in _result_rows(item.id)}
        loaded = sorted(n for n in map(roster.load_learner_number, rows) if n is not None)
        everyone = [*roster.PEOPLE, *map(roster.load_learner, loaded)]
        people = [_grade_row(item, p, rows.get(p.user_id)) for p in everyone]
        book.append({"id": item.id, "label": item.label, "scoreMaximum": _number(item.score_maximum),
                     "resourceLinkId": item.resource_link_id, "grades": people})
    return book


def _grade_row(item: LineItem, person: roster.Person, row: sqlite3.Row | None) -> dict:
    base = {"userId": person.user_id, "name": person.name, "role": person.role}
    if row is None:
        return {**base, "scoreGiven": None, "scoreMaximum": None, "resultScore": None, "activityProgress": None,
                "gradingProgress": None, "timestamp": None, "comment": None, "updatedAt": None}
    scaled = _scaled(item, row)
    return {**base, "scoreGiven": row["score_given"], "scoreMaximum": row["score_maximum"],
            "resultScore": None if scaled is None else _number(scaled), "activityProgress": row["activity_progress"],
            "gradingProgress": row["grading_progress"], "timestamp": row["timestamp"], "comment": row["comment"],
            "updatedAt": row["updated_at"]}


def recent_scores(limit: int = 20) -> list[dict]:
    """The latest score posts, accepted or refused, newest first."""
    with store.connection() as conn:
        rows = conn.execute("SELECT * FROM score_log ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [{k: r[k] for k in r.keys()} for r in rows]


def score_log(user_id: str | None = None, status: int | None = None, lineitem_id: int | None = None,
              client_id: str | None = None, after_id: int | None = None, limit: int | None = None) -> list[dict]:
    """Score posts as received, oldest first, optionally filtered: what GET /api/scores answers.

    Each: id, lineitem_id, user_id, client_id, status, detail, received_at (epoch seconds), and from the
    posted body: timestamp, scoreGiven, scoreMaximum, activityProgress, gradingProgress, comment.
    """
    sql, params = "SELECT * FROM score_log WHERE 1 = 1", []
    for column, value in (("user_id", user_id), ("status", status), ("lineitem_id", lineitem_id),
                          ("client_id", client_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    if after_id is not None:
        sql += " AND id > ?"
        params.append(after_id)
    sql += " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    with store.connection() as conn:
        rows = conn.execute(sql, params).fetchall()
    return [_log_entry(r) for r in rows]


def _log_entry(row: sqlite3.Row) -> dict:
    try:
        body = json.loads(row["body"]) if row["body"] else {}
    except ValueError:  # cut at 4000 characters
        body = {}
    body = body if isinstance(body, dict) else {}
    entry = {k: row[k] for k in ("id", "lineitem_id", "user_id", "client_id", "status", "detail", "received_at")}
    for key in ("timestamp", "scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress", "comment"):
        entry[key] = body.get(key)
    return entry


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
