"""What a validated launch records: the person, the course, the activity and the role."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta
from typing import Any, Callable, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .lti.launch_token import LaunchIdentity
from .models import Activity, Course, Membership, Person, utcnow

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEFAULT_PAGE = "relationships"
# A relaunch within this time of the last recorded one writes nothing (when nothing else changed).
LAST_LAUNCH_RESOLUTION = timedelta(minutes=5)

M = TypeVar("M")


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def record_launch(claims: dict[str, Any], platform_id: int, deployment_pk: int, role: str) -> LaunchIdentity:
    """Upsert everything a resource link launch tells us, in one transaction, and return its identity.

    A relaunch that changes nothing (the common case: a learner coming back) is one read and no write."""
    changes = _Changes.of(claims, role)
    known = _unchanged_launch(changes, platform_id, deployment_pk)
    if known is not None:
        return known
    return _committed(lambda: _record(changes, platform_id, deployment_pk))


def record_deep_linking_launch(claims: dict[str, Any], platform_id: int, deployment_pk: int, role: str,
                               deep_link: str) -> LaunchIdentity:
    """Upsert the person and course of a deep linking launch (it names no activity yet)."""
    changes = _Changes.of(claims, role, no_context_id=f"no-context:deep-linking:{claims['sub']}")
    return _committed(lambda: _record_course_level(changes, platform_id, deployment_pk, deep_link))


class _Changes:
    """What a launch's claims say about each row: the values to set (a missing claim keeps the stored value)."""

    def __init__(self, sub: str, context_id: str, link_id: str, person: dict, course: dict, activity: dict,
                 membership: dict):
        self.sub, self.context_id, self.link_id = sub, context_id, link_id
        self.person, self.course, self.activity, self.membership = person, course, activity, membership

    @classmethod
    def of(cls, claims: dict[str, Any], role: str, no_context_id: str | None = None) -> "_Changes":
        link = claims.get(LTI + "resource_link") or {}
        context = claims.get(LTI + "context") or {}
        # Launches outside a course (e.g. from an admin page) still need somewhere to live.
        context_id = _text(context.get("id"), 255) or (no_context_id or f"no-context:{link.get('id')}")[:255]
        return cls(
            sub=claims["sub"][:255], context_id=context_id, link_id=str(link.get("id"))[:255],
            person=_person_values(claims), course=_present(label=_text(context.get("label"), 255),
                                                           title=_text(context.get("title"), 512)),
            activity=_activity_values(claims, link),
            membership={"role": role, "lti_roles": list(claims.get(LTI + "roles", []))},
        )


