"""Load: learners launch, autosave every few seconds and submit within a window, against two instances of
the tool sharing PostgreSQL and Redis; then every save and every grade is counted where it landed.

    .venv/bin/python bench/load.py [--learners 300] [--minutes 10] [--save-every 5] [--workers 2]
        [--margin SECONDS] [--postgres-url postgresql://postgres@127.0.0.1:5432/] [--redis-url redis://127.0.0.1:6379/13]

Everything runs on loopback: a throwaway PostgreSQL database (CREATE DATABASE load_<hex>, dropped at the
end), a dedicated Redis database (flushed first and last), two gunicorn instances of the tool
(config/gunicorn.conf.py, GRADE_WORKER=inline) answering for one public URL, as behind a load balancer.
The practice LMS is served by the tool itself (DEV_LMS) and receives the grades.

Each learner (practice LMS load learners u-load-1..N) plays the browser and the LMS: login initiation at
one instance, the id_token (signed with the practice LMS's key for the nonce the tool chose) posted to
the same or the other instance, the page loaded, then the page's script: an autosave every --save-every
seconds (+-20% jitter) with content growing as a person types (rows added, fields filled, reflection
answers written), the version handled as static/worksheet.js does, and a submit of the complete
worksheet at a random time within the window; then the learner stops. A third of the learners send
each save to the other instance than the previous one (no sticky sessions).

The run is bounded: at window + margin everything stops and is reported. Afterwards, in the database:
every learner's submission is submitted, its version equals the saves + submit the learner got 200 for,
its rows and answers equal what was submitted, it has exactly one submit revision and no conflict
revision, its grade row is sent; and the practice LMS accepted exactly one score per submit. Any error or
mismatch: exit status 1. Prints tables and writes bench/results/load.json.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import http.client
import random
import re
import resource
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server, free_port, median, percentile, prepare, table, tool_env, write_result,
)
from bench.launch import Platform  # noqa: E402

QUESTIONS = ("connect-colleagues", "leverage-relationships", "talk-more", "never-thought")
COLUMNS = ("partnership", "type", "strengths", "weaknesses", "improvement")
TEXT_COLUMNS = ("strengths", "weaknesses", "improvement")
LIMITS = {"partnership": 200, "strengths": 1000, "weaknesses": 1000, "improvement": 1000, "question": 3000}
LAUNCH_NODE = re.compile(r'<div id="launch"[^>]*data-launch-token="([^"]*)"[^>]*data-csrf-token="([^"]*)"')
ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|WORKER TIMEOUT|\[ERROR\]")

ORGANIZATIONS = (
    "Boys and Girls Club", "Teen Advisory Board", "Neighborhood Association", "Lincoln Elementary PTA",
    "Community College", "Youth Soccer League", "Makerspace Collective", "Food Bank", "Local Artist",
    "Historical Society", "انجمن محله", "Asociación de Padres", "Senior Center", "Parks Department",
)
WORDS = (
    "teens", "volunteers", "space", "schedule", "bilingual", "English/Farsi", "meetings", "funding", "trust",
    "outreach", "workshops", "after school", "families", "calendar", "carpool", "technology", "library",
    "staff", "mentors", "youth", "programs", "partnership", "community", "niños", "bibliothèque",
    "کتابخانه", "gemeinsam", "reliable", "monthly", "shared", "goals", "time", "distance", "members",
)


# --- what a learner types ---------------------------------------------------------------------------

def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, low: int, high: int) -> str:
    size, parts = rng.randint(low, high), []
    while sum(len(p) + 1 for p in parts) < size:
        parts.append(sentence(rng, rng.randint(4, 14)))
    return " ".join(parts)


def blank_row() -> dict[str, str]:
    return dict.fromkeys(COLUMNS, "")


class Worksheet:
    """The page's form as a person fills it: a plan of fields and the text each will hold, typed a few
    dozen characters at a time (a row is added blank, then filled; answers between rows)."""

    def __init__(self, rng: random.Random, n: int):
        self.rng = rng
        rows = rng.randint(2, 7)
        self.target_rows = [{
            "partnership": f"{rng.choice(ORGANIZATIONS)} {n}-{i + 1}", "type": rng.choice(("formal", "informal")),
            **{c: paragraph(rng, 60, 400) for c in TEXT_COLUMNS},
        } for i in range(rows)]
        self.target_answers = {q: paragraph(rng, 150, 900) for q in QUESTIONS}
        plan: list[tuple] = []
        for i in range(rows):
            plan += [("row", i, c) for c in COLUMNS]
            if i < len(QUESTIONS):
                plan.append(("answer", QUESTIONS[i], None))
        plan += [("answer", q, None) for q in QUESTIONS[rows:]]
        self.plan, self.step = plan, 0
        self.rows: list[dict[str, str]] = [blank_row()]  # the page shows one blank row to type into
        self.answers = dict.fromkeys(QUESTIONS, "")

    def _target(self, kind, key, col) -> str:
        return self.target_rows[key][col] if kind == "row" else self.target_answers[key]

    def _get(self, kind, key, col) -> str:
        return self.rows[key][col] if kind == "row" else self.answers[key]

    def _set(self, kind, key, col, value: str) -> None:
        if kind == "row":
            self.rows[key][col] = value
        else:
            self.answers[key] = value

    def type(self, chars: int) -> None:
        """Type about `chars` characters further; once the plan is done, revise what is there."""
        while chars > 0 and self.step < len(self.plan):
            kind, key, col = self.plan[self.step]
            if kind == "row":
                while len(self.rows) <= key:  # "Add a partnership": a blank row appears, then is typed into
                    self.rows.append(blank_row())
            target, current = self._target(kind, key, col), self._get(kind, key, col)
            if col == "type":  # a radio button: one click
                self._set(kind, key, col, target)
                chars -= 6
            else:
                take = min(chars, len(target) - len(current))
                self._set(kind, key, col, target[:len(current) + take])
                chars -= take
            if self._get(kind, key, col) == target:
                self.step += 1
        if self.step >= len(self.plan) and chars > 0:
            self.revise()

    def revise(self) -> None:
        """Everything is written: add a sentence somewhere, or change a row's type, within the limits."""
        if self.rng.random() < 0.2:
            row = self.rng.choice(self.rows)
            row["type"] = "informal" if row["type"] == "formal" else "formal"
            return
        addition = " " + sentence(self.rng, self.rng.randint(3, 8))
        if self.rng.random() < 0.5:
            q = self.rng.choice(QUESTIONS)
            if len(self.answers[q]) + len(addition) <= LIMITS["question"]:
                self.answers[q] += addition
                return
        row, col = self.rng.choice(self.rows), self.rng.choice(TEXT_COLUMNS)
        if len(row[col]) + len(addition) <= LIMITS[col]:
            row[col] += addition

    def finish(self) -> None:
        """Before pressing Submit the person fills in whatever is still missing."""
        while self.step < len(self.plan):
            self.type(10_000)

    def payload(self) -> dict:
        """What collect() in static/worksheet.js sends: every row shown (blank ones too), every answer."""
        return {"rows": [dict(r) for r in self.rows], "answers": dict(self.answers)}


