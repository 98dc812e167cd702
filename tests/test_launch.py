"""Launches from the practice LMS over real HTTP land learners and instructors on their pages."""
from __future__ import annotations

import re

import pytest
import requests
from bs4 import BeautifulSoup

from tests.lms import Browser, parse_form, submit
from tests.worksheet_client import forget


def token_of(response) -> str:
    node = BeautifulSoup(response.text, "html.parser").find(id="launch")
    assert node is not None, response.text[:1000]
    return node["data-launch-token"]


def csrf_of(response) -> str:
    return BeautifulSoup(response.text, "html.parser").find(id="launch")["data-csrf-token"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_learner_lands_on_learner_page(browser, method):
    response = browser.launch("u-learner-1", method=method)
    assert response.status_code == 200, response.text[:2000]
    assert response.url.split("?")[0].endswith("/activity")
    assert "Maya Chen" in response.text
    assert 'data-role="learner"' in response.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_instructor_lands_on_instructor_page(browser, method):
    response = browser.launch("u-instructor-1", method=method)
    assert response.status_code == 200, response.text[:2000]
    assert "/instructor/" in response.url
    assert 'data-role="instructor"' in response.text
    assert "Sam Rivera" in response.text


def test_canvas_mode_launch(browser):
    """Canvas's shared issuer: the registration is found by issuer and client id together."""
    response = browser.launch("u-learner-1", mode="canvas")
    assert response.status_code == 200, response.text[:2000]
    assert 'data-role="learner"' in response.text


def test_person_without_name_or_email(browser):
    response = browser.launch("u-learner-3")
    assert response.status_code == 200, response.text[:2000]
    name = BeautifulSoup(response.text, "html.parser").select_one(".person-name")
    assert name.get_text(strip=True).startswith("Learner ")
    assert name["dir"] == "auto"


def test_right_to_left_name_is_shown_escaped_with_dir_auto(browser):
    response = browser.launch("u-learner-2")
    node = BeautifulSoup(response.text, "html.parser").select_one(".person-name")
    assert node["dir"] == "auto"
    assert re.search("[\u0600-\u06ff]", node.get_text())


def test_state_cookie_is_expired_after_launch(browser):
    login = browser.start("u-learner-1")
    assert f"lti1p3-{login.state}" in browser.http.cookies
    form = browser.authorize(login)
    submit(browser.http, form)
    assert f"lti1p3-{login.state}" not in browser.http.cookies


def test_launch_records_person_course_activity(browser, app_ctx):
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Activity, Membership, Person

    browser.launch("u-learner-1", link="rl-rethinking")
    person = db.session.scalars(select(Person).where(Person.sub == "u-learner-1")).first()
    assert person.email == "maya.chen@example.edu"
    activity = db.session.scalars(select(Activity).where(Activity.resource_link_id == "rl-rethinking")).first()
    assert activity.page == "rethinking-partnerships"
    assert activity.course.context_id == "course-1"
    assert activity.nrps_url and activity.ags_lineitems
    membership = db.session.scalars(select(Membership).where(Membership.person_id == person.id)).first()
    assert membership.role == "learner"
    db.session.remove()


def test_launch_token_travels_in_page_not_cookie(tool, browser):
    response = browser.launch("u-learner-1")
    token = token_of(response)
    fresh = requests.get(tool.base_url + "/activity", headers={"X-Launch-Token": token}, timeout=10)
    assert fresh.status_code == 200 and "Maya Chen" in fresh.text
    assert requests.get(tool.base_url + "/activity", timeout=10).status_code == 401
    assert requests.get(tool.base_url + "/activity", headers={"X-Launch-Token": token[:-3] + "abc"}, timeout=10).status_code == 401


def test_learner_token_cannot_open_instructor_page(tool, browser):
    token = token_of(browser.launch("u-learner-1"))
    response = requests.get(tool.base_url + "/instructor/", headers={"X-Launch-Token": token}, timeout=10)
    assert response.status_code == 403


def test_expired_launch_token_is_refused(tool, browser):
    from dataclasses import asdict

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from lti_tool.lti import launch_token

    identity = launch_token.read(token_of(browser.launch("u-learner-1")), tool.env["SECRET_KEY"], 3600)

    class Yesterday(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 86400

    old = URLSafeTimedSerializer(tool.env["SECRET_KEY"], salt=launch_token.SALT, signer=Yesterday).dumps(asdict(identity))
    response = requests.get(tool.base_url + "/activity", headers={"X-Launch-Token": old}, timeout=10)
    assert response.status_code == 401 and "expired" in response.text


def test_writes_need_the_csrf_token_bound_to_the_launch(tool, browser):
    first = browser.launch("u-learner-1")
    token, csrf = token_of(first), csrf_of(first)
    url = tool.base_url + "/api/launch/refresh"
    assert requests.post(url, headers={"X-Launch-Token": token}, timeout=10).status_code == 400
    ok = requests.post(url, headers={"X-Launch-Token": token, "X-CSRF-Token": csrf}, timeout=10)
    assert ok.status_code == 200 and ok.json()["role"] == "learner"
    other = Browser(tool.base_url).launch("u-learner-2")
    stolen = requests.post(url, headers={"X-Launch-Token": token_of(other), "X-CSRF-Token": csrf}, timeout=10)
    assert stolen.status_code == 400
    assert requests.post(url, headers={"X-CSRF-Token": csrf}, timeout=10).status_code == 401


def test_jwks_served(tool):
    body = requests.get(tool.base_url + "/.well-known/jwks.json", timeout=5).json()
    assert body["keys"] and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] and "d" not in k for k in body["keys"])


