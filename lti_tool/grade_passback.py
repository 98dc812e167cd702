"""Grade passback: send one queued grade to the LMS (LTI Assignment and Grade Services) and judge
the answer: sent, try again later, re-send with a fresh timestamp, or stop with a reason a person
can act on. The worker (grade_worker.py) decides what to do with each outcome."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

import requests
from flask import current_app
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from . import content
from .extensions import db
from .lti.service_connector import CachedServiceConnector, TimeoutSession
from .lti.tool_conf import DbToolConf
from .models import Activity, GradeOutbox, Platform

SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}

NO_GRADE_SERVICE = (
    "The LMS did not offer grade services for this activity, so grades cannot be sent. "
    "Moodle: in Site administration > Plugins > Activity modules > External tool > Manage tools, edit this tool and set "
    "'IMS LTI Assignment and Grade Services' to 'Use this service for grade sync and column management', then make sure "
    "the activity has grading turned on. Canvas: enable the developer key's 'Can create and view assignment data in the "
    "gradebook associated with the tool' scopes (lineitem and score) and add the tool as an assignment. "
    "Then launch the activity once and retry: lti-tool grades retry."
)


def service_problem(activity: Activity) -> Optional[str]:
    """Why grades of this activity cannot be sent at all (None when the LMS offers grade services)."""
    return None if SCOPE_SCORE in (activity.ags_scopes or []) else NO_GRADE_SERVICE


@dataclass
class Outcome:
    """What one send came to. kind: sent | retry | conflict | failed."""

    kind: str
    reason: str = ""
    http_status: Optional[int] = None
    retry_after: Optional[float] = None
    timestamp: Optional[str] = None


class GradeSender:
    """Sends grades for one worker: a keep-alive session, registrations cached for a minute."""

    REGISTRATION_TTL = 60.0

    def __init__(self):
        config = current_app.config
        version = current_app.config.get("TOOL_VERSION", "1")
        self.session = TimeoutSession(config["HTTP_TIMEOUT_SECONDS"],
                                      f"lti-tool-partnerships/{version} (+{config['TOOL_BASE_URL']})")
        self._registrations: dict[int, tuple[float, object]] = {}

    def send(self, row: GradeOutbox) -> Outcome:
        activity, person = row.activity, row.person
        scopes = list(activity.ags_scopes or [])
        if SCOPE_SCORE not in scopes:
            return Outcome("failed", NO_GRADE_SERVICE)
        connector = CachedServiceConnector(self._registration(person.platform_id), self.session)
        ags = AssignmentsGradesService(connector, {"scope": scopes, "lineitem": activity.ags_lineitem,
                                                   "lineitems": activity.ags_lineitems})
        try:
            return self._post(ags, connector, activity, row, person.sub, scopes)
        except (requests.Timeout, requests.ConnectionError) as exc:
            return Outcome("retry", f"The LMS did not answer: {type(exc).__name__}")
        except LtiServiceException as exc:
            return self._judge(exc.response, activity)
        except LtiException as exc:
            return Outcome("failed", f"The LMS's answer could not be used: {exc}")

    def _post(self, ags, connector, activity: Activity, row: GradeOutbox, user_id: str, scopes: list[str]) -> Outcome:
        url = self._lineitem_url(ags, activity, row)
        if url is None:
            return Outcome("failed", "This activity has no gradebook column (line item) and the LMS does not let the tool "
                                     "create one. " + NO_GRADE_SERVICE)
        for attempt in (1, 2):
            timestamp = fresh_timestamp()
            try:
                response = ags.put_grade(_grade(row, user_id, timestamp), LineItem({"id": url}))
                return Outcome("sent", http_status=200, timestamp=timestamp, reason=str(response.get("body") or "")[:200])
            except LtiServiceException as exc:
                if exc.response.status_code in (401, 403) and attempt == 1:
                    connector.forget_token(scopes)  # a revoked or expired token: one more try with a new one
                    continue
                raise
        raise AssertionError("unreachable")

    def _lineitem_url(self, ags, activity: Activity, row: GradeOutbox) -> Optional[str]:
        """The launch's lineitem; else one found or created by resource link id (remembered)."""
        if activity.ags_lineitem:
            return activity.ags_lineitem
        if activity.found_lineitem:
            return activity.found_lineitem
        if not activity.ags_lineitems or not ags.can_read_lineitem():
            return None
        found = ags.find_lineitem_by_resource_link_id(activity.resource_link_id)
        if found is None and ags.can_create_lineitem():
            found = ags.create_lineitem(LineItem().set_label(_label(activity)).set_score_maximum(row.score_maximum or 1)
                                        .set_resource_link_id(activity.resource_link_id).set_tag(activity.page))
        if found is None or not found.get_id():
            return None
        activity.found_lineitem = found.get_id()
        db.session.commit()
        return activity.found_lineitem

    def _judge(self, response: requests.Response, activity: Activity) -> Outcome:
        status, detail = response.status_code, _excerpt(response)
        token_call = response.url == self._token_url(activity)
        if activity.ags_lineitems and response.url.split("?")[0] == activity.ags_lineitems.split("?")[0]:
            return Outcome("failed", f"The LMS refused to list or create the activity's gradebook column ({status}): "
                                     f"{detail}. Give the activity a grade in the LMS (Moodle: grade type Point; "
                                     "Canvas: add the tool as an assignment), launch it once, and retry.", status)
        if status == 409:
            return Outcome("conflict", f"The LMS has a newer or equal timestamp (409): {detail}", status)
        if status in RETRYABLE:
            return Outcome("retry", f"The LMS answered {status}: {detail}", status, _retry_after(response))
        if token_call:
            return Outcome("failed", f"The LMS refused the tool's access token request ({status}): {detail}. Check that the "
                                     "tool's client id and JWKS URL are registered in the LMS and that the grade scopes are "
                                     "enabled.", status)
        if status in (401, 403):
            return Outcome("failed", f"The LMS refused the tool's access ({status}) even with a new token: {detail}. Check the "
                                     "grade scopes of the tool's registration in the LMS.", status)
        if status == 404 and activity.found_lineitem:
            activity.found_lineitem = None  # deleted in the LMS: find or create it again next time
            db.session.commit()
            return Outcome("retry", f"The gradebook column was not found (404): {detail}", status)
        if status == 422:
            return Outcome("failed", f"The LMS refused this score (422): {detail}. Canvas refuses scores for its Test Student "
                                     "and in courses that are not published.", status)
        if status == 400:
            return Outcome("failed", f"The LMS refused this score (400): {detail}. Moodle refuses scores for people who are "
                                     "not students in the course (teachers, managers).", status)
        return Outcome("failed", f"The LMS refused this score ({status}): {detail}", status)

    def _registration(self, platform_id: int):
        now = time.monotonic()
        cached = self._registrations.get(platform_id)
        if cached and cached[0] > now:
            return cached[1]
        platform = db.session.get(Platform, platform_id)
        registration = DbToolConf._registration(platform)
        self._registrations[platform_id] = (now + self.REGISTRATION_TTL, registration)
        return registration

    def _token_url(self, activity: Activity) -> Optional[str]:
        platform = activity.course.deployment.platform
        return platform.auth_token_url


def fresh_timestamp() -> str:
    """Now, to the microsecond: platforms refuse a timestamp equal to or older than the last one."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _grade(row: GradeOutbox, user_id: str, timestamp: str) -> Grade:
    grade = (Grade().set_user_id(user_id).set_timestamp(timestamp)
             .set_activity_progress(row.activity_progress).set_grading_progress(row.grading_progress))
    if row.score_given is not None:
        grade.set_score_given(row.score_given).set_score_maximum(row.score_maximum)
    if row.comment is not None:  # "" clears an earlier comment
        grade.set_comment(row.comment)
    return grade


def _label(activity: Activity) -> str:
    try:
        return content.load_page(current_app.config["CONTENT_DIR"], activity.page).title
    except (content.PageNotFound, content.ContentInvalid):
        return activity.title or "Worksheet"


def _excerpt(response: requests.Response) -> str:
    text = " ".join((response.text or "").split())
    return text[:300] or response.reason or "no detail"


def _retry_after(response: requests.Response) -> Optional[float]:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else None
