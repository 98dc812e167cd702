"""AGS: line items, and scores under Moodle's and Canvas's rules."""
from __future__ import annotations

import pytest
from devlms_helpers import AGS, LINEITEM_TYPE, SCORE_TYPE, now_iso, scores_url
from urllib3.util import SKIP_HEADER

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def ags_claim(lms, mode: str, person: str = "u-learner-1") -> dict:
    return lms.verify(lms.launch(person, mode=mode).id_token, mode)[AGS_CLAIM]


def test_moodle_scores_url_keeps_the_query_after_scores(lms, line_item_url):
    assert line_item_url.endswith("/lineitems/1/lineitem?type_id=1")
    url = scores_url(line_item_url)
    assert url.endswith("/lineitems/1/lineitem/scores?type_id=1")
    token = lms.access_token("moodle")
    response = lms.score(url, token, "u-learner-1", given=0.5, maximum=1, comment="Nice table")
    assert response.status_code == 200, response.text
    row = lms.gradebook_row("u-learner-1")
    assert row["resultScore"] == 0.5 and row["comment"] == "Nice table" and row["gradingProgress"] == "FullyGraded"
    # the classic mistake: /scores appended after the query string
    assert lms.score(line_item_url + "/scores", token, "u-learner-1").status_code in (400, 404, 405)


