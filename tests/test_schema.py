"""The tool refuses to start, saying why, when the database schema does not match the code."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _app_config
from tests.servers import ToolServer, free_port

BIN = Path(sys.executable).parent / "lti-tool"


def env_for(tmp_path) -> dict[str, str]:
    return _app_config(tmp_path, free_port())


def run_cli(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_an_empty_database_stops_the_server_with_what_to_run(tmp_path):
    env = env_for(tmp_path)
    server = ToolServer(env, port=int(env["PORT"]), log_path=tmp_path / "server.log")
    with pytest.raises(RuntimeError):
        server.start(timeout=20)
    log = (tmp_path / "server.log").read_text()
    assert "refusing to start" in log and "lti-tool db upgrade" in log

    assert run_cli(env, "db", "upgrade").returncode == 0
    server.start()
    server.stop()


def test_a_schema_newer_than_the_code_is_refused(tmp_path):
    env = env_for(tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    database = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    worker = run_cli(env, "grades", "worker", "--once")
    assert worker.returncode != 0 and "newer than this code" in worker.stderr
    server = ToolServer(env, port=int(env["PORT"]), log_path=tmp_path / "server.log")
    with pytest.raises(RuntimeError):
        server.start(timeout=20)
    assert "newer than this code" in (tmp_path / "server.log").read_text()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_migrations_build_an_empty_database_that_matches_the_models(tmp_path, engine):
    from contextlib import nullcontext

    from tests.services import throwaway_postgres

    env = env_for(tmp_path)
    with (throwaway_postgres() if engine == "postgresql" else nullcontext(env["DATABASE_URL"])) as url:
        env["DATABASE_URL"] = url
        upgraded = run_cli(env, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        check = run_cli(env, "db", "check")
        assert check.returncode == 0 and "No new upgrade operations detected" in check.stdout + check.stderr
