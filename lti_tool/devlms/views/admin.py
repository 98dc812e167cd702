"""The gradebook (HTML and JSON), counters, and the fault-injection API for tests and demos."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template, request

from .. import ags, faults, roster, stats, store, tokens
from . import bp
from .common import error_json, json_response

REFRESH_SECONDS = 3  # the no-script fallback: <noscript><meta http-equiv="refresh"></noscript>
POLL_SECONDS = 2  # static/gradebook.js polls /api/gradebook and /api/stats this often
RECENT_SCORES = 20


@bp.get("/gradebook")
def gradebook_page():
    """What the LMS's gradebook shows; static/gradebook.js keeps it up to date (a reload link without scripts)."""
    return render_template(
        "devlms/gradebook.html", course=roster.COURSE, book=ags.gradebook(roster.COURSE.context_id),
        recent=ags.recent_scores(RECENT_SCORES), counters=stats.snapshot(), faults=faults.current(),
        refresh=REFRESH_SECONDS, poll_seconds=POLL_SECONDS, recent_limit=RECENT_SCORES, loaded_at=datetime.now(UTC),
    )


@bp.get("/api/gradebook")
def gradebook_json():
    """The gradebook as JSON: line items, each with one row per person."""
    return json_response({"course": {"id": roster.COURSE.context_id, "title": roster.COURSE.title},
                          "lineitems": ags.gradebook(roster.COURSE.context_id), "recent_scores": ags.recent_scores(50)})


class _BadQuery(ValueError):
    """A query parameter of an /api/... call is not understood."""


def _int_arg(name: str, minimum: int = 0) -> int | None:
    """The integer query parameter name (None when absent); _BadQuery when not an integer >= minimum."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise _BadQuery(f"{name} must be an integer") from None
    if number < minimum:
        raise _BadQuery(f"{name} must be at least {minimum}")
    return number


@bp.get("/api/scores")
def scores_log():
    """Every score post received (accepted or refused), oldest first: {"count": n, "scores": [...]}.

    Filters: user_id, status (e.g. 200, 409), lineitem_id, client_id, after_id (only posts with a
    larger id), limit. Each entry: id, lineitem_id, user_id, client_id, status, detail, received_at,
    and from the body: timestamp, scoreGiven, scoreMaximum, activityProgress, gradingProgress, comment.
    """
    try:
        scores = ags.score_log(
            user_id=request.args.get("user_id") or None, status=_int_arg("status", 100),
            lineitem_id=_int_arg("lineitem_id"), client_id=request.args.get("client_id") or None,
            after_id=_int_arg("after_id"), limit=_int_arg("limit", 1),
        )
    except _BadQuery as error:
        return error_json(400, "invalid_request", str(error))
    return json_response({"count": len(scores), "scores": scores})


@bp.delete("/api/gradebook")
def gradebook_reset():
    """Forget every result and score post (line items stay; deleted built-in ones come back)."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM results")
        conn.execute("DELETE FROM score_log")
        ags.seed(conn)
    return "", 204


@bp.delete("/api/course")
def course_reset():
    """The course as first made: built-in activities and line items only, no results (test isolation)."""
    with store.transaction() as conn:
        for table in ("results", "score_log", "lineitems", "activities"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
        ags.seed(conn)
    return "", 204


@bp.get("/api/stats")
def stats_json():
    """Counters: token_requests, tokens_issued, score_posts, scores_accepted, ..."""
    return json_response(stats.snapshot())


@bp.delete("/api/stats")
def stats_reset():
    """Set every counter to zero."""
    stats.reset()
    return "", 204


@bp.get("/api/faults")
def faults_show():
    """The faults in force."""
    return json_response(faults.current())


@bp.post("/api/faults")
def faults_set():
    """Inject faults (see faults.py for the keys); the others stay as they are."""
    try:
        return json_response(faults.apply(request.get_json(force=True, silent=True)))
    except faults.FaultSpecError as error:
        return error_json(400, "invalid_request", str(error))


@bp.delete("/api/faults")
def faults_clear():
    """Remove every fault."""
    faults.clear()
    return json_response(faults.current())


@bp.post("/api/tokens/expire")
def tokens_expire():
    """Expire every access token now, so the tool must fetch a new one."""
    return json_response({"expired": tokens.expire_access_tokens()})
