"""The practice course as data: the course, its people and its activities.

Besides the fixed roster (PEOPLE), every user id u-load-<n> (n = 1..100000, no leading zeros) is a
synthesized enrolled learner, "Load learner <n>" (load<n>@example.edu, locale en), for load tests: it
can be launched and AGS takes its scores like any student's, but the course page and the NRPS
roster list only PEOPLE, so the course looks the same to everything that counts its people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

LIS = "http://purl.imsglobal.org/vocab/lis/v2"
LEARNER = "Learner"
INSTRUCTOR = "Instructor"


@dataclass(frozen=True)
class Course:
    context_id: str
    label: str
    title: str


@dataclass(frozen=True)
class Person:
    """One enrolled person. name/email may be None: the LMS then sends no such claim."""

    user_id: str
    role: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    locale: str = "en"
    test_student: bool = False

    @property
    def display(self) -> str:
        return self.name or f"(no name) {self.user_id}"

    @property
    def is_student(self) -> bool:
        return self.role == LEARNER

    @property
    def is_instructor(self) -> bool:
        return self.role == INSTRUCTOR


@dataclass(frozen=True)
class Activity:
    """A resource link in the course; line_item_id when it takes grades."""

    resource_link_id: str
    title: str
    cmid: int
    custom: dict = field(default_factory=dict)
    line_item_id: int | None = None
    score_maximum: float | None = None


COURSE = Course(context_id="course-1", label="CLT", title="Connected Learning for Teens")

PEOPLE: tuple[Person, ...] = (
    Person("u-learner-1", LEARNER, "Maya Chen", "Maya", "Chen", "maya.chen@example.edu", "en"),
    Person("u-learner-2", LEARNER, "نسرین احمدی", "نسرین", "احمدی", "nasrin.ahmadi@example.edu", "fa"),
    Person("u-learner-3", LEARNER),
    Person("u-instructor-1", INSTRUCTOR, "Sam Rivera", "Sam", "Rivera", "sam.rivera@example.edu", "en"),
    Person("u-test-student", LEARNER, "Test Student", "Test", "Student", None, "en", test_student=True),
)

ACTIVITIES: tuple[Activity, ...] = (
    Activity("rl-relationships", "Relationships", 2, {"page": "relationships"}, line_item_id=1, score_maximum=1.0),
    Activity("rl-rethinking", "Rethinking partnerships", 3, {"page": "rethinking-partnerships"}),
)


LOAD_LEARNER_PREFIX = "u-load-"
LOAD_LEARNER_MAX = 100_000
_LOAD_ID = re.compile(r"u-load-([1-9][0-9]{0,5})")


def load_learner_number(user_id: str) -> int | None:
    """n for a load learner's id u-load-<n> (1..LOAD_LEARNER_MAX, written without leading zeros), else None."""
    match = _LOAD_ID.fullmatch(user_id or "")
    if match is None:
        return None
    n = int(match.group(1))
    return n if n <= LOAD_LEARNER_MAX else None


@lru_cache(maxsize=4096)
def load_learner(n: int) -> Person:
    """The synthesized learner number n (not on the course page nor in the NRPS roster)."""
    return Person(f"{LOAD_LEARNER_PREFIX}{n}", LEARNER, f"Load learner {n}", "Load", f"learner {n}",
                  f"load{n}@example.edu", "en")


def is_load_learner(user_id: str) -> bool:
    """Whether user_id names a synthesized load learner."""
    return load_learner_number(user_id) is not None


def person(user_id: str) -> Person | None:
    """The enrolled person with this id (the fixed roster, or a load learner u-load-<n>), or None."""
    found = next((p for p in PEOPLE if p.user_id == user_id), None)
    if found is not None:
        return found
    n = load_learner_number(user_id) if isinstance(user_id, str) else None
    return None if n is None else load_learner(n)


def activity(resource_link_id: str) -> Activity | None:
    """The activity with this resource link id, or None."""
    return next((a for a in ACTIVITIES if a.resource_link_id == resource_link_id), None)


def course(context_id: str) -> Course | None:
    """The course with this context id (there is one), or None."""
    return COURSE if context_id == COURSE.context_id else None


def role_uris(p: Person) -> list[str]:
    """Full LIS role URIs: the course membership role and an institution role."""
    if p.role == INSTRUCTOR:
        return [f"{LIS}/membership#Instructor", f"{LIS}/institution/person#Faculty"]
    return [f"{LIS}/membership#Learner", f"{LIS}/institution/person#Student"]
