"""The instructor's picture of one activity: each learner with their worksheet's state and grade,
the partnerships named across the class, and the rows of the CSV export. Every query is scoped to
the activity (which belongs to one course, deployment and platform)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import grade_outbox
from .class_roster import Member, Roster
from .extensions import db
from .models import Activity, GradeOutbox, Membership, Person, Submission

NOT_STARTED, DRAFT, SUBMITTED = "not_started", "draft", "submitted"
STATUSES = (NOT_STARTED, DRAFT, SUBMITTED)


@dataclass
class LearnerRow:
    member: Member
    person: Optional[Person]
    submission: Optional[Submission]
    grade: Optional[GradeOutbox]
    on_roster: bool = True

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else NOT_STARTED

    @property
    def last_saved(self) -> Optional[datetime]:
        return self.submission.updated_at if self.submission else None

    @property
    def submitted_at(self) -> Optional[datetime]:
        return self.submission.submitted_at if self.submission else None

    @property
    def grade_state(self) -> Optional[str]:
        return self.grade.status if self.grade else None


@dataclass
class ClassView:
    rows: list[LearnerRow]
    roster: Roster

    @property
    def counts(self) -> dict[str, int]:
        counts = {s: 0 for s in STATUSES}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def shown(self, status: Optional[str] = None, sort: str = "name") -> list[LearnerRow]:
        """The rows with that status (all for an unknown one), sorted by a key of SORTS."""
        rows = [r for r in self.rows if r.status == status] if status in STATUSES else list(self.rows)
        return sorted(rows, key=SORTS.get(sort, SORTS["name"]))


SORTS = {
    "name": lambda r: (r.member.display.casefold(),),
    "status": lambda r: (STATUSES.index(r.status), r.member.display.casefold()),
    "saved": lambda r: (r.last_saved is None, -(r.last_saved.timestamp() if r.last_saved else 0)),
    "submitted": lambda r: (r.submitted_at is None, -(r.submitted_at.timestamp() if r.submitted_at else 0)),
}


def class_view(activity: Activity, roster: Roster) -> ClassView:
    """Roster merged with this activity's worksheets and newest grades, by name."""
    people = {p.sub: p for p in db.session.scalars(select(Person).where(
        Person.platform_id == activity.course.deployment.platform_id, Person.sub.in_([m.sub for m in roster.members])))}
    submissions = {s.person_id: s for s in db.session.scalars(
        select(Submission).where(Submission.activity_id == activity.id).options(selectinload(Submission.person)))}
    rows = [LearnerRow(m, people.get(m.sub), None, None) for m in roster.members]
    seen = {r.person.id for r in rows if r.person}
    rows += [LearnerRow(Member(s.person.sub, s.person.name, s.person.email), s.person, None, None, on_roster=False)
             for pid, s in submissions.items() if pid not in seen]
    grades = grade_outbox.latest_for(activity.id, [r.person.id for r in rows if r.person])
    for row in rows:
        if row.person:
            row.submission = submissions.get(row.person.id)
            row.grade = grades.get(row.person.id)
    rows.sort(key=SORTS["name"])
    return ClassView(rows, roster)


def submission_of(activity: Activity, person_id: int) -> Optional[Submission]:
    return db.session.scalars(select(Submission).where(Submission.activity_id == activity.id,
                                                      Submission.person_id == person_id)).first()


def person_in_activity(activity: Activity, person_id: int) -> Optional[Person]:
    """A person of this activity's platform (None for anyone else's id)."""
    person = db.session.get(Person, person_id)
    if person is None or person.platform_id != activity.course.deployment.platform_id:
        return None
    return person


def in_course(course, person_id: int) -> bool:
    return db.session.scalar(select(Membership.id).where(Membership.course_id == course.id,
                                                         Membership.person_id == person_id)) is not None


# --- the class's partnership map -------------------------------------------------------------------

@dataclass
class Partnership:
    key: str
    names: list[str] = field(default_factory=list)
    learners: set[int] = field(default_factory=set)
    types: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notes: list[tuple[str, dict]] = field(default_factory=list)  # (learner's name, the row's values)

    @property
    def name(self) -> str:
        """The spelling most learners used."""
        return max(set(self.names), key=lambda n: (self.names.count(n), -len(n)))


def partnership_map(activity: Activity) -> list[Partnership]:
    """Every partnership named in the activity, grouped by normalised name, most named first."""
    groups: dict[str, Partnership] = {}
    submissions = db.session.scalars(select(Submission).where(Submission.activity_id == activity.id)
                                     .options(selectinload(Submission.entries), selectinload(Submission.person)))
    for submission in submissions:
        for entry in submission.entries:
            name = (entry.values.get("partnership") or "").strip()
            if not name:
                continue
            group = groups.setdefault(entry.name_key, Partnership(entry.name_key))  # folded when saved
            group.names.append(name)
            group.learners.add(submission.person_id)
            group.types[entry.values.get("type") or "unspecified"] += 1
            group.notes.append((submission.person.display_name, dict(entry.values)))
    return sorted(groups.values(), key=lambda g: (-len(g.learners), g.name.casefold()))
