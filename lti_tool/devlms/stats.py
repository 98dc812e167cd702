"""Counters of what the practice LMS was asked to do (token requests, score posts, ...).

The token endpoint's counters are also kept per client: "<name>:<client id>", e.g.
tokens_issued:practice-moodle, token_requests:practice-canvas, token_errors:unknown (a request that
names no known client). snapshot() shows them as 0 for the two registered clients until bumped, so
"at most one token per platform" reads stats["tokens_issued:practice-moodle"] <= 1.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from . import modes, store

NAMES = (
    "launch_starts", "id_tokens_issued", "auth_errors", "deep_link_returns", "deep_link_errors",
    "token_requests", "tokens_issued", "token_errors",
    "score_posts", "scores_accepted", "scores_refused",
    "lineitem_requests", "result_requests", "nrps_requests", "service_unauthorized", "faults_injected",
)


PER_CLIENT_NAMES = ("token_requests", "tokens_issued", "token_errors")
UNKNOWN_CLIENT = "unknown"
_SQL = "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"


def per_client(name: str, client_id: str | None) -> str:
    """The per-client counter name: "tokens_issued:practice-moodle" ("...:unknown" without a known client)."""
    return f"{name}:{client_id or UNKNOWN_CLIENT}"


def bump(name: str, conn: sqlite3.Connection | None = None, by: int = 1) -> None:
    """Add by to counter name (inside conn's transaction when one is given)."""
    bump_all((name,), conn, by)


def bump_all(names: Iterable[str], conn: sqlite3.Connection | None = None, by: int = 1) -> None:
    """Add by to every counter in names, in one transaction (conn's when one is given)."""
    rows = [(name, by) for name in names]
    if conn is not None:
        conn.executemany(_SQL, rows)
        return
    with store.transaction() as tx:
        tx.executemany(_SQL, rows)


def bump_client(name: str, client_id: str | None, conn: sqlite3.Connection | None = None) -> None:
    """Add one to counter name and to its per-client twin."""
    bump_all((name, per_client(name, client_id)), conn)


def _defaults() -> dict[str, int]:
    clients = [m.client_id for m in modes.MODES.values()]
    return {**{n: 0 for n in NAMES}, **{per_client(n, c): 0 for n in PER_CLIENT_NAMES for c in clients}}


def snapshot() -> dict[str, int]:
    """Every counter, zero when never bumped."""
    with store.connection() as conn:
        found = {r["name"]: r["value"] for r in conn.execute("SELECT name, value FROM counters")}
    return {**_defaults(), **found}


def reset() -> None:
    """Set every counter back to zero."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM counters")
