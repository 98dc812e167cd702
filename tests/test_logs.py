"""Log lines carry the request id; tokens never reach the log."""
from __future__ import annotations

import time

from tests.lms import Browser, resign


def test_a_refused_launch_is_logged_with_its_request_id_and_without_the_token(tool, lms_key):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-learner-1"))
    bad = resign(form.fields["id_token"], lms_key, claims={"aud": "someone-else"})
    response = browser.http.post(f"{tool.base_url}/lti/launch", data={**form.fields, "id_token": bad},
                                 headers={"X-Request-Id": "rid4logtest01"})
    assert response.status_code == 400 and response.headers["X-Request-Id"] == "rid4logtest01"
    time.sleep(0.2)
    lines = [line for line in tool.log().splitlines() if "rid=rid4logtest01" in line]
    assert any("launch refused" in line for line in lines), lines
    assert bad not in tool.log() and bad.split(".")[1] not in tool.log()


def test_tokens_of_a_good_launch_never_reach_the_log(tool):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-learner-2"))
    id_token = form.fields["id_token"]
    page = browser.http.post(f"{tool.base_url}/lti/launch", data=form.fields)
    assert page.status_code == 200
    launch_token = page.url.split("lt=")[1].split("&")[0]
    time.sleep(0.2)
    log = tool.log()
    assert id_token.split(".")[1] not in log and launch_token not in log and form.fields["state"] not in log