def expected_data(data: dict) -> dict:
    """What the server stores for a payload: values stripped, blank rows dropped."""
    rows = [{c: (r.get(c) or "").strip() for c in COLUMNS} for r in data["rows"]]
    return {"rows": [r for r in rows if any(r.values())], "answers": {q: (a or "").strip() for q, a in data["answers"].items()}}


# --- measurements -----------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.lag: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.error_samples: list[str] = []
        self.attempts: Counter = Counter()
        self.per_instance: Counter = Counter()
        self.stale_retries = 0
        self.started_per_second: Counter = Counter()  # saves and submits by the second of the window they started in

    def request(self, kind: str, seconds: float, lag: float | None = None) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            if lag is not None:
                self.lag[kind].append(lag)

    def error(self, kind: str, what: str, detail: str) -> None:
        with self.lock:
            self.errors[f"{kind} {what}"] += 1
            if len(self.error_samples) < 30:
                self.error_samples.append(f"{kind} {what}: {detail[:300]}")


@dataclass
class LearnerState:
    n: int
    sub: str
    login_on: str
    launch_on: str
    alternate_saves: bool
    launch_at: float
    submit_at: float
    launched: bool = False
    saves_attempted: int = 0
    saves_ok: int = 0
    submits_attempted: int = 0
    submit_ok: bool = False
    conflicts: int = 0
    last_version: int | None = None
    submitted: dict | None = None
    finished: bool = False
    stopped_by_deadline: bool = False
    errors: list[str] = field(default_factory=list)


