"""Names and Role Provisioning Services: the course roster as a membership container."""
from __future__ import annotations

from . import roster
from .modes import Mode

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def member(person: roster.Person, mode: Mode) -> dict:
    """One member: user_id, status, roles, and name/email only when the LMS knows them."""
    out = {"status": "Active", "user_id": person.user_id, "roles": roster.role_uris(person)}
    for key in ("name", "given_name", "family_name", "email"):
        value = getattr(person, key)
        if value:
            out[key] = value
    if mode.is_canvas:
        out["lti11_legacy_user_id"] = person.user_id
    return out


def _has_role(person: roster.Person, role: str | None) -> bool:
    """The NRPS role filter matches a full role URI or its short name (Learner, Instructor)."""
    if not role:
        return True
    return any(uri == role or uri.rsplit("#", 1)[-1] == role for uri in roster.role_uris(person))


def members(mode: Mode, role: str | None = None) -> list[dict]:
    """Every member of the course (optionally only those with role), in roster order."""
    return [member(p, mode) for p in roster.PEOPLE if _has_role(p, role)]


def container(url: str, page_members: list[dict]) -> dict:
    """The membership container body for one page of members."""
    course = roster.COURSE
    return {"id": url, "context": {"id": course.context_id, "label": course.label, "title": course.title},
            "members": page_members}
