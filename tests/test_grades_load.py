"""Grades under load and faults: many learners, a flaky LMS, and two workers sharing PostgreSQL."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.conftest import prepare_database
from tests.gradebook import PracticeLMS, outbox, queue_grades, wait_for
from tests.servers import ROOT, ToolServer, free_port
from tests.services import require_redis, throwaway_postgres
from tests.worksheet_client import Learner, complete_data, forget

BIN = Path(sys.executable).parent / "lti-tool"
CLIENT = "practice-moodle"


def submit_rounds(learners: dict[str, Learner], rounds: int) -> Counter:
    """Each learner submits `rounds` times, interleaved, each submit a little different."""
    versions: dict[str, int | None] = {sub: None for sub in learners}
    submits: Counter = Counter()
    for n in range(rounds):
        for sub, learner in learners.items():
            data = complete_data()
            data["rows"][0]["strengths"] = f"round {n}"
            response = learner.autosave(data, versions[sub], action="submit")
            assert response.status_code == 200, response.text[:300]
            versions[sub] = response.json()["version"]
            submits[sub] += 1
    return submits


def check_every_final_grade_arrived(app, lms: PracticeLMS, subs: list[str], submits: Counter) -> None:
    accepted = defaultdict(list)
    for post in lms.scores(status=200):
        accepted[post["user_id"]].append(post)
    for sub in subs:
        rows = outbox(app, sub)
        assert len(rows) == submits[sub], f"{sub}: one outbox row per submit"
        assert Counter(r.status for r in rows[:-1]) - Counter({"sent": len(rows), "superseded": len(rows)}) == Counter(), \
            f"{sub}: older grades are sent or superseded, none lost: {[r.status for r in rows]}"
        final = rows[-1]
        assert final.status == "sent", f"{sub}: final grade {final.status}: {final.last_error}"
        posts = accepted[sub]
        assert len(posts) == sum(r.status == "sent" for r in rows), f"{sub}: every sent grade was accepted exactly once"
        stamps = [p["timestamp"] for p in posts]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), f"{sub}: timestamps only grow"
        assert posts[-1]["timestamp"] == final.sent_timestamp, f"{sub}: the newest grade arrived last"
        result = lms.result(sub)
        assert result["timestamp"] == final.sent_timestamp and result["scoreGiven"] == 1


def test_200_submissions_from_50_learners_with_the_lms_failing_30_percent(tool):
    lms = PracticeLMS(tool.base_url)
    lms.clear_faults()
    subs = [f"u-load-{n}" for n in range(1, 51)]
    for sub in subs:
        forget(tool.app, sub)
    learners = {sub: Learner.launch(tool.base_url, sub) for sub in subs}
    stats_before = lms.stats()
    lms.faults(fail_rate=0.3, fail_target="ags", fail_seed=7)
    try:
        submits = submit_rounds(learners, rounds=4)
        assert sum(submits.values()) == 200
        wait_for(lambda: all(outbox(tool.app, sub)[-1].status == "sent" for sub in subs), timeout=180, every=0.5,
                 what="every learner's final grade")
    finally:
        lms.clear_faults()
    stats = lms.stats()
    assert stats["faults_injected"] - stats_before.get("faults_injected", 0) > 20, "the LMS really failed often"
    check_every_final_grade_arrived(tool.app, lms, subs, submits)
    token_requests = stats.get(f"token_requests:{CLIENT}", 0) - stats_before.get(f"token_requests:{CLIENT}", 0)
    assert token_requests <= 1, f"{token_requests} token requests for one platform within one token lifetime"


@pytest.fixture(scope="module")
def postgres_tool(tmp_path_factory):
    """The tool on PostgreSQL + Redis with no in-process worker: grades wait for `lti-tool grades worker`."""
    redis_url = require_redis()
    tmp = tmp_path_factory.mktemp("pg-grades")
    with throwaway_postgres() as database_url:
        port = free_port()
        env = {
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_urlsafe(32),
            "DEV_LMS": "1", "INSTANCE_PATH": str(tmp / "instance"), "DEVLMS_DB_PATH": str(tmp / "devlms.sqlite3"),
            "TOOL_BASE_URL": f"http://127.0.0.1:{port}", "GRADE_WORKER": "off",
            "GRADE_RETRY_BASE_SECONDS": "0.2", "GRADE_RETRY_MAX_SECONDS": "2", "GRADE_POLL_SECONDS": "0.2",
            "GRADE_BATCH_SIZE": "5",
        }
        prepare_database(env)
        server = ToolServer(env, port=port, workers=2, log_path=tmp / "server.log").start()
        try:
            yield server, env, tmp
        finally:
            server.stop()


@pytest.mark.services
def test_two_workers_on_postgresql_never_send_a_grade_twice(postgres_tool):
    server, env, tmp = postgres_tool
    from lti_tool import create_app

    app = create_app({**env, "DEV_LMS": True})
    lms = PracticeLMS(server.base_url)
    subs = [f"u-load-{n}" for n in range(100, 140)]
    learners = {sub: Learner.launch(server.base_url, sub) for sub in subs}
    lms.faults(fail_rate=0.2, fail_target="ags", fail_seed=11)

    worker_env = {**os.environ, **env, "PORT": str(server.port)}
    names = ("worker-a", "worker-b")
    workers = [subprocess.Popen([str(BIN), "grades", "worker", "--name", name], cwd=ROOT, env=worker_env,
                                stdout=open(tmp / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
               for name in names]
    try:
        wait_for(lambda: all("sending queued grades" in (tmp / f"{n}.log").read_text() for n in names), timeout=30,
                 what="both workers ready")
        submits = submit_rounds(learners, rounds=2)  # while both workers are polling
        wait_for(lambda: all(outbox(app, sub)[-1].status == "sent" for sub in subs), timeout=180, every=0.5,
                 what="every grade delivered by the two workers")
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=20)
        lms.clear_faults()
    check_every_final_grade_arrived(app, lms, subs, submits)
    sent_by = Counter(r.claimed_by for sub in subs for r in outbox(app, sub) if r.status == "sent")
    assert set(sent_by) == {"worker-a", "worker-b"}, f"both workers took part: {sent_by}"


def statuses(app, subs: list[str]) -> dict[str, int]:
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.models import GradeOutbox, Person

    with app.app_context():
        counts = dict(db.session.execute(
            select(GradeOutbox.status, func.count()).join(Person, GradeOutbox.person_id == Person.id)
            .where(Person.sub.in_(subs)).group_by(GradeOutbox.status)).all())
        db.session.remove()
        return counts


@pytest.mark.services
def test_a_worker_killed_mid_run_loses_no_grade_and_resends_at_most_one_batch(postgres_tool):
    """kill -9 while grades are flowing: every grade still arrives, and only the rows the dead worker
    held (at most one batch, GRADE_BATCH_SIZE) are sent a second time, after their lease runs out."""
    server, env, tmp = postgres_tool
    from lti_tool import create_app

    app = create_app({**env, "DEV_LMS": True})
    lms = PracticeLMS(server.base_url)
    lms.clear_faults()
    Learner.launch(server.base_url, "u-load-400")  # the activity and its line item exist
    subs = [f"u-load-{n}" for n in range(1000, 1600)]
    queue_grades(app, subs)
    ours = set(subs)
    batch = 10
    worker_env = {**os.environ, **env, "PORT": str(server.port), "GRADE_BATCH_SIZE": str(batch),
                  "GRADE_LEASE_SECONDS": "2"}

    def accepted_now() -> int:
        return sum(1 for p in lms.scores(status=200) if p["user_id"] in ours)

    doomed = subprocess.Popen([str(BIN), "grades", "worker", "--name", "doomed"], cwd=ROOT, env=worker_env,
                              stdout=open(tmp / "doomed.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: accepted_now() >= 40, timeout=60, every=0.01, what="grades flowing")
    finally:
        doomed.kill()
        doomed.wait(timeout=20)
    at_kill = accepted_now()
    assert at_kill < len(subs), "the worker was killed before it had sent everything"
    survivor = subprocess.Popen([str(BIN), "grades", "worker", "--name", "survivor"], cwd=ROOT, env=worker_env,
                                stdout=open(tmp / "survivor.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: statuses(app, subs) == {"sent": len(subs)}, timeout=120, every=0.5,
                 what="every grade sent after the kill")
    finally:
        survivor.terminate()
        survivor.wait(timeout=20)
    posts = defaultdict(list)
    for post in lms.scores(status=200):
        if post["user_id"] in ours:
            posts[post["user_id"]].append(post["timestamp"])
    assert set(posts) == set(subs), "every learner's grade arrived"
    twice = [sub for sub, stamps in posts.items() if len(stamps) > 1]
    assert len(twice) <= batch, f"{len(twice)} grades sent twice; only the dead worker's batch may be"
    assert all(len(stamps) <= 2 and stamps == sorted(stamps) for stamps in posts.values())


@pytest.mark.services
def test_a_claim_takes_only_the_newest_waiting_grade_of_a_learner(postgres_tool):
    """An older grade queued again beside a newer one (a retry that came back late) is never sent: the claim
    skips it, and the queue's sweep marks it superseded."""
    server, env, tmp = postgres_tool
    from sqlalchemy import insert, select

    from lti_tool import create_app, grade_outbox
    from lti_tool.extensions import db
    from lti_tool.models import Activity, GradeOutbox, Person, utcnow

    app = create_app({**env, "DEV_LMS": True})
    Learner.launch(server.base_url, "u-load-2000")
    with app.app_context():
        activity_id = db.session.scalars(select(Activity.id).where(Activity.resource_link_id == "rl-relationships")).one()
        person_id = db.session.scalars(select(Person.id).where(Person.sub == "u-load-2000")).one()
        now = utcnow()
        row = {"activity_id": activity_id, "person_id": person_id, "score_given": 1.0, "score_maximum": 1.0,
               "activity_progress": "Completed", "grading_progress": "FullyGraded", "status": "queued", "attempts": 1,
               "next_attempt_at": now, "created_at": now}
        older, newer = (db.session.execute(insert(GradeOutbox).returning(GradeOutbox.id), [row]).scalar_one() for _ in "ab")
        db.session.commit()
        claimed = grade_outbox.claim("test-claimer", 50, 60)
        assert older not in claimed and newer in claimed
        grade_outbox._sweep["queue_short"] = True  # the next claim sweeps
        grade_outbox.claim("test-claimer", 50, 60)
        statuses = dict(db.session.execute(select(GradeOutbox.id, GradeOutbox.status)
                                           .where(GradeOutbox.id.in_([older, newer]))).all())
        assert statuses == {older: "superseded", newer: "sending"}
        db.session.remove()
