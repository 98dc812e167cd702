"""The grade worker: claims queued grades, sends them (grade_passback.py), settles each outcome.

Runs in-process beside the app (GRADE_WORKER=inline, the default: `make run`), or as
`lti-tool grades worker` processes on any machine (set GRADE_WORKER=off on the app instances).
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from typing import Optional

from flask import Flask

from . import grade_outbox
from .grade_passback import GradeSender, Outcome
from .extensions import db

log = logging.getLogger("lti_tool.grades")
CONFLICT_RESENDS = 3


class GradeWorker:
    def __init__(self, app: Flask, name: Optional[str] = None):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"
        config = app.config
        self.batch = int(config["GRADE_BATCH_SIZE"])
        self.lease = config["GRADE_LEASE_SECONDS"]
        self.poll = config["GRADE_POLL_SECONDS"]
        self.base, self.cap = config["GRADE_RETRY_BASE_SECONDS"], config["GRADE_RETRY_MAX_SECONDS"]
        self.max_attempts = config["GRADE_MAX_ATTEMPTS"]
        with app.app_context():
            self.sender = GradeSender()

    def run_once(self) -> int:
        """Claim one batch and settle every row in it; the number of rows handled."""
        with self.app.app_context():
            # Rows of a batch are settled a few commits at a time; don't reload the others after each.
            db.session().expire_on_commit = False
            self._sent = _SentMarks()
            try:
                ids = grade_outbox.claim(self.name, self.batch, self.lease)
                for row in grade_outbox.load(ids):
                    self._deliver(row)
                    self._sent.flush_if_due()
                return len(ids)
            finally:
                try:
                    self._sent.flush()  # what the LMS accepted is recorded, whatever else went wrong
                finally:
                    db.session.remove()

    def run(self, stop: threading.Event) -> None:
        log.info("grade worker %s started", self.name)
        while not stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # the loop must outlive a database hiccup; the rows' leases protect them
                log.exception("grade worker %s: batch failed", self.name)
                handled = 0
            if handled == 0:
                grade_outbox.queued_here.wait(self.poll)
                grade_outbox.queued_here.clear()
        log.info("grade worker %s stopped", self.name)

    def _deliver(self, row) -> None:
        if row.status != row.SENDING or row.claimed_by != self.name:
            return
        outcome = self.sender.send(row)
        for _ in range(CONFLICT_RESENDS):
            if outcome.kind != "conflict" or grade_outbox.is_superseded(row):
                break
            outcome = self.sender.send(row)  # a fresh timestamp on each send
        self._settle(row, outcome)

    def _settle(self, row, outcome: Outcome) -> None:
        ref = f"grade {row.id} (activity {row.activity_id}, person {row.person_id}, attempt {row.attempts})"
        if outcome.kind == "sent":
            self._sent.add(row, outcome.timestamp or "", outcome.http_status or 200)
            log.info("%s sent", ref)
        elif grade_outbox.is_superseded(row):
            grade_outbox.settle_superseded(row)
            log.info("%s superseded by a newer grade", ref)
        elif outcome.kind == "failed":
            grade_outbox.settle_failed(row, outcome.reason, outcome.http_status)
            log.warning("%s failed: %s", ref, outcome.reason)
        elif row.attempts >= self.max_attempts:
            reason = f"Gave up after {row.attempts} attempts; last: {outcome.reason}. `lti-tool grades retry` queues it again."
            grade_outbox.settle_failed(row, reason, outcome.http_status)
            log.warning("%s failed: %s", ref, reason)
        else:
            delay = self.backoff(row.attempts, outcome.retry_after)
            grade_outbox.settle_retry(row, outcome.reason, outcome.http_status, delay)
            log.info("%s will be retried in %.1fs: %s", ref, delay, outcome.reason)

    def backoff(self, attempts: int, retry_after: Optional[float]) -> float:
        """Exponential backoff with jitter, at least what the LMS asked for (capped)."""
        delay = min(self.cap, self.base * 2 ** max(attempts - 1, 0)) * random.uniform(0.5, 1.0)
        return min(self.cap, max(delay, retry_after or 0.0))


class _SentMarks:
    """Grades the LMS accepted, marked sent in the database a few at a time.

    One commit per grade cost as much as the send itself on PostgreSQL. Marks wait for at most
    SETTLE_EVERY grades or SETTLE_SECONDS, so a worker that dies before its commit leaves at most
    that many rows 'sending'; their lease runs out and they are sent once more (same score, newer
    timestamp), as a single one was before. The rows stay 'sending' meanwhile, so no newer grade of
    the same learner can overtake them."""

    SETTLE_EVERY = 10
    SETTLE_SECONDS = 0.2

    def __init__(self):
        self.pending: list[tuple] = []
        self.since = 0.0

    def add(self, row, timestamp: str, http_status: int) -> None:
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((row, timestamp, http_status))

    def flush_if_due(self) -> None:
        if len(self.pending) >= self.SETTLE_EVERY or (self.pending and time.monotonic() - self.since >= self.SETTLE_SECONDS):
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        grade_outbox.settle_sent(pending)


def start_inline(app: Flask) -> tuple[threading.Thread, threading.Event]:
    """The in-process worker thread (daemon) and the event that stops it."""
    stop = threading.Event()
    worker = GradeWorker(app)
    thread = threading.Thread(target=worker.run, args=(stop,), name="grade-worker", daemon=True)
    thread.start()
    return thread, stop
