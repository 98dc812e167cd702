"""Deep linking over real HTTP: an instructor adds course pages to the practice LMS's course as activities."""
from __future__ import annotations

from dataclasses import dataclass

import jwt
import pytest
import requests
from bs4 import BeautifulSoup

from tests.lms import Browser, Form, parse_form, resign, submit, unverified

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2"
INSTRUCTOR = "u-instructor-1"


@dataclass
class Picker:
    """The tool's content picker, opened by a deep linking launch, and the id_token that opened it."""

    response: requests.Response
    request: dict  # the LtiDeepLinkingRequest's claims

    @property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.response.text, "html.parser")

    @property
    def fields(self) -> dict[str, str]:
        launch = self.soup.find(id="launch")
        return {"launch_token": launch["data-launch-token"], "csrf_token": launch["data-csrf-token"]}


@pytest.fixture(autouse=True)
def _remove_added_activities(tool):
    """Each test starts and ends with the built-in course (only the activities deep linking added go)."""
    from lti_tool.devlms import activities

    with tool.app.app_context():
        activities.remove_added()
    yield
    with tool.app.app_context():
        activities.remove_added()


def deep_linking_form(browser: Browser, person: str = INSTRUCTOR, mode: str = "moodle") -> Form:
    """"Add an activity with the tool" in the practice course, up to the id_token form the LMS posts to the tool."""
    return browser.authorize(browser.start(person, mode=mode, message="deeplink"))


def open_picker(browser: Browser, mode: str = "moodle", form: Form | None = None) -> Picker:
    form = form or deep_linking_form(browser, mode=mode)
    response = submit(browser.http, form)
    assert response.status_code == 200, response.text[:2000]
    return Picker(response, unverified(form.fields["id_token"])[1])


def pick(browser: Browser, picker: Picker, *pages: str, **extra) -> requests.Response:
    data = {**picker.fields, "page": list(pages), **extra}
    return browser.http.post(picker.response.url.split("?")[0], data=data)


def verified_response(tool, token: str, request: dict) -> dict:
    """The deep linking response, verified with the key the tool publishes in its JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    published = requests.get(tool.base_url + "/.well-known/jwks.json", timeout=10).json()["keys"]
    jwk = next(k for k in published if k["kid"] == kid)
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=request["iss"], issuer=request["aud"])


def send_to_lms(browser: Browser, answer: requests.Response) -> list[str]:
    """Post the tool's answer to the LMS (as its auto-submitting form does): the resource link ids it added."""
    done = submit(browser.http, parse_form(answer.text, "deep-link-return"))
    assert done.status_code == 200, done.text[:2000]
    return [li["data-resource-link-id"] for li in BeautifulSoup(done.text, "html.parser").select("#added li")]


def gradebook_item(tool, link_id: str) -> dict:
    book = requests.get(tool.base_url + "/dev/lms/api/gradebook", timeout=10).json()["lineitems"]
    return next(item for item in book if item["resourceLinkId"] == link_id)


def test_picker_lists_the_pages_with_titles_and_worksheets(browser):
    picker = open_picker(browser)
    assert "/deep-linking/" in picker.response.url
    form = picker.soup.find("form", id="deep-linking-form")
    assert form.find("fieldset").find("legend").get_text(strip=True)
    items = {li["data-page"]: li for li in form.select("li.page-choice")}
    assert set(items) == {"relationships", "rethinking-partnerships"}
    for name, title in (("relationships", "Relationships"), ("rethinking-partnerships", "Rethinking partnerships")):
        box = items[name].find("input")
        assert box["type"] == "checkbox" and box["name"] == "page" and box["value"] == name
        assert items[name].find("label", attrs={"for": box["id"]}).get_text(strip=True) == title
    assert items["relationships"].select_one(".has-worksheet") is not None
    assert items["rethinking-partnerships"].select_one(".has-worksheet") is None


def test_picking_relationships_adds_a_graded_activity(tool, browser, app_ctx):
    picker = open_picker(browser)
    answer = pick(browser, picker, "relationships")
    assert answer.status_code == 200, answer.text[:2000]
    form = parse_form(answer.text, "deep-link-return")
    assert form.method == "post" and form.action == picker.request[DL + "deep_linking_settings"]["deep_link_return_url"]
    assert BeautifulSoup(answer.text, "html.parser").select_one("form#deep-link-return button[type=submit]") is not None
    assert "<script>" not in answer.text and "autosubmit.js" in answer.text  # no inline script

    [link_id] = send_to_lms(browser, answer)
    assert link_id in requests.get(tool.base_url + "/dev/lms/", timeout=10).text
    item = gradebook_item(tool, link_id)
    assert (item["scoreMaximum"], item["label"]) == (1, "Relationships")

    opened = Browser(tool.base_url).launch("u-learner-1", link=link_id)
    assert opened.status_code == 200, opened.text[:2000]
    assert 'data-page="relationships"' in opened.text

    from sqlalchemy import select

    from lti_tool.extensions import db
    from lti_tool.models import Activity

    activity = db.session.scalars(select(Activity).where(Activity.resource_link_id == link_id)).one()
    assert activity.page == "relationships" and activity.ags_lineitem