def _present(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _person_values(claims: dict[str, Any]) -> dict[str, Any]:
    values = _present(name=_text(claims.get("name"), 255), given_name=_text(claims.get("given_name"), 255),
                      family_name=_text(claims.get("family_name"), 255), email=_text(claims.get("email"), 320))
    presentation = claims.get(LTI + "launch_presentation") or {}
    custom_locale = (claims.get(LTI + "custom") or {}).get("canvas_user_locale")  # see tool_config.canvas_config
    if isinstance(custom_locale, str) and custom_locale.startswith("$"):
        custom_locale = None  # a substitution the platform did not resolve
    return {**values, **_present(locale=_text(presentation.get("locale") or claims.get("locale") or custom_locale, 35))}


def _activity_values(claims: dict[str, Any], link: dict[str, Any]) -> dict[str, Any]:
    custom = claims.get(LTI + "custom") or {}
    ags = claims.get(AGS) or {}
    return {
        **_present(title=_text(link.get("title"), 512), page=_text(custom.get("page"), 128)),
        # The service endpoints are as the latest launch says: a link that lost AGS has none.
        "ags_lineitem": _text(ags.get("lineitem"), 1024), "ags_lineitems": _text(ags.get("lineitems"), 1024),
        "ags_scopes": [s for s in ags.get("scope", []) if isinstance(s, str)],
        "nrps_url": _text((claims.get(NRPS) or {}).get("context_memberships_url"), 1024),
    }


_KNOWN = (
    select(Person.id.label("person_id"), Course.id.label("course_id"), Activity.id.label("activity_id"),
           Membership.last_launch_at, Person.name, Person.given_name, Person.family_name, Person.email,
           Person.locale, Course.label, Course.title.label("course_title"), Activity.title, Activity.page,
           Activity.ags_lineitem, Activity.ags_lineitems, Activity.ags_scopes, Activity.nrps_url,
           Membership.role, Membership.lti_roles)
    .select_from(Person)
    .join(Membership, Membership.person_id == Person.id)
    .join(Course, (Course.id == Membership.course_id) & (Course.deployment_pk == bindparam("deployment_pk"))
          & (Course.context_id == bindparam("context_id")))
    .join(Activity, (Activity.course_id == Course.id) & (Activity.resource_link_id == bindparam("link_id")))
    .where(Person.platform_id == bindparam("platform_id"), Person.sub == bindparam("sub"))
)


def _unchanged_launch(changes: _Changes, platform_id: int, deployment_pk: int) -> LaunchIdentity | None:
    """The identity of a relaunch whose claims match every stored row; None when something must be written."""
    with _reader() as connection:
        row = connection.execute(_KNOWN, {"deployment_pk": deployment_pk, "link_id": changes.link_id,
                                          "platform_id": platform_id, "sub": changes.sub,
                                          "context_id": changes.context_id}).first()
    if row is None:
        return None
    stored = row._mapping
    course = {("course_title" if k == "title" else k): v for k, v in changes.course.items()}
    wanted = {**changes.person, **course, **changes.activity, **changes.membership}
    if any(stored[k] != v for k, v in wanted.items()) or utcnow() - stored["last_launch_at"] > LAST_LAUNCH_RESOLUTION:
        return None
    return LaunchIdentity.new(platform_id=platform_id, deployment_pk=deployment_pk, course_id=row.course_id,
                              activity_id=row.activity_id, person_id=row.person_id, role=changes.membership["role"],
                              locale=row.locale or "en")


def _reader():
    """A connection for one read: outside any transaction on PostgreSQL (one round trip instead of BEGIN,
    SELECT, ROLLBACK); the session's own on SQLite, whose driver opens no transaction for a read."""
    if db.engine.dialect.name == "sqlite":
        return nullcontext(db.session.connection())
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


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


def _record(changes: _Changes, platform_id: int, deployment_pk: int) -> LaunchIdentity:
    person, course = _member(changes, platform_id, deployment_pk)
    activity = _get_or_add(Activity, course_id=course.id, resource_link_id=changes.link_id)
    _apply(activity, changes.activity)
    activity.page = activity.page or DEFAULT_PAGE
    return LaunchIdentity.new(
        platform_id=platform_id, deployment_pk=deployment_pk, course_id=course.id,
        activity_id=activity.id, person_id=person.id, role=changes.membership["role"], locale=person.locale or "en",
    )


def _record_course_level(changes: _Changes, platform_id: int, deployment_pk: int, deep_link: str) -> LaunchIdentity:
    person, course = _member(changes, platform_id, deployment_pk)
    return LaunchIdentity.new(
        platform_id=platform_id, deployment_pk=deployment_pk, course_id=course.id, activity_id=None,
        person_id=person.id, role=changes.membership["role"], locale=person.locale or "en", deep_link=deep_link,
    )


def _member(changes: _Changes, platform_id: int, deployment_pk: int) -> tuple[Person, Course]:
    """The person and course of a launch, with the person's membership of the course, as the claims say."""
    person = _apply(_get_or_add(Person, platform_id=platform_id, sub=changes.sub), changes.person)
    course = _apply(_get_or_add(Course, deployment_pk=deployment_pk, context_id=changes.context_id), changes.course)
    membership = _get_or_add(Membership, dict(changes.membership), course_id=course.id, person_id=person.id)
    _apply(membership, {**changes.membership, "last_launch_at": utcnow()})
    db.session.flush()
    return person, course


def _apply(row: M, values: dict[str, Any]) -> M:
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
    return row


def _get_or_add(model: type[M], defaults: dict[str, Any] | None = None, **keys: Any) -> M:
    row = db.session.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


def _scoped_to_launch(*columns):
    """SELECT columns of the activity a launch token names, joined to its course and person, each checked
    against the token's platform, deployment and course (bind parameters: _scope)."""
    return (
        select(*columns).select_from(Activity)
        .join(Course, Course.id == Activity.course_id).join(Person, Person.id == bindparam("person_id"))
        .where(Activity.id == bindparam("activity_id"), Course.id == bindparam("course_id"),
               Course.deployment_pk == bindparam("deployment_pk"), Person.platform_id == bindparam("platform_id"))
    )


# The rows a launch token names, each scoped to the token's platform, deployment and course, in one query.
_COURSE_ROWS = (
    select(Person, Course).select_from(Course).join(Person, Person.id == bindparam("person_id"))
    .where(Person.platform_id == bindparam("platform_id"), Course.id == bindparam("course_id"),
           Course.deployment_pk == bindparam("deployment_pk"))
)
_IDENTITY_ROWS = _scoped_to_launch(Person, Course, Activity)
_ACTIVITY_PAGE = _scoped_to_launch(Activity.id, Activity.page)


def _scope(identity: LaunchIdentity) -> dict[str, Any]:
    return {"person_id": identity.person_id, "platform_id": identity.platform_id, "course_id": identity.course_id,
            "deployment_pk": identity.deployment_pk, "activity_id": identity.activity_id}


def load_identity_rows(identity: LaunchIdentity) -> dict[str, Any]:
    """The person, course and activity a resource link launch token names, checked to belong together."""
    found = db.session.execute(_IDENTITY_ROWS, _scope(identity)).first() if identity.activity_id is not None else None
    if found is None:
        raise LookupError("the launch refers to rows that no longer exist")
    return {"person": found[0], "course": found[1], "activity": found[2]}


def load_course_rows(identity: LaunchIdentity) -> dict[str, Any]:
    """The person and course a launch token names (a deep linking launch has no activity)."""
    found = db.session.execute(_COURSE_ROWS, _scope(identity)).first()
    if found is None:
        raise LookupError("the launch refers to rows that no longer exist")
    return {"person": found[0], "course": found[1]}


def load_activity_page(identity: LaunchIdentity) -> dict[str, Any]:
    """Only the activity's id and page, under the same checks as load_identity_rows: all an autosave needs
    (one plain row, no ORM objects)."""
    found = None
    if identity.activity_id is not None:
        found = db.session.connection().execute(_ACTIVITY_PAGE, _scope(identity)).first()
    if found is None:
        raise LookupError("the launch refers to rows that no longer exist")
    return {"activity": found}
