"""Shared by the benchmarks: a fresh tool under gunicorn with production settings, and result files."""
from __future__ import annotations

import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_service_args(parser) -> None:
    """--database-url and --redis-url: run the tool on PostgreSQL and Redis instead of SQLite."""
    parser.add_argument("--database-url", default="", help="e.g. postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--redis-url", default="", help="e.g. redis://127.0.0.1:6379/1")


def tool_env(tmp: Path, port: int, args=None, **extra: str) -> dict[str, str]:
    """The tool's environment for a benchmark: a fresh SQLite file, or the services args name."""
    services = {k: v for k, v in (("DATABASE_URL", getattr(args, "database_url", "")),
                                  ("REDIS_URL", getattr(args, "redis_url", ""))) if v}
    return {
        "INSTANCE_PATH": str(tmp / "instance"), "DATABASE_URL": f"sqlite:///{tmp / 'tool.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(32), "DEV_LMS": "1", "DEVLMS_DB_PATH": str(tmp / "devlms.sqlite3"),
        "PORT": str(port), "TOOL_BASE_URL": f"http://127.0.0.1:{port}", "REDIS_URL": "", "LOG_LEVEL": "warning",
        **extra, **services,
    }


def prepare(env: dict[str, str]):
    """Migrate and register the practice LMS, as `make run` does; returns an app on the same database."""
    from lti_tool import create_app, devlms, registrations
    from lti_tool.schema import upgrade

    app = create_app({**env, "DEV_LMS": True})
    with app.app_context():
        upgrade()
        for reg in devlms.registrations(app.config):
            registrations.add_platform(**reg)
    return app


class Server:
    """gunicorn with config/gunicorn.conf.py (production settings), access log off."""

    def __init__(self, env: dict[str, str], log: Path, app: str = "lti_tool:create_app()",
                 config: str = str(ROOT / "config" / "gunicorn.conf.py")):
        self.env, self.log, self.app, self.config = env, log, app, config
        self.base_url = env["TOOL_BASE_URL"]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        cmd = [sys.executable, "-m", "gunicorn", "-c", self.config, "--access-logfile", "/dev/null", self.app]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code < 500:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start; see {self.log}")

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}, **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