def test_the_response_jwt_is_signed_by_the_tool_and_answers_the_request(tool, browser, app_ctx):
    from lti_tool import keys

    picker = open_picker(browser)
    token = parse_form(pick(browser, picker, "relationships").text, "deep-link-return").fields["JWT"]
    claims = verified_response(tool, token, picker.request)
    assert jwt.get_unverified_header(token)["kid"] == keys.signing_key().kid
    assert claims["iss"] == picker.request["aud"] and picker.request["iss"] in claims["aud"]
    assert claims["nonce"] and claims["nonce"] != picker.request["nonce"]
    assert claims[LTI + "deployment_id"] == picker.request[LTI + "deployment_id"]
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse" and claims[LTI + "version"] == "1.3.0"
    assert claims[DL + "data"] == picker.request[DL + "deep_linking_settings"]["data"]
    [item] = claims[DL + "content_items"]
    assert item == {"type": "ltiResourceLink", "title": "Relationships", "url": tool.base_url + "/lti/launch",
                    "custom": {"page": "relationships"}, "lineItem": {"scoreMaximum": 1, "label": "Relationships"}}


def test_picking_both_pages_adds_two_activities(tool, browser):
    picker = open_picker(browser, mode="canvas")
    assert picker.request[DL + "deep_linking_settings"]["accept_multiple"] is True
    answer = pick(browser, picker, "relationships", "rethinking-partnerships")
    token = parse_form(answer.text, "deep-link-return").fields["JWT"]
    items = verified_response(tool, token, picker.request)[DL + "content_items"]
    assert [i["custom"]["page"] for i in items] == ["relationships", "rethinking-partnerships"]
    assert "lineItem" not in items[1]  # a page without a worksheet is not graded
    added = send_to_lms(browser, answer)
    assert len(added) == 2
    course = requests.get(tool.base_url + "/dev/lms/", timeout=10).text
    assert all(link_id in course for link_id in added)
    assert gradebook_item(tool, added[0])["label"] == "Relationships"
    assert not [i for i in requests.get(tool.base_url + "/dev/lms/api/gradebook", timeout=10).json()["lineitems"]
                if i["resourceLinkId"] == added[1]]


def test_a_learner_gets_403(tool, browser, lms_key):
    form = deep_linking_form(browser)
    learner_roles = [f"{LIS}/membership#Learner", f"{LIS}/institution/person#Student"]
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={"sub": "u-learner-1", LTI + "roles": learner_roles})
    response = submit(browser.http, form)
    assert response.status_code == 403, response.text[:2000]
    text = BeautifulSoup(response.text, "html.parser").get_text(" ", strip=True)
    assert "Only instructors" in text
    assert 'id="deep-linking-form"' not in response.text


def test_a_post_without_csrf_gets_400(browser):
    picker = open_picker(browser)
    fields = picker.fields
    response = browser.http.post(picker.response.url.split("?")[0], data={"launch_token": fields["launch_token"], "page": "relationships"})
    assert response.status_code == 400
    assert "deep-link-return" not in response.text


def test_unknown_missing_or_too_many_pages_are_refused(browser, lms_key):
    picker = open_picker(browser)
    for pages in (("no-such-page",), ("../secret",), ()):
        response = pick(browser, picker, *pages)
        assert response.status_code == 422, (pages, response.text[:1000])
        assert 'id="error-summary"' in response.text and "deep-link-return" not in response.text
    form = deep_linking_form(browser)
    _, claims = unverified(form.fields["id_token"])
    settings = {**claims[DL + "deep_linking_settings"], "accept_multiple": False}
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, claims={DL + "deep_linking_settings": settings})
    single = open_picker(browser, form=form)
    assert {i["type"] for i in single.soup.select("input[name=page]")} == {"radio"}
    assert pick(browser, single, "relationships", "rethinking-partnerships").status_code == 422


def test_the_return_url_comes_from_the_launch_and_the_answer_is_sent_once(browser):
    picker = open_picker(browser)
    answer = pick(browser, picker, "relationships", deep_link_return_url="https://evil.example/steal")
    assert parse_form(answer.text, "deep-link-return").action == picker.request[DL + "deep_linking_settings"]["deep_link_return_url"]
    again = pick(browser, picker, "relationships")
    assert again.status_code == 401 and "deep-link-return" not in again.text


def test_tokens_of_one_kind_of_launch_do_not_open_the_other(tool, browser):
    picker = open_picker(browser)
    assert browser.http.get(tool.base_url + "/activity", params={"lt": picker.fields["launch_token"]}).status_code == 401
    assert browser.http.get(tool.base_url + "/instructor/", params={"lt": picker.fields["launch_token"]}).status_code == 401
    home = browser.launch(INSTRUCTOR)
    token = BeautifulSoup(home.text, "html.parser").find(id="launch")["data-launch-token"]
    assert browser.http.get(tool.base_url + "/deep-linking/", params={"lt": token}).status_code == 403


@pytest.mark.browser
def test_in_chromium_the_answer_goes_back_to_the_lms_by_itself(tool, tmp_path_factory):
    """In the course frame: pick a page, and the auto-submitting answer lands on the LMS's "Added" page."""
    from tests.browser import assert_accessible, chromium

    with chromium() as chrome:
        page = chrome.new_context().new_page()
        page.goto(f"{tool.base_url}/dev/lms/")
        page.get_by_role("link", name="Add an activity with the tool (deep linking) as Sam Rivera").click()
        frame = page.frame_locator("iframe#tool")
        frame.locator("#deep-linking-form").wait_for(timeout=15000)
        assert_accessible(next(f for f in page.frames if "/deep-linking/" in f.url), "deep linking picker")
        frame.get_by_label("Relationships").check()
        frame.get_by_role("button", name="Add to the course").click()
        frame.locator("#added li").wait_for(timeout=15000)
        assert "Relationships" in frame.locator("#added").inner_text()
        page.screenshot(path=str(tmp_path_factory.getbasetemp() / "deep-linking-added.png"), full_page=True)
