"""The practice LMS's gradebook, score log, faults and counters, read over its HTTP API; the tool's outbox."""
from __future__ import annotations

import time
from typing import Any, Callable

import requests
from sqlalchemy import select


class PracticeLMS:
    def __init__(self, base_url: str):
        self.api = f"{base_url}/dev/lms/api"

    def faults(self, **spec: Any) -> dict:
        response = requests.post(f"{self.api}/faults", json=spec, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def clear_faults(self) -> None:
        requests.delete(f"{self.api}/faults", timeout=10).raise_for_status()

    def scores(self, **filters: Any) -> list[dict]:
        response = requests.get(f"{self.api}/scores", params={"limit": 100000, **filters}, timeout=30)
        response.raise_for_status()
        return response.json()["scores"]

    def result(self, user_id: str, label: str | None = None, resource_link_id: str = "rl-relationships") -> dict | None:
        """The user's row in the gradebook column of that resource link (or label)."""
        for item in requests.get(f"{self.api}/gradebook", timeout=10).json()["lineitems"]:
            if (label and item.get("label") == label) or (not label and item.get("resourceLinkId") == resource_link_id):
                return next((g for g in item["grades"] if g["userId"] == user_id), None)
        return None

    def lineitems(self) -> list[dict]:
        return requests.get(f"{self.api}/gradebook", timeout=10).json()["lineitems"]

    def stats(self) -> dict[str, int]:
        return requests.get(f"{self.api}/stats", timeout=10).json()


def wait_for(check: Callable[[], Any], timeout: float = 30, every: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def outbox(app, sub: str | None = None) -> list:
    """The tool's grade rows (optionally of one person's sub), oldest first, detached."""
    from lti_tool.extensions import db
    from lti_tool.models import GradeOutbox, Person

    with app.app_context():
        stmt = select(GradeOutbox).order_by(GradeOutbox.id)
        if sub is not None:
            stmt = stmt.join(Person, GradeOutbox.person_id == Person.id).where(Person.sub == sub)
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def queue_grades(app, subs: list[str]) -> str:
    """A completed grade queued for each of `subs` (learners added where they have no row yet) in the launched
    activity, as a submit queues it; returns the activity's line item URL."""
    from sqlalchemy import insert

    from lti_tool.extensions import db
    from lti_tool.models import Activity, GradeOutbox, Person, utcnow

    with app.app_context():
        activity = db.session.scalars(select(Activity).where(Activity.resource_link_id == "rl-relationships")).one()
        platform_id = db.session.scalars(select(Person.platform_id).limit(1)).one()
        known = set(db.session.scalars(select(Person.sub).where(Person.sub.in_(subs))))
        new = [{"platform_id": platform_id, "sub": s, "name": s} for s in subs if s not in known]
        if new:
            db.session.execute(insert(Person), new)
        people = dict(db.session.execute(select(Person.sub, Person.id).where(Person.sub.in_(subs))).all())
        now = utcnow()
        db.session.execute(insert(GradeOutbox), [
            {"activity_id": activity.id, "person_id": people[s], "score_given": 1.0, "score_maximum": 1.0,
             "activity_progress": "Completed", "grading_progress": "FullyGraded", "status": "queued",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for s in subs])
        db.session.commit()
        lineitem = activity.ags_lineitem
        db.session.remove()
        return lineitem
