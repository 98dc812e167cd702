"""PostgreSQL and Redis for the tests that need them: a throwaway database per test session."""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

def skip_or_fail(reason: str) -> None:
    """Skip where a service or the browser is missing, but fail in CI (.ci/run sets REQUIRE_ALL=1)."""
    if os.environ.get("REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis() -> str:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # no server, no driver: either way these tests cannot run here
        skip_or_fail(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@contextmanager
def throwaway_postgres():
    """Yield the URL of a new, empty PostgreSQL database, dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        skip_or_fail(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    name = "lti_test_" + secrets.token_hex(4)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(PG_URL)
        try:
            yield urlunsplit(parts._replace(path="/" + name))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
