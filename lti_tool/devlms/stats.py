"""Counters of what the practice LMS was asked to do (token requests, score posts, ...)."""
from __future__ import annotations

import sqlite3

from . import store

NAMES = (
    "launch_starts", "id_tokens_issued", "auth_errors", "deep_link_returns", "deep_link_errors",
    "token_requests", "tokens_issued", "token_errors",
    "score_posts", "scores_accepted", "scores_refused",
    "lineitem_requests", "result_requests", "nrps_requests", "service_unauthorized", "faults_injected",
)


def bump(name: str, conn: sqlite3.Connection | None = None, by: int = 1) -> None:
    """Add by to counter name (inside conn's transaction when one is given)."""
    sql = "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"
    if conn is not None:
        conn.execute(sql, (name, by))
        return
    with store.transaction() as tx:
        tx.execute(sql, (name, by))


def snapshot() -> dict[str, int]:
    """Every counter, zero when never bumped."""
    with store.connection() as conn:
        found = {r["name"]: r["value"] for r in conn.execute("SELECT name, value FROM counters")}
    return {**{n: 0 for n in NAMES}, **found}


def reset() -> None:
    """Set every counter back to zero."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM counters")
