"""Grade delivery: N queued grades sent by the grade worker to the practice LMS, against a plain
HTTP POST loop to the same score endpoint, measured in the same run on the same server.

    .venv/bin/python bench/grades.py [--grades 10000] [--database-url postgresql://...] [--redis-url redis://...]

Both sides are one sequential client with a keep-alive connection and one access token.
The baseline does nothing but POST; the worker claims rows from the outbox, sends, and records
each outcome in the database. Prints a table, writes bench/results/grades[-postgresql].json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, add_service_args, free_port, prepare, table, tool_env, write_result  # noqa: E402
from tests.gradebook import queue_grades  # noqa: E402
from tests.lms import Browser  # noqa: E402

CLIENT = "practice-moodle"
SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/score"]


def setup_outbox(app, count: int) -> tuple[str, list[str]]:
    """One launched activity, `count` learners (u-load-N) with a completed grade queued each."""
    subs = [f"u-load-{n}" for n in range(1, count + 1)]
    return queue_grades(app, subs), subs


def scores_url(lineitem: str) -> str:
    path, _, query = lineitem.partition("?")
    return path.rstrip("/") + "/scores" + ("?" + query if query else "")


def access_token(app) -> str:
    """One access token for the baseline, through the tool's own connector (not timed)."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.lti.service_connector import CachedServiceConnector, TimeoutSession
    from lti_tool.lti.tool_conf import DbToolConf
    from lti_tool.models import Platform

    with app.app_context():
        platform = db.session.scalars(select(Platform).where(Platform.client_id == CLIENT)).one()
        connector = CachedServiceConnector(DbToolConf._registration(platform), TimeoutSession(10, "bench-baseline"))
        return connector.get_access_token(SCOPES)


def baseline(url: str, token: str, subs: list[str]) -> float:
    """A plain POST loop: one score per learner, fresh timestamps, one keep-alive session."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.ims.lis.v1.score+json",
                            "User-Agent": "bench-baseline"})
    start = time.perf_counter()
    for sub in subs:
        body = {"userId": sub, "scoreGiven": 1.0, "scoreMaximum": 1.0, "activityProgress": "Completed",
                "gradingProgress": "FullyGraded", "timestamp": datetime.now(timezone.utc).isoformat(timespec="microseconds")}
        response = session.post(url, data=json.dumps(body), timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"baseline post refused: {response.status_code} {response.text[:200]}")
    return time.perf_counter() - start


def worker_run(app) -> tuple[float, int]:
    from lti_tool.grade_worker import GradeWorker

    worker = GradeWorker(app, name="bench")
    start = time.perf_counter()
    handled = 0
    while (n := worker.run_once()):
        handled += n
    return time.perf_counter() - start, handled


def count_sent(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.models import GradeOutbox

    with app.app_context():
        return dict(db.session.execute(select(GradeOutbox.status, func.count()).group_by(GradeOutbox.status)).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grades", type=int, default=10_000)
    add_service_args(parser)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grades-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = tool_env(tmp, port, args, GRADE_WORKER="off", GRADE_BATCH_SIZE="50")
        app = prepare(env)
        with Server(env, tmp / "server.log") as server:
            assert Browser(server.base_url).launch("u-load-1").status_code == 200
            lineitem, subs = setup_outbox(app, args.grades)
            url = scores_url(lineitem)
            lms = f"{server.base_url}/dev/lms/api"

            token = access_token(app)
            base_seconds = baseline(url, token, subs)
            requests.delete(f"{lms}/gradebook", timeout=30).raise_for_status()
            requests.delete(f"{lms}/stats", timeout=30).raise_for_status()
            with app.app_context():
                from lti_tool.extensions import cache

                cache.clear()  # the worker starts without a token, as a new process would

            if os.environ.get("BENCH_PROFILE"):
                from pyinstrument import Profiler

                with Profiler() as profiler:
                    worker_seconds, handled = worker_run(app)
                profiler.write_html(str(tmp.parent / "bench-grades-profile.html"))
                print(profiler.output_text(unicode=False, color=False, show_all=False)[:12000])
            else:
                worker_seconds, handled = worker_run(app)
            stats = requests.get(f"{lms}/stats", timeout=30).json()
            accepted = stats.get("scores_accepted", 0)
            states = count_sent(app)

    n = args.grades
    base_rate, worker_rate = n / base_seconds, handled / worker_seconds
    tokens = stats.get(f"token_requests:{CLIENT}", stats.get("token_requests", 0))
    rows = [
        ("plain POST loop (baseline)", n, f"{base_seconds:.2f}", f"{base_rate:.0f}", "1 (before timing)"),
        ("grade worker (outbox)", handled, f"{worker_seconds:.2f}", f"{worker_rate:.0f}", tokens),
    ]
    database = "postgresql" if args.database_url else "sqlite"
    print(f"\nGrade delivery to the practice LMS, {n} grades, database {database}")
    print(table(rows, ("client", "grades", "seconds", "grades/s", "token requests")))
    print(f"ratio worker/baseline: {worker_rate / base_rate:.2f}  (target >= 0.7)")
    print(f"outbox states: {states}; scores accepted by the LMS: {accepted}")
    path = write_result("grades" + ("-postgresql" if args.database_url else ""), {
        "grades": n, "database": database, "baseline_seconds": base_seconds, "baseline_per_second": base_rate,
        "worker_seconds": worker_seconds, "worker_per_second": worker_rate, "ratio": worker_rate / base_rate,
        "token_requests": tokens, "outbox_states": states, "scores_accepted": accepted,
    })
    print(f"written: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if states.get("sent") != n or accepted != n:
        sys.exit("not every grade was delivered exactly once")


if __name__ == "__main__":
    main()
