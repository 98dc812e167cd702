"""What a validated launch records: the person, the course, the activity and the role."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .lti.launch_token import LaunchIdentity
from .models import Activity, Course, Deployment, Membership, Person, Platform, utcnow

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEFAULT_PAGE = "relationships"

M = TypeVar("M")


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def record_launch(claims: dict[str, Any], iss: str, client_id: str, role: str) -> LaunchIdentity:
    """Upsert everything a resource link launch tells us, in one transaction, and return its identity."""
    return _committed(lambda: _record(claims, iss, client_id, role))


def record_deep_linking_launch(claims: dict[str, Any], iss: str, client_id: str, role: str,
                               deep_link: str) -> LaunchIdentity:
    """Upsert the person and course of a deep linking launch (it names no activity yet)."""
    return _committed(lambda: _record_course_level(claims, iss, client_id, role, deep_link))


def _committed(record: Callable[[], LaunchIdentity]) -> LaunchIdentity:
    for attempt in range(2):
        try:
            identity = record()
            db.session.commit()
            return identity
        except IntegrityError:  # a concurrent first launch inserted the same row
            db.session.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _record(claims: dict[str, Any], iss: str, client_id: str, role: str) -> LaunchIdentity:
    link_id = (claims.get(LTI + "resource_link") or {}).get("id")
    platform, deployment, person, course = _member(claims, iss, client_id, role, f"no-context:{link_id}")
    activity = _activity(course, claims)
    return LaunchIdentity.new(
        platform_id=platform.id, deployment_pk=deployment.id, course_id=course.id,
        activity_id=activity.id, person_id=person.id, role=role, locale=person.locale or "en",
    )


def _record_course_level(claims: dict[str, Any], iss: str, client_id: str, role: str, deep_link: str) -> LaunchIdentity:
    platform, deployment, person, course = _member(claims, iss, client_id, role, f"no-context:deep-linking:{claims['sub']}")
    return LaunchIdentity.new(
        platform_id=platform.id, deployment_pk=deployment.id, course_id=course.id, activity_id=None,
        person_id=person.id, role=role, locale=person.locale or "en", deep_link=deep_link,
    )


def _member(claims: dict[str, Any], iss: str, client_id: str, role: str, no_context_id: str) -> tuple:
    """(platform, deployment, person, course) of a launch, with the person's membership of the course."""
    platform = db.session.scalars(select(Platform).where(Platform.issuer == iss, Platform.client_id == client_id)).one()
    deployment = db.session.scalars(
        select(Deployment).where(Deployment.platform_id == platform.id, Deployment.deployment_id == claims[LTI + "deployment_id"])
    ).one()
    person = _person(platform, claims)
    course = _course(deployment, claims, no_context_id)
    membership = _get_or_add(Membership, {"role": role}, course_id=course.id, person_id=person.id)
    membership.role, membership.lti_roles, membership.last_launch_at = role, list(claims.get(LTI + "roles", [])), utcnow()
    db.session.flush()
    return platform, deployment, person, course


def _get_or_add(model: type[M], defaults: dict[str, Any] | None = None, **keys: Any) -> M:
    row = db.session.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def _person(platform: Platform, claims: dict[str, Any]) -> Person:
    person = _get_or_add(Person, platform_id=platform.id, sub=claims["sub"][:255])
    for field, limit in (("name", 255), ("given_name", 255), ("family_name", 255), ("email", 320)):
        value = _text(claims.get(field), limit)
        if value is not None:
            setattr(person, field, value)
    presentation = claims.get(LTI + "launch_presentation") or {}
    custom_locale = (claims.get(LTI + "custom") or {}).get("canvas_user_locale")  # see tool_config.canvas_config
    if isinstance(custom_locale, str) and custom_locale.startswith("$"):
        custom_locale = None  # a substitution the platform did not resolve
    person.locale = _text(presentation.get("locale") or claims.get("locale") or custom_locale, 35) or person.locale
    return person


def _course(deployment: Deployment, claims: dict[str, Any], no_context_id: str) -> Course:
    context = claims.get(LTI + "context") or {}
    # Launches outside a course (e.g. from an admin page) still need somewhere to live.
    context_id = _text(context.get("id"), 255) or no_context_id[:255]
    course = _get_or_add(Course, deployment_pk=deployment.id, context_id=context_id)
    course.label = _text(context.get("label"), 255) or course.label
    course.title = _text(context.get("title"), 512) or course.title
    return course


def _activity(course: Course, claims: dict[str, Any]) -> Activity:
    link = claims.get(LTI + "resource_link") or {}
    activity = _get_or_add(Activity, course_id=course.id, resource_link_id=str(link.get("id"))[:255])
    activity.title = _text(link.get("title"), 512) or activity.title
    custom = claims.get(LTI + "custom") or {}
    activity.page = _text(custom.get("page"), 128) or activity.page or DEFAULT_PAGE
    ags = claims.get(AGS) or {}
    activity.ags_lineitem = _text(ags.get("lineitem"), 1024)
    activity.ags_lineitems = _text(ags.get("lineitems"), 1024)
    activity.ags_scopes = [s for s in ags.get("scope", []) if isinstance(s, str)]
    activity.nrps_url = _text((claims.get(NRPS) or {}).get("context_memberships_url"), 1024)
    return activity


def load_identity_rows(identity: LaunchIdentity) -> dict[str, Any]:
    """The rows a resource link launch token names, each checked to belong to the same platform and course."""
    rows = load_course_rows(identity)
    activity = db.session.get(Activity, identity.activity_id) if identity.activity_id is not None else None
    if activity is None or activity.course_id != rows["course"].id:
        raise LookupError("the launch refers to rows that no longer exist")
    return {**rows, "activity": activity}


def load_course_rows(identity: LaunchIdentity) -> dict[str, Any]:
    """The person and course a launch token names (a deep linking launch has no activity)."""
    person = db.session.get(Person, identity.person_id)
    course = db.session.get(Course, identity.course_id)
    if not (person and course) or person.platform_id != identity.platform_id or course.deployment_pk != identity.deployment_pk:
        raise LookupError("the launch refers to rows that no longer exist")
    return {"person": person, "course": course}