def test_moodle_refuses_equal_and_older_timestamps(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    stamp = now_iso()
    assert lms.score(url, token, "u-learner-1", timestamp=stamp).status_code == 200
    assert lms.score(url, token, "u-learner-1", timestamp=stamp).status_code == 409
    assert lms.score(url, token, "u-learner-1", timestamp=now_iso(-60)).status_code == 409
    assert lms.score(url, token, "u-learner-1", timestamp=now_iso(1)).status_code == 200
    assert lms.score(url, token, "u-learner-2", timestamp=now_iso(-60)).status_code == 200  # per user


def test_moodle_keeps_score_only_when_fully_graded(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    assert lms.score(url, token, "u-learner-1", given=1, grading="Pending", activity="Submitted").status_code == 200
    row = lms.gradebook_row("u-learner-1")
    assert row["scoreGiven"] is None and row["activityProgress"] == "Submitted" and row["gradingProgress"] == "Pending"


def test_moodle_refuses_scores_for_the_instructor_and_strangers(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    assert lms.score(url, token, "u-instructor-1").status_code == 400
    assert lms.score(url, token, "u-nobody").status_code == 400
    assert lms.score(url, token, "u-test-student").status_code == 200


def test_canvas_rules(lms):
    claim = ags_claim(lms, "canvas")
    assert claim["lineitem"].endswith("/courses/course-1/lineitems/1")
    url, token = claim["lineitem"] + "/scores", lms.access_token("canvas")
    assert lms.score(url, token, "u-test-student").status_code == 422
    assert lms.score(url, token, "u-instructor-1").status_code == 422
    ok = lms.score(url, token, "u-learner-3", given=1, grading="Pending")
    assert ok.status_code == 200 and ok.json()["resultUrl"]
    assert lms.gradebook_row("u-learner-3")["scoreGiven"] == 1
    assert lms.score(url, token, "u-learner-3", timestamp=now_iso(-60)).status_code == 400


def test_canvas_refuses_service_calls_without_user_agent(lms):
    claim = ags_claim(lms, "canvas")
    token = lms.access_token("canvas")
    response = lms.call("GET", claim["lineitems"], token, headers={"User-Agent": SKIP_HEADER})
    assert response.status_code in (400, 403) and response.json()["error"]
    assert lms.call("GET", claim["lineitems"], token).status_code == 200


def test_score_body_is_validated(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    base = {"userId": "u-learner-1", "timestamp": now_iso(), "activityProgress": "Completed", "gradingProgress": "FullyGraded"}
    for broken in ({**base, "timestamp": "yesterday"}, {k: v for k, v in base.items() if k != "userId"},
                   {**base, "activityProgress": "Done"}, {**base, "scoreGiven": 1}, {**base, "gradingProgress": None}):
        assert lms.call("POST", url, token, broken, SCORE_TYPE).status_code == 400, broken
    assert lms.call("POST", url, token, base, "application/json").status_code == 415


def test_bearer_token_and_scope_are_checked(lms, line_item_url):
    url = scores_url(line_item_url)
    missing = lms.score(url, None, "u-learner-1")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert lms.score(url, "made-up-token", "u-learner-1").status_code == 401
    readonly = lms.access_token("moodle", [AGS + "lineitem.readonly"])
    assert lms.score(url, readonly, "u-learner-1").status_code == 403
    assert lms.call("GET", line_item_url, readonly).status_code == 200
    expired = lms.access_token("moodle")
    lms.http.post(lms.url + "/api/tokens/expire", timeout=10)
    assert lms.score(url, expired, "u-learner-1").status_code == 401


def test_line_items_crud_and_filter(lms):
    claim = ags_claim(lms, "moodle")
    token = lms.access_token("moodle")
    listing = lms.call("GET", claim["lineitems"], token)
    assert listing.status_code == 200 and listing.headers["Content-Type"] == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert [i["id"] for i in listing.json()] == [claim["lineitem"]]
    created = lms.call("POST", claim["lineitems"], token, {"label": "Rethinking", "scoreMaximum": 10, "resourceLinkId": "rl-rethinking", "tag": "worksheet"}, LINEITEM_TYPE)
    assert created.status_code == 201 and created.headers["Content-Type"] == LINEITEM_TYPE
    item = created.json()
    assert item["id"].endswith("/lineitem?type_id=1") and item["resourceLinkId"] == "rl-rethinking"
    found = lms.call("GET", claim["lineitems"] + "&resource_link_id=rl-rethinking", token).json()
    assert [i["id"] for i in found] == [item["id"]]
    updated = lms.call("PUT", item["id"], token, {**item, "label": "Rethinking (v2)", "scoreMaximum": 5}, LINEITEM_TYPE)
    assert updated.status_code == 200 and updated.json()["label"] == "Rethinking (v2)" and updated.json()["scoreMaximum"] == 5
    assert lms.call("POST", claim["lineitems"], token, {"label": "", "scoreMaximum": 0}, LINEITEM_TYPE).status_code == 400
    assert lms.call("DELETE", item["id"], token).status_code == 204
    assert lms.call("GET", item["id"], token).status_code == 404


def test_results(lms, line_item_url):
    token = lms.access_token("moodle")
    lms.score(scores_url(line_item_url), token, "u-learner-2", given=3, maximum=4, comment="خوب")
    parts = line_item_url.split("?")
    results = lms.call("GET", parts[0] + "/results?" + parts[1], token)
    assert results.status_code == 200 and results.headers["Content-Type"] == "application/vnd.ims.lis.v2.resultcontainer+json"
    [result] = results.json()
    assert result["userId"] == "u-learner-2" and result["resultScore"] == 0.75 and result["resultMaximum"] == 1
    assert result["scoreOf"] == line_item_url and result["comment"] == "خوب"


@pytest.mark.parametrize("mode", ["moodle", "canvas"])
def test_gradebook_page_shows_scores_and_refreshes(lms, mode):
    claim = ags_claim(lms, mode)
    lms.score(scores_url(claim["lineitem"]), lms.access_token(mode), "u-learner-2", given=1, comment="<b>well done</b>")
    page = lms.http.get(lms.url + "/gradebook", timeout=10).text
    assert 'http-equiv="refresh"' in page and "نسرین احمدی" in page
    assert "&lt;b&gt;well done&lt;/b&gt;" in page and "<b>well done" not in page
    stats = lms.http.get(lms.url + "/api/stats", timeout=10).json()
    assert stats["score_posts"] == 1 and stats["scores_accepted"] == 1
