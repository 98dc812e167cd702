"""The tool's tables. Every row a learner owns hangs off platform -> deployment -> course."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


URL = String(1024)


class Platform(db.Model):
    """An LMS registration. Canvas shares one issuer among all customers: key on both."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(URL)
    auth_token_url: Mapped[str] = mapped_column(URL)
    key_set_url: Mapped[str] = mapped_column(URL)
    auth_audience: Mapped[Optional[str]] = mapped_column(URL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deployments: Mapped[list["Deployment"]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(db.Model):
    """A deployment id of a platform; unknown ones seen in launches wait as 'pending'."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    ACTIVE = "active"
    PENDING = "pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(db.Model):
    """One of the tool's RSA key pairs. The newest unretired key signs; retired keys stay
    published until their grace period ends so platforms can still verify older tokens."""

    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(128), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[Optional[datetime]] = mapped_column()


class Person(db.Model):
    """A user of one platform, known by the launch's sub."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[Optional[str]] = mapped_column(String(255))
    given_name: Mapped[Optional[str]] = mapped_column(String(255))
    family_name: Mapped[Optional[str]] = mapped_column(String(255))
    email: Mapped[Optional[str]] = mapped_column(String(320))
    locale: Mapped[Optional[str]] = mapped_column(String(35))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        """A name to show even when the platform sent none."""
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or f"Learner {self.sub[:12]}"


class Course(db.Model):
    """An LTI context within one deployment."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("deployment_pk", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_pk: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[Optional[str]] = mapped_column(String(255))
    title: Mapped[Optional[str]] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    deployment: Mapped[Deployment] = relationship()


class Activity(db.Model):
    """A resource link in a course, with the service endpoints its launches carried."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[Optional[str]] = mapped_column(String(512))
    page: Mapped[str] = mapped_column(String(128), default="relationships")
    ags_lineitem: Mapped[Optional[str]] = mapped_column(URL)
    ags_lineitems: Mapped[Optional[str]] = mapped_column(URL)
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    nrps_url: Mapped[Optional[str]] = mapped_column(URL)
    # The line item found or created through `lineitems` when launches carry no `lineitem` claim.
    found_lineitem: Mapped[Optional[str]] = mapped_column(URL)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()


class Membership(db.Model):
    """A person's role in a course, as of their latest launch."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("course_id", "person_id"),)

    LEARNER = "learner"
    INSTRUCTOR = "instructor"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_launch_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()


class Submission(db.Model):
    """One learner's worksheet in one activity. No row means "not started".

    `version` grows by one with every save; a save based on an older version is a conflict
    (another tab saved in between), never a silent overwrite (see submissions.py)."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("activity_id", "person_id"),)

    DRAFT = "draft"
    SUBMITTED = "submitted"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    worksheet_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[Optional[datetime]] = mapped_column()
    submitted_version: Mapped[Optional[int]] = mapped_column()
    # The instructor's comment, sent to the gradebook with the grade.
    feedback: Mapped[Optional[str]] = mapped_column(Text)

    entries: Mapped[list["Entry"]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Entry.position"
    )
    person: Mapped[Person] = relationship()
    activity: Mapped[Activity] = relationship()

    @property
    def has_unsubmitted_changes(self) -> bool:
        return self.status == self.SUBMITTED and self.submitted_version != self.version


class Entry(db.Model):
    """One row of the worksheet's table (one partnership), its values keyed by column id."""

    __tablename__ = "entry"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    name_key: Mapped[str] = mapped_column(String(255), default="", index=True)

    submission: Mapped[Submission] = relationship(back_populates="entries")


class Revision(db.Model):
    """A snapshot kept so nothing is lost: every submit, and every version that lost a conflict."""

    __tablename__ = "revision"

    SUBMIT = "submit"
    CONFLICT = "conflict"
    REPLACED = "replaced"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GradeOutbox(db.Model):
    """A score waiting for, or done with, delivery to the LMS gradebook (see grade_outbox.py).

    Rows are added in the same transaction as the submit that earns them. At most one row per
    learner and activity is waiting at a time: a newer grade supersedes an older one not sent yet."""

    __tablename__ = "grade_outbox"
    __table_args__ = (
        Index("ix_grade_outbox_due", "status", "next_attempt_at"),
        Index("ix_grade_outbox_learner", "activity_id", "person_id", "status"),
    )

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    submission_id: Mapped[Optional[int]] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    score_given: Mapped[Optional[float]] = mapped_column()
    score_maximum: Mapped[Optional[float]] = mapped_column()
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    comment: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[Optional[datetime]] = mapped_column()
    claimed_by: Mapped[Optional[str]] = mapped_column(String(64))
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    last_http_status: Mapped[Optional[int]] = mapped_column()
    sent_timestamp: Mapped[Optional[str]] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()

    activity: Mapped[Activity] = relationship()
    person: Mapped[Person] = relationship()
