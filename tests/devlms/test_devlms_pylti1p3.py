"""Interop: pylti1p3 (the library the tool uses) as the client of the practice LMS's services."""
from __future__ import annotations

import pytest
from devlms_helpers import CLIENT_IDS, ToolKey, now_iso
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from lti_tool import devlms

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


class CachingConnector(ServiceConnector):
    def __init__(self, registration):
        super().__init__(registration)
        self.cache: dict[str, str] = {}

    def _get_cached_access_token(self, scope_key):
        return self.cache.get(scope_key)

    def _cache_access_token(self, scope_key, access_token, expires_in):
        self.cache[scope_key] = access_token


@pytest.fixture()
def tool_key(lms):
    key = ToolKey()
    lms.tool.keys.append(key)
    yield key
    lms.tool.keys.remove(key)


def connector(lms, mode: str, key: ToolKey) -> CachingConnector:
    reg_data = next(r for r in devlms.registrations({"TOOL_BASE_URL": lms.base}) if r["client_id"] == CLIENT_IDS[mode])
    registration = (Registration().set_issuer(reg_data["issuer"]).set_client_id(reg_data["client_id"])
                    .set_auth_token_url(reg_data["auth_token_url"]).set_auth_login_url(reg_data["auth_login_url"])
                    .set_key_set_url(reg_data["key_set_url"]).set_tool_private_key(key.pem())
                    .set_tool_public_key(key.pem(public=True)))
    assert registration.get_kid() == key.kid
    return CachingConnector(registration)


@pytest.mark.parametrize("mode", ["moodle", "canvas"])
def test_pylti1p3_puts_a_grade_and_reads_the_roster(lms, tool_key, mode):
    claims = lms.verify(lms.launch("u-learner-1", mode=mode).id_token, mode)
    service = connector(lms, mode, tool_key)
    ags = AssignmentsGradesService(service, claims[AGS_CLAIM])
    grade = (Grade().set_score_given(1).set_score_maximum(1).set_user_id("u-learner-1").set_timestamp(now_iso())
             .set_activity_progress("Completed").set_grading_progress("FullyGraded").set_comment("Submitted"))
    ags.put_grade(grade)
    assert lms.gradebook_row("u-learner-1")["resultScore"] == 1
    if mode == "moodle":  # the same timestamp again: Moodle says 409
        with pytest.raises(LtiServiceException) as refused:
            ags.put_grade(grade)
        assert refused.value.response.status_code == 409
    members = NamesRolesProvisioningService(service, claims[NRPS_CLAIM]).get_members()
    assert len(members) == 5
    assert [i["label"] for i in ags.get_lineitems()] == ["Relationships"]
