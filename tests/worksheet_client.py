"""A learner's side of the worksheet over HTTP: launch, then save and submit as the page's script does."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from bs4 import BeautifulSoup
from sqlalchemy import delete, select

from tests.lms import Browser

QUESTIONS = ("connect-colleagues", "leverage-relationships", "talk-more", "never-thought")


def row(partnership: str = "", strengths: str = "", weaknesses: str = "", improvement: str = "", type: str = "") -> dict:
    return {"partnership": partnership, "type": type, "strengths": strengths, "weaknesses": weaknesses, "improvement": improvement}


def complete_data() -> dict[str, Any]:
    return {
        "rows": [row("Teen Advisory Board", "Teens lead", "Meets rarely", "Meet monthly", "informal")],
        "answers": {q: f"Answer to {q}" for q in QUESTIONS},
    }


@dataclass
class Learner:
    """One launched learner: the page they landed on and the tokens it carries."""

    base_url: str
    http: requests.Session
    page: requests.Response
    launch_token: str
    csrf_token: str

    @classmethod
    def launch(cls, base_url: str, person: str, **kwargs) -> "Learner":
        browser = Browser(base_url)
        page = browser.launch(person, **kwargs)
        assert page.status_code == 200, page.text[:2000]
        node = BeautifulSoup(page.text, "html.parser").find(id="launch")
        return cls(base_url, browser.http, page, node["data-launch-token"], node["data-csrf-token"])

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-Launch-Token": self.launch_token, "X-CSRF-Token": self.csrf_token, **extra}

    def autosave(self, data: dict[str, Any], base_version: int | None, action: str = "save", **kwargs) -> requests.Response:
        body = {**data, "base_version": base_version, "action": action}
        return self.http.post(f"{self.base_url}/api/worksheet", json=body, headers=kwargs.pop("headers", None) or self.headers(), **kwargs)

    def get(self, path: str = "/activity", **params) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", params={"lt": self.launch_token, **params})

    def post_form(self, fields: dict[str, str], **kwargs) -> requests.Response:
        return self.http.post(f"{self.base_url}/activity", data={"launch_token": self.launch_token, "csrf_token": self.csrf_token, **fields}, **kwargs)


def form_fields(data: dict[str, Any], base_version: int | None, action: str) -> dict[str, str]:
    """The no-script form's fields for this data, as the browser would post them."""
    fields = {"action": action, "base_version": "" if base_version is None else str(base_version)}
    for i, values in enumerate(data["rows"]):
        fields.update({f"rows-{i}-{k}": v for k, v in values.items() if v})
    fields.update({f"q_{q}": a for q, a in data["answers"].items()})
    return fields


def forget(app, sub: str) -> None:
    """Delete every worksheet of the person with this sub, so a test starts from "not started"."""
    from lti_tool.extensions import db
    from lti_tool.models import Person, Revision, Submission

    with app.app_context():
        people = select(Person.id).where(Person.sub == sub)
        ids = select(Submission.id).where(Submission.person_id.in_(people))
        db.session.execute(delete(Revision).where(Revision.submission_id.in_(ids)))
        for submission in db.session.scalars(select(Submission).where(Submission.person_id.in_(people))):
            db.session.delete(submission)
        db.session.commit()


def stored(app, sub: str, link: str = "rl-relationships"):
    """(submission, entries' values, revisions) of the person's worksheet, read from the database."""
    from lti_tool.extensions import db
    from lti_tool.models import Activity, Person, Revision, Submission

    with app.app_context():
        submission = db.session.scalars(
            select(Submission).join(Person, Submission.person_id == Person.id).join(Activity, Submission.activity_id == Activity.id)
            .where(Person.sub == sub, Activity.resource_link_id == link)
        ).first()
        if submission is None:
            return None, [], []
        rows = [dict(e.values) for e in submission.entries]
        revisions = [(r.kind, r.version, r.data) for r in db.session.scalars(
            select(Revision).where(Revision.submission_id == submission.id).order_by(Revision.id))]
        db.session.expunge_all()
        return submission, rows, revisions
