"""The practice LMS's SQLite database: schema, connections and transactions.

One connection per thread and process (thread-local, reopened after a fork), so nothing is
shared between threads; WAL mode and a busy timeout let several worker processes share the file.
Everything that matters is in the file, none of it only in memory.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from . import settings

BUSY_TIMEOUT_MS = 30_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS used_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE TABLE IF NOT EXISTS lineitems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    context_id TEXT NOT NULL,
    label TEXT NOT NULL,
    score_maximum REAL NOT NULL,
    resource_link_id TEXT,
    resource_id TEXT,
    tag TEXT,
    start_date_time TEXT,
    end_date_time TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    lineitem_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    score_given REAL,
    score_maximum REAL,
    comment TEXT,
    activity_progress TEXT,
    grading_progress TEXT,
    timestamp TEXT NOT NULL,
    timestamp_us INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    client_id TEXT NOT NULL,
    PRIMARY KEY (lineitem_id, user_id)
);
CREATE TABLE IF NOT EXISTS score_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lineitem_id INTEGER,
    user_id TEXT,
    client_id TEXT,
    status INTEGER NOT NULL,
    detail TEXT,
    body TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS score_log_user ON score_log (user_id, id);
CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_link_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    custom TEXT NOT NULL,
    line_item_id INTEGER,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- LTI Dynamic Registration (clients.py): one-time registration tokens, the clients tools registered.
CREATE TABLE IF NOT EXISTS registration_tokens (
    token_hash TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL,
    client_id TEXT
);
CREATE TABLE IF NOT EXISTS tool_clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    issuer TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    login_url TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    jwks_url TEXT NOT NULL,
    target_link_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    received TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

_ready: set[str] = set()
_ready_lock = threading.Lock()
_local = threading.local()


def _open(path: str) -> sqlite3.Connection:
    needs_schema = path not in _ready or not os.path.exists(path)  # before connect() creates the file
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")
    if needs_schema:
        _create_schema(conn, path)
    return conn


def _create_schema(conn: sqlite3.Connection, path: str) -> None:
    with _ready_lock:  # idempotent: CREATE ... IF NOT EXISTS, INSERT OR IGNORE
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
        from . import ags  # the seeded line items belong to ags

        with _transaction(conn):
            ags.seed(conn)
        _ready.add(path)


def _path() -> str:
    return settings.current().db_path


def _thread_connection(path: str) -> sqlite3.Connection:
    """This thread's connection to path, opened once and reused (never shared across threads or a fork)."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.connections = os.getpid(), {}
    conn = _local.connections.get(path)
    if conn is None or not os.path.exists(path):  # first use, or the file was deleted under us
        conn = _local.connections[path] = _open(path)
    return conn


@contextmanager
def connection() -> Iterator[sqlite3.Connection]:
    """This thread's connection to the configured database.

    Kept open between requests: closing the last connection to a WAL database checkpoints it,
    which would cost about a millisecond per request.
    """
    yield _thread_connection(_path())


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    if conn.in_transaction:  # join the enclosing transaction
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """A write transaction (BEGIN IMMEDIATE): committed on success, rolled back on error."""
    with connection() as conn, _transaction(conn) as tx:
        yield tx


def get_meta(conn: sqlite3.Connection, name: str) -> str | None:
    """A value from the meta table (keys, secrets), or None."""
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else row["value"]


def get_or_create_meta(name: str, make) -> str:
    """The meta value called name, created with make() by whichever process gets there first."""
    with connection() as conn:
        value = get_meta(conn, name)
        if value is not None:
            return value
    with transaction() as conn:
        value = get_meta(conn, name)
        if value is None:
            value = make()
            conn.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (name, value))
        return value