class Deadline(Exception):
    pass


class Learner(threading.Thread):
    """One person's browser tab, from the click in the course to Submit."""

    def __init__(self, state: LearnerState, run: "Run"):
        super().__init__(name=state.sub, daemon=True)
        self.s, self.run_ = state, run
        self.rng = random.Random(run.seed * 100_003 + state.n)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "bench-load/1"
        self.instance = state.launch_on
        self.launch_token = self.csrf_token = ""
        self.keep_mine = False

    # timing
    def wait_until(self, at: float) -> None:
        delay = self.run_.t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def timeout(self) -> float:
        left = self.run_.deadline - time.monotonic()
        if left <= 0:
            raise Deadline()
        return min(30.0, left)

    def send(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request; a kept-alive connection the server closed as idle is retried once on a new
        connection, as browsers do (the server had not read the request)."""
        try:
            return self.http.request(method, url, timeout=self.timeout(), **kwargs)
        except requests.ConnectionError as exc:
            if not _stale_connection(exc):
                raise
            with self.run_.rec.lock:
                self.run_.rec.stale_retries += 1
            return self.http.request(method, url, timeout=self.timeout(), **kwargs)

    def run(self) -> None:
        s, rec = self.s, self.run_.rec
        try:
            self.wait_until(s.launch_at)
            if not self.launch():
                return
            sheet = Worksheet(self.rng, s.n)
            due = time.monotonic() - self.run_.t0 + self.interval()
            while due < s.submit_at:
                self.wait_until(due)
                sheet.type(self.rng.randint(20, 90))
                self.save(sheet, due, "save")
                due += self.interval()
            self.wait_until(s.submit_at)
            sheet.finish()
            self.save(sheet, s.submit_at, "submit")
            s.finished = True
        except Deadline:
            s.stopped_by_deadline = True
            rec.error("learner", "stopped by the deadline", s.sub)
        except Exception as exc:  # reported, never silent
            s.errors.append(repr(exc))
            rec.error("learner", type(exc).__name__, f"{s.sub}: {exc!r}")
        finally:
            self.http.close()

    def interval(self) -> float:
        return self.run_.save_every * self.rng.uniform(0.8, 1.2)

    def launch(self) -> bool:
        s, run, rec = self.s, self.run_, self.run_.rec
        lag = time.monotonic() - run.t0 - s.launch_at
        start = time.perf_counter()
        with rec.lock:
            rec.attempts["launch"] += 1
        try:
            login = self.send("GET", run.urls[s.login_on] + "/lti/login",
                              params=run.platform.login_params(s.sub, run.public_url + "/lti/launch"), allow_redirects=False)
            if login.status_code not in (302, 303):
                rec.error("launch", f"login {login.status_code}", login.text)
                return False
            query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
            id_token = run.platform.id_token(s.sub, query["nonce"])
            launch = self.send("POST", run.urls[s.launch_on] + "/lti/launch",
                               data={"id_token": id_token, "state": query["state"]}, allow_redirects=False)
            if launch.status_code != 303:
                rec.error("launch", f"launch {launch.status_code}", launch.text)
                return False
            pair = time.perf_counter() - start
            where = urlsplit(launch.headers["Location"])
            page_start = time.perf_counter()
            page = self.send("GET", run.urls[s.launch_on] + urlunsplit(("", "", where.path, where.query, "")))
            if page.status_code != 200:
                rec.error("launch", f"page {page.status_code}", page.text)
                return False
            found = LAUNCH_NODE.search(page.text)
            if not found or 'id="worksheet-form"' not in page.text:
                rec.error("launch", "page without the worksheet", page.text[:300])
                return False
        finally:
            self.http.cookies.clear()  # the state cookie is done with; the page works with its launch token
        self.launch_token, self.csrf_token = html.unescape(found.group(1)), html.unescape(found.group(2))
        rec.request("launch pair", pair, lag)
        rec.request("page", time.perf_counter() - page_start)
        with rec.lock:
            rec.per_instance[f"login {s.login_on}"] += 1
            rec.per_instance[f"launch {s.launch_on}"] += 1
        s.launched = True
        return True

    def save(self, sheet: Worksheet, due: float, action: str) -> None:
        """One POST /api/worksheet as static/worksheet.js sends it, and its answer handled the same way."""
        s, run, rec = self.s, self.run_, self.run_.rec
        if s.alternate_saves:
            self.instance = "B" if self.instance == "A" else "A"
        body = {**sheet.payload(), "base_version": s.last_version, "action": action}
        if action == "save" and self.keep_mine:
            body["action"], self.keep_mine = "keep-mine", False
        kind = "submit" if action == "submit" else "save"
        if kind == "submit":
            s.submits_attempted += 1
        else:
            s.saves_attempted += 1
        with rec.lock:
            rec.attempts[kind] += 1
        lag = time.monotonic() - run.t0 - due
        with rec.lock:
            rec.started_per_second[int(due + lag)] += 1
        start = time.perf_counter()
        try:
            response = self.send("POST", run.urls[self.instance] + "/api/worksheet", json=body, headers={
                "Accept": "application/json", "X-Launch-Token": self.launch_token, "X-CSRF-Token": self.csrf_token})
        except Deadline:
            raise
        except requests.RequestException as exc:
            rec.error(kind, type(exc).__name__, f"{s.sub} on {self.instance}: {exc!r}")
            return
        elapsed = time.perf_counter() - start
        with rec.lock:
            rec.per_instance[f"{kind} {self.instance}"] += 1
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if answer.get("launch_token"):
            self.launch_token = answer["launch_token"]
        if response.status_code == 200:
            rec.request(kind, elapsed, lag)
            s.last_version = answer["version"]
            if kind == "submit":
                if answer.get("status") != "submitted":
                    rec.error(kind, "answered 200 without status submitted", f"{s.sub}: {answer}")
                    return
                s.submit_ok, s.submitted = True, expected_data(body)
            else:
                s.saves_ok += 1
                if due > run.ramp + run.save_every:  # steady state: every learner launched
                    rec.request("save after the ramp", elapsed)
            return
        rec.error(kind, str(response.status_code), f"{s.sub} on {self.instance}: {response.text}")
        if response.status_code == 409:  # another tab saved in between (never expected here): keep mine next time
            s.conflicts += 1
            self.keep_mine = True
        elif response.status_code == 422 and answer.get("incomplete") and answer.get("version"):
            s.last_version = answer["version"]  # saved as a draft, not submitted


def _stale_connection(exc: Exception) -> bool:
    seen, inner = set(), exc
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        if isinstance(inner, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
            return True
        inner = inner.__cause__ or inner.__context__ or (inner.args[0] if inner.args and isinstance(inner.args[0], Exception) else None)
    return False


# --- the run ----------------------------------------------------------------------------------------

class Run:
    def __init__(self, args, platform: Platform, urls: dict[str, str], public_url: str):
        self.args, self.platform, self.urls, self.public_url = args, platform, urls, public_url
        self.seed = args.seed
        self.save_every = args.save_every
        self.window = args.minutes * 60
        self.margin = args.margin if args.margin is not None else max(20.0, 0.1 * self.window)
        self.ramp = min(30.0, 0.1 * self.window)  # launches are spread over the start of the window
        self.rec = Recorder()
        self.t0 = self.deadline = 0.0

    def learners(self) -> list[LearnerState]:
        rng = random.Random(self.seed)
        n = self.args.learners
        ramp = self.ramp
        out = []
        for i in range(n):
            launch_at = ramp * i / max(n, 1) + rng.uniform(0, ramp / max(n, 1))
            earliest = max(launch_at + 2 * self.save_every, 0.25 * self.window)
            submit_at = rng.uniform(min(earliest, self.window), self.window)
            out.append(LearnerState(
                n=i + 1, sub=f"u-load-{i + 1}", login_on="AB"[i % 2], launch_on="AB"[(i // 2) % 2],
                alternate_saves=i % 3 == 0, launch_at=launch_at, submit_at=submit_at))
        return out

    def go(self, states: list[LearnerState]) -> float:
        self.t0 = time.monotonic() + 0.5
        self.deadline = self.t0 + self.window + self.margin
        threads = [Learner(s, self) for s in states]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.0, self.deadline - time.monotonic()))
        return time.monotonic() - self.t0


# --- counting what landed ---------------------------------------------------------------------------

def wait_for_grades(app, expected: int, deadline: float) -> dict[str, int]:
    from sqlalchemy import func, select

    from lti_tool.extensions import db
    from lti_tool.models import GradeOutbox

    while True:
        with app.app_context():
            statuses = dict(db.session.execute(select(GradeOutbox.status, func.count()).group_by(GradeOutbox.status)).all())
            db.session.remove()
        pending = statuses.get("queued", 0) + statuses.get("sending", 0)
        if (statuses.get("sent", 0) >= expected and not pending) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


def count_database(app, states: list[LearnerState]) -> tuple[dict, list[str]]:
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Entry, GradeOutbox, Person, Revision, Submission

    by_sub = {s.sub: s for s in states}
    problems: list[str] = []
    counts = Counter()
    with app.app_context():
        subs = {p.id: p.sub for p in db.session.scalars(select(Person).where(Person.sub.like("u-load-%")))}
        submissions = {subs[x.person_id]: x for x in db.session.scalars(select(Submission)) if x.person_id in subs}
        revisions: dict[int, Counter] = defaultdict(Counter)
        submit_versions: dict[int, list[int]] = defaultdict(list)
        for r in db.session.scalars(select(Revision)):
            revisions[r.submission_id][r.kind] += 1
            if r.kind == Revision.SUBMIT:
                submit_versions[r.submission_id].append(r.version)
        entries: dict[int, list[Entry]] = defaultdict(list)
        for e in db.session.scalars(select(Entry).order_by(Entry.submission_id, Entry.position)):
            entries[e.submission_id].append(e)
        grades: dict[str, Counter] = defaultdict(Counter)
        for g in db.session.scalars(select(GradeOutbox)):
            grades[subs.get(g.person_id, "?")][g.status] += 1
        for sub, s in by_sub.items():
            sub_row = submissions.get(sub)
            writes = s.saves_ok + (1 if s.submit_ok else 0)
            counts["saves_in_database"] += sub_row.version if sub_row else 0
            if sub_row is None:
                if writes:
                    problems.append(f"{sub}: {writes} saves answered 200 but no submission in the database")
                continue
            counts["submissions"] += 1
            if sub_row.version != writes:
                problems.append(f"{sub}: version {sub_row.version} in the database, {writes} saves + submit answered 200")
            if s.last_version is not None and sub_row.version != s.last_version:
                problems.append(f"{sub}: version {sub_row.version} in the database, last answer said {s.last_version}")
            kinds = revisions.get(sub_row.id, Counter())
            counts["conflict_revisions"] += kinds["conflict"] + kinds["replaced"]
            if kinds["conflict"] or kinds["replaced"]:
                problems.append(f"{sub}: revisions {dict(kinds)} (a save was refused as a conflict)")
            if s.submit_ok:
                if sub_row.status != Submission.SUBMITTED or sub_row.submitted_version != sub_row.version:
                    problems.append(f"{sub}: status {sub_row.status}, submitted_version {sub_row.submitted_version}, "
                                    f"version {sub_row.version}")
                else:
                    counts["submitted"] += 1
                if submit_versions.get(sub_row.id) != [sub_row.version]:
                    problems.append(f"{sub}: submit revisions at versions {submit_versions.get(sub_row.id)}, expected [{sub_row.version}]")
                stored = {"rows": [{c: e.values.get(c, "") for c in COLUMNS} for e in entries[sub_row.id]],
                          "answers": {q: (sub_row.answers or {}).get(q, "") for q in QUESTIONS}}
                if stored != s.submitted:
                    problems.append(f"{sub}: the stored worksheet differs from the submitted one")
                else:
                    counts["worksheets_equal_to_submitted"] += 1
                counts["entries"] += len(entries[sub_row.id])
                if grades[sub] != Counter({"sent": 1}):
                    problems.append(f"{sub}: grade rows {dict(grades[sub])}, expected one sent")
                else:
                    counts["grades_sent"] += 1
            elif sub_row.status == Submission.SUBMITTED:
                problems.append(f"{sub}: submitted in the database, but the submit was not answered 200")
        db.session.remove()
    return dict(counts), problems


def count_scores(lms_url: str, states: list[LearnerState]) -> tuple[dict, list[str]]:
    scores = requests.get(f"{lms_url}/dev/lms/api/scores", params={"limit": 1_000_000}, timeout=60).json()["scores"]
    ours = [p for p in scores if (p.get("user_id") or "").startswith("u-load-")]
    accepted = Counter(p["user_id"] for p in ours if p["status"] == 200)
    full = Counter(p["user_id"] for p in ours if p["status"] == 200 and p.get("scoreGiven") == p.get("scoreMaximum")
                   and p.get("gradingProgress") == "FullyGraded" and p.get("activityProgress") == "Completed")
    refused = [p for p in ours if p["status"] != 200]
    problems = [f"score post refused: {p['user_id']} {p['status']} {p.get('detail')}" for p in refused[:20]]
    for s in states:
        want = 1 if s.submit_ok else 0
        if accepted[s.sub] != want or full[s.sub] != want:
            problems.append(f"{s.sub}: {accepted[s.sub]} scores accepted by the LMS ({full[s.sub]} complete), expected {want}")
    return {"score_posts": len(ours), "scores_accepted": sum(accepted.values()), "scores_refused": len(refused)}, problems


def healthz(url: str) -> int | str:
    try:
        return requests.get(url + "/healthz", timeout=10).status_code
    except requests.RequestException as exc:
        return type(exc).__name__


def log_problems(paths: list[Path]) -> list[str]:
    out = []
    for path in paths:
        if path.exists():
            out += [f"{path.name}: {line.strip()}" for line in path.read_text(errors="replace").splitlines() if ERROR_LINE.search(line)]
    return out


# --- services ---------------------------------------------------------------------------------------

class Services:
    """A throwaway PostgreSQL database and a flushed Redis database, cleaned up afterwards."""

    def __init__(self, postgres_url: str, redis_url: str):
        self.postgres_url, self.redis_url = postgres_url.rstrip("/"), redis_url
        self.name = "load_" + secrets.token_hex(4)

    def __enter__(self) -> "Services":
        import psycopg
        import redis

        parts = urlsplit(self.postgres_url)
        admin_db = parts.path if parts.path not in ("", "/") else "/postgres"  # any database to connect to
        self.admin = psycopg.connect(urlunsplit(parts._replace(path=admin_db)), autocommit=True, connect_timeout=5)
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        self.database_url = urlunsplit(parts._replace(path="/" + self.name))
        self.redis = redis.Redis.from_url(self.redis_url, socket_connect_timeout=5)
        self.redis.flushdb()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.redis.flushdb()
        finally:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.admin.close()


# --- report -----------------------------------------------------------------------------------------

def ms(values: list[float], pct: float | None = None) -> str:
    if not values:
        return "-"
    value = max(values) if pct is None else (median(values) if pct == 50 else percentile(values, pct))
    return f"{value * 1000:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10.0, help="the window in which learners launch, save and submit")
    parser.add_argument("--save-every", type=float, default=5.0, help="seconds between a learner's autosaves (+-20%%)")
    parser.add_argument("--margin", type=float, default=None, help="seconds after the window before the hard stop "
                        "(default: 10%% of the window, at least 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/",
                        help="a PostgreSQL server where a throwaway database may be created (connects to the "
                        "database named, or to postgres)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="a Redis database of its own (flushed)")
    parser.add_argument("--output", default="", help="write the result JSON here instead of bench/results/load.json")
    args = parser.parse_args()

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp_name, Services(args.postgres_url, args.redis_url) as services:
        tmp = Path(tmp_name)
        port_a, port_b = free_port(), free_port()
        public = f"http://127.0.0.1:{port_a}"
        services_args = argparse.Namespace(database_url=services.database_url, redis_url=services.redis_url)
        # Behind a load balancer both instances answer for one public URL: TOOL_BASE_URL is the same.
        env = tool_env(tmp, port_a, services_args, GRADE_WORKER="inline", WORKERS=str(args.workers),
                       THREADS=str(args.threads))
        app = prepare(env)
        platform = Platform(app)
        logs = [tmp / "a.log", tmp / "b.log"]
        server_b = Server({**env, "PORT": str(port_b)}, logs[1])
        server_b.base_url = f"http://127.0.0.1:{port_b}"
        with Server(env, logs[0]) as a, server_b as b:
            run = Run(args, platform, {"A": a.base_url, "B": b.base_url}, public)
            states = run.learners()
            print(f"{len(states)} learners, window {run.window:.0f} s, a save every {args.save_every:g} s, "
                  f"hard stop at {run.window + run.margin:.0f} s; instances {a.base_url} and {b.base_url} "
                  f"({args.workers} workers x {args.threads} threads each), database {services.name}", flush=True)
            setup = time.monotonic() - started
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            elapsed = run.go(states)
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            submits = sum(s.submit_ok for s in states)
            grade_statuses = wait_for_grades(app, submits, run.deadline)
            finished_at = time.monotonic() - run.t0
            counts, problems = count_database(app, states)
            score_counts, score_problems = count_scores(public, states)
            health = {name: healthz(url) for name, url in run.urls.items()}
        from lti_tool.extensions import db

        with app.app_context():
            db.engine.dispose()
        server_errors = log_problems(logs)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the instances, reaped when they stopped
    cpu = {"client_seconds": round(cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 1),
           "instances_seconds": round(children.ru_utime + children.ru_stime, 1)}
    return report(args, run, states, setup, elapsed, finished_at, time.monotonic() - started, grade_statuses, counts,
                  problems, score_counts, score_problems, health, server_errors, cpu)


def report(args, run: Run, states, setup, elapsed, finished_at, total, grade_statuses, counts, problems, score_counts,
           score_problems, health, server_errors, cpu) -> int:
    rec = run.rec
    launched = sum(s.launched for s in states)
    submits = sum(s.submit_ok for s in states)
    saves_ok = sum(s.saves_ok for s in states)
    saves_attempted = sum(s.saves_attempted for s in states)
    unfinished = [s.sub for s in states if not s.finished]
    checks = [
        ("learners launched", len(states), launched),
        ("learners that ran to the end (not stopped)", len(states), len(states) - len(unfinished)),
        ("saves answered 200", saves_attempted, saves_ok),
        ("submits answered 200", sum(s.submits_attempted for s in states), submits),
        ("saves + submits in the database (sum of versions)", saves_ok + submits, counts.get("saves_in_database", 0)),
        ("submissions with status submitted", submits, counts.get("submitted", 0)),
        ("stored worksheets equal to the submitted ones", submits, counts.get("worksheets_equal_to_submitted", 0)),
        ("conflict / replaced revisions", 0, counts.get("conflict_revisions", 0)),
        ("grade rows sent (one per learner)", submits, counts.get("grades_sent", 0)),
        ("scores accepted by the practice LMS", submits, score_counts["scores_accepted"]),
        ("scores refused by the practice LMS", 0, score_counts["scores_refused"]),
        ("client errors", 0, sum(rec.errors.values())),
        ("server log errors", 0, len(server_errors)),
    ]
    failed = [c for c in checks if c[1] != c[2]] or problems or score_problems or any(v != 200 for v in health.values())

    lat_rows = []
    for kind in ("launch pair", "page", "save", "save after the ramp", "submit"):
        values = rec.latency.get(kind, [])
        lag = rec.lag.get(kind, [])
        lat_rows.append((kind, len(values), ms(values, 50), ms(values, 99), ms(values), ms(lag, 50), ms(lag, 99), ms(lag)))
    window_saves = saves_ok + submits
    busiest = max((sum(rec.started_per_second[t + i] for i in range(10)) for t in list(rec.started_per_second)), default=0)
    print(f"\nLoad: {len(states)} learners on two instances (PostgreSQL + Redis), window {run.window:.0f} s, "
          f"a save every {args.save_every:g} s; client done at {elapsed:.1f} s, grades settled at {finished_at:.1f} s, "
          f"setup {setup:.1f} s, total {total:.1f} s")
    print(table(lat_rows, ("request", "count", "p50 ms", "p99 ms", "max ms", "lag p50 ms", "lag p99 ms", "lag max ms")))
    print(f"throughput: {window_saves / run.window:.1f} saves+submits/s over the window, {busiest / 10:.1f}/s in the "
          f"busiest 10 s; "
          f"requests by instance: {dict(sorted(rec.per_instance.items()))}; "
          f"kept-alive connections closed by the server and retried: {rec.stale_retries}")
    print(f"CPU: client {cpu['client_seconds']} s during the run, both instances {cpu['instances_seconds']} s in all, "
          f"on {os.cpu_count()} CPUs")
    print()
    print(table([(what, want, got, "ok" if want == got else "MISMATCH") for what, want, got in checks],
                ("check", "expected", "found", "")))
    print(f"grade outbox: {grade_statuses}; database: {counts}; practice LMS: {score_counts}; healthz: {health}")
    if rec.errors:
        print(f"client errors by kind and status: {dict(rec.errors)}")
        for line in rec.error_samples[:10]:
            print(f"  {line}")
    for line in (problems + score_problems)[:20]:
        print(f"  mismatch: {line}")
    for line in server_errors[:20]:
        print(f"  server: {line}")

    result = {
        "parameters": {"learners": args.learners, "minutes": args.minutes, "save_every": args.save_every,
                       "margin_seconds": run.margin, "workers_per_instance": args.workers, "threads": args.threads,
                       "instances": 2, "seed": args.seed},
        "learners": len(states), "launches": launched, "saves_attempted": saves_attempted, "saves_succeeded": saves_ok,
        "submits_attempted": sum(s.submits_attempted for s in states), "submits": submits,
        "errors": dict(rec.errors), "error_samples": rec.error_samples, "stale_connection_retries": rec.stale_retries,
        "unfinished_learners": unfinished[:50],
        "latency_ms": {k: {"count": len(v), "p50": median(v) * 1000, "p99": percentile(v, 99) * 1000, "max": max(v) * 1000}
                       for k, v in rec.latency.items() if v},
        "client_lag_ms": {k: {"p50": median(v) * 1000, "p99": percentile(v, 99) * 1000, "max": max(v) * 1000}
                          for k, v in rec.lag.items() if v},
        "requests_by_instance": dict(rec.per_instance), "cpu_seconds": cpu,
        "saves_per_second": window_saves / run.window, "saves_per_second_busiest_10s": busiest / 10,
        "setup_seconds": setup, "client_seconds": elapsed, "settled_seconds": finished_at, "total_seconds": total,
        "database": counts, "grade_outbox": grade_statuses, "practice_lms": score_counts, "healthz": health,
        "checks": [{"check": w, "expected": e, "found": f, "ok": e == f} for w, e, f in checks],
        "mismatches": (problems + score_problems)[:200], "server_log_errors": server_errors[:200],
        "ok": not failed,
    }
    if args.output:  # the test's small runs do not replace the full run's figures
        path = Path(args.output)
        path.write_text(json.dumps({"benchmark": "load", **result}, indent=2) + "\n")
    else:
        path = write_result("load", result)
    print(f"written: {path}")
    print("OK" if not failed else "FAILED")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
