"""Issue 7's load scenario, small: bench/load.py with 20 learners against two instances on PostgreSQL + Redis.

The full scenario (300 learners, 10 minutes) is `.venv/bin/python bench/load.py`; this runs the same
script with tiny parameters and checks what it counted: every save and submit answered 200 is in the
database, every submit's grade reached the practice LMS once, nothing failed."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.services import PG_URL, require_redis, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 20


def require_postgres() -> str:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        skip_or_fail(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    return PG_URL


@pytest.mark.services
def test_small_load_scenario_loses_nothing(tmp_path):
    postgres = require_postgres()
    redis_url = require_redis()
    # The script flushes the Redis database it is given: its own number, never the other tests' one.
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path="/14"))
    output = tmp_path / "load.json"
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--learners", str(LEARNERS), "--minutes", "0.3",
         "--save-every", "1", "--margin", "15", "--postgres-url", postgres, "--redis-url", redis_url,
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    took = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result = json.loads(output.read_text())
    assert result["ok"] is True
    assert result["learners"] == result["launches"] == LEARNERS
    assert result["submits_attempted"] == result["submits"] == LEARNERS
    assert result["saves_attempted"] == result["saves_succeeded"] >= LEARNERS * 3
    assert result["errors"] == {} and result["mismatches"] == [] and result["server_log_errors"] == []
    database = result["database"]
    assert database["saves_in_database"] == result["saves_succeeded"] + result["submits"]
    assert database["submitted"] == database["worksheets_equal_to_submitted"] == database["grades_sent"] == LEARNERS
    assert database.get("conflict_revisions", 0) == 0
    assert result["practice_lms"] == {"score_posts": LEARNERS, "scores_accepted": LEARNERS, "scores_refused": 0}
    assert result["healthz"] == {"A": 200, "B": 200}
    # Learners were spread over both instances: logins and launches on each, saves on each.
    by_instance = result["requests_by_instance"]
    assert all(by_instance.get(f"{what} {i}", 0) > 0 for what in ("login", "launch", "save") for i in "AB")
    assert all(check["ok"] for check in result["checks"])
    assert took < 90, f"the small scenario took {took:.0f} s"