def test_practice_lms_course_page_frames_the_tool(tool):
    page = requests.get(tool.base_url + "/dev/lms/", timeout=5)
    assert page.status_code == 200
    assert "<iframe" in page.text or "iframe" in page.text


def test_login_form_is_the_practice_lms_form(tool, browser):
    page = browser.http.get(tool.base_url + "/dev/lms/launch", params={"person": "u-learner-1", "link": "rl-relationships", "mode": "moodle", "method": "post"})
    form = parse_form(page.text)
    assert form.method == "post" and form.action == tool.base_url + "/lti/login"
    assert {"iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id"} <= set(form.fields)


def test_relaunch_records_what_changed_and_writes_nothing_when_nothing_did(browser, app_ctx, lms_key):
    """A relaunch with the same claims is a read only (launches.LAST_LAUNCH_RESOLUTION); a changed
    name, course title, link title or role is written at once."""
    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Activity, Course, Membership, Person
    from tests.lms import resign

    def rows():
        db.session.remove()
        person = db.session.scalars(select(Person).where(Person.sub == "u-learner-3")).one()
        membership = db.session.scalars(select(Membership).where(Membership.person_id == person.id)).one()
        course = db.session.get(Course, membership.course_id)
        activity = db.session.scalars(select(Activity).where(Activity.course_id == course.id,
                                                             Activity.resource_link_id == "rl-relationships")).one()
        return person, membership, course, activity

    assert browser.launch("u-learner-3").status_code == 200
    person, membership, _, _ = rows()
    first_seen, name = membership.last_launch_at, person.name

    assert browser.launch("u-learner-3").status_code == 200
    person, membership, _, _ = rows()
    assert (membership.last_launch_at, person.name) == (first_seen, name)

    fields = browser.authorize(browser.start("u-learner-3")).fields
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    claims = unverified_claims(fields["id_token"])
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={
        "name": "Renamed Learner", lti + "context": {**claims[lti + "context"], "title": "Renamed course"},
        lti + "resource_link": {**claims[lti + "resource_link"], "title": "Renamed link"},
        lti + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]})
    assert browser.post_launch(fields).status_code == 200
    person, membership, course, activity = rows()
    assert person.name == "Renamed Learner"
    assert (course.title, activity.title, membership.role) == ("Renamed course", "Renamed link", "instructor")
    assert membership.last_launch_at > first_seen
    db.session.remove()


def unverified_claims(token: str) -> dict:
    from tests.lms import unverified

    return unverified(token)[1]


def _signed_ago(token: str, secret: str, seconds: int) -> str:
    """The same launch identity in a token signed `seconds` ago."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from lti_tool.lti import launch_token

    identity = launch_token.read(token, secret, 3600)

    class Earlier(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - seconds

    return URLSafeTimedSerializer(secret, salt=launch_token.SALT, signer=Earlier).dumps(vars(identity))


def test_a_page_keeps_its_token_for_a_while_then_gets_a_newer_one(tool, browser):
    """Sliding expiry without a new token on every request: a token younger than REISSUE_AFTER comes back
    as it is; an older one is replaced by a new one for the same launch."""
    from lti_tool.lti import launch_token
    from lti_tool.views.access import REISSUE_AFTER

    forget(tool.app, "u-load-9201")
    page = browser.launch("u-load-9201")  # a learner no other test uses
    token, csrf, secret = token_of(page), csrf_of(page), tool.env["SECRET_KEY"]
    body = {"rows": [], "answers": {}, "base_version": None, "action": "save"}
    url = tool.base_url + "/api/worksheet"
    a_minute_old = _signed_ago(token, secret, 60)
    young = requests.post(url, json=body, headers={"X-Launch-Token": a_minute_old, "X-CSRF-Token": csrf}, timeout=10)
    assert young.status_code == 200 and young.json()["launch_token"] == a_minute_old
    old = _signed_ago(token, secret, REISSUE_AFTER + 60)
    aged = requests.post(url, json={**body, "base_version": young.json()["version"]},
                         headers={"X-Launch-Token": old, "X-CSRF-Token": csrf}, timeout=10)
    assert aged.status_code == 200
    newer = aged.json()["launch_token"]
    identity, age = launch_token.read_with_age(newer, secret, 3600)
    assert newer != old and age < 5, "the old token was replaced by one signed now"
    assert identity == launch_token.read(token, secret, 3600), "for the same launch"
    refreshed = requests.post(tool.base_url + "/api/launch/refresh", headers={"X-Launch-Token": old, "X-CSRF-Token": csrf},
                              timeout=10)
    assert refreshed.status_code == 200 and launch_token.read_with_age(refreshed.json()["launch_token"], secret, 3600)[1] < 5
