"""Who is in the class: the LMS roster (LTI Names and Role Provisioning, every page), or, when the
platform offers none or it fails, the people seen in launches of the course."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Optional

import requests
from flask import current_app
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService
from sqlalchemy import select

from .extensions import cache, db
from .lti.service_connector import CachedServiceConnector, TimeoutSession
from .lti.tool_conf import DbToolConf
from .models import Activity, Course, Membership, Person

log = logging.getLogger("lti_tool.roster")
ROSTER_TTL = 60
LEARNER_ROLES = ("#Learner", "/Learner", "#Student")


@dataclass(frozen=True)
class Member:
    """A learner of the course, as the LMS or our launches know them."""

    sub: str
    name: Optional[str]
    email: Optional[str]

    @property
    def display(self) -> str:
        return self.name or self.email or f"Learner {self.sub}"


@dataclass
class Roster:
    members: list[Member]
    source: str  # "lms" (NRPS) or "launches"
    problem: Optional[str] = None  # why the LMS roster could not be used: "no_nrps" or "nrps_failed"


def learners(activity: Activity, course: Course) -> Roster:
    """The course's learners: from NRPS when the launch offered it (cached briefly), else from launches."""
    problem = None
    if activity.nrps_url:
        try:
            return Roster(_nrps_learners(activity, course), "lms")
        except (LtiException, requests.RequestException) as exc:
            problem = "nrps_failed"
            log.warning("NRPS failed for course %s: %s", course.id, exc)
    else:
        problem = "no_nrps"
    return Roster(_launched_learners(course), "launches", problem)


def _nrps_learners(activity: Activity, course: Course) -> list[Member]:
    key = "nrps:" + hashlib.sha256(f"{course.id}\n{activity.nrps_url}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return [Member(*m) for m in cached]
    platform = course.deployment.platform
    config = current_app.config
    session = TimeoutSession(config["HTTP_TIMEOUT_SECONDS"], f"lti-tool-partnerships (+{config['TOOL_BASE_URL']})")
    connector = CachedServiceConnector(DbToolConf._registration(platform), session)
    service = NamesRolesProvisioningService(connector, {"context_memberships_url": activity.nrps_url})
    members = [_member(m) for m in service.get_members() if _is_active_learner(m)]
    cache.set(key, [(m.sub, m.name, m.email) for m in members], timeout=ROSTER_TTL)
    return members


def _is_active_learner(member: dict) -> bool:
    roles = member.get("roles") or []
    learner = any(str(r).endswith(LEARNER_ROLES) or r == "Learner" for r in roles)
    return learner and member.get("status", "Active") == "Active" and bool(member.get("user_id"))


def _member(data: dict) -> Member:
    name = data.get("name") or " ".join(p for p in (data.get("given_name"), data.get("family_name")) if p) or None
    return Member(str(data["user_id"]), name, data.get("email") or None)


def _launched_learners(course: Course) -> list[Member]:
    people = db.session.scalars(
        select(Person).join(Membership, Membership.person_id == Person.id)
        .where(Membership.course_id == course.id, Membership.role == "learner").order_by(Person.id)
    )
    return [Member(p.sub, p.name, p.email) for p in people]
