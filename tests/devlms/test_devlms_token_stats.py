"""Per-client token counters, and the score log read back through GET /api/scores."""
from __future__ import annotations

from devlms_helpers import ToolKey, now_iso, scores_url

CLIENTS = ("practice-moodle", "practice-canvas")


def stats(lms) -> dict:
    return lms.http.get(lms.url + "/api/stats", timeout=10).json()


def scores(lms, **params) -> dict:
    response = lms.http.get(lms.url + "/api/scores", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_per_client_counters_start_at_zero(lms):
    counted = stats(lms)
    for client in CLIENTS:
        for name in ("token_requests", "tokens_issued", "token_errors"):
            assert counted[f"{name}:{client}"] == 0


def test_tokens_are_counted_per_client(lms):
    for _ in range(3):
        lms.access_token("moodle")
    lms.access_token("canvas")
    assert lms.token_request(lms.assertion("canvas"), grant_type="password").status_code == 400
    assert lms.token_request("junk").status_code == 401
    counted = stats(lms)
    assert counted["tokens_issued:practice-moodle"] == 3 and counted["token_requests:practice-moodle"] == 3
    assert counted["tokens_issued:practice-canvas"] == 1 and counted["token_requests:practice-canvas"] == 2
    assert counted["token_errors:practice-canvas"] == 1 and counted["token_errors:practice-moodle"] == 0
    assert counted["token_requests:unknown"] == 1 and counted["token_errors:unknown"] == 1
    assert counted["token_requests"] == 6 and counted["tokens_issued"] == 4 and counted["token_errors"] == 2
    assert sum(v for k, v in counted.items() if k.startswith("token_requests:")) == counted["token_requests"]


def test_at_most_one_token_per_platform(lms, line_item_url):
    """What a grade-passback test would say: the worker reused its token for every score."""
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    for n in range(1, 6):
        assert lms.score(url, token, f"u-load-{n}").status_code == 200
    counted = stats(lms)
    assert counted["tokens_issued:practice-moodle"] <= 1 and counted["tokens_issued:practice-canvas"] == 0


def test_forged_assertion_counts_as_a_request_not_a_token(lms):
    stranger = ToolKey()
    stranger.kid = lms.tool.keys[0].kid
    assert lms.token_request(lms.assertion("canvas", key=stranger)).status_code == 401
    counted = stats(lms)
    assert counted["token_requests:practice-canvas"] == 1 and counted["tokens_issued:practice-canvas"] == 0
    assert counted["token_errors:practice-canvas"] == 1


def test_stats_reset_clears_per_client_counters(lms):
    lms.access_token("moodle")
    assert lms.http.delete(lms.url + "/api/stats", timeout=10).status_code == 204
    assert stats(lms)["tokens_issued:practice-moodle"] == 0


def test_score_log_in_order_with_filters(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    first, second = now_iso(-5), now_iso()
    assert lms.score(url, token, "u-learner-1", timestamp=second, given=0.5).status_code == 200
    assert lms.score(url, token, "u-learner-1", timestamp=first, given=1).status_code == 409
    assert lms.score(url, token, "u-load-4", given=1, grading="Pending", activity="Submitted").status_code == 200
    assert lms.score(url, token, "u-instructor-1").status_code == 400

    everything = scores(lms)
    assert everything["count"] == 4 and [s["user_id"] for s in everything["scores"]] == \
        ["u-learner-1", "u-learner-1", "u-load-4", "u-instructor-1"]
    ids = [s["id"] for s in everything["scores"]]
    assert ids == sorted(ids)
    received = [s["received_at"] for s in everything["scores"]]
    assert received == sorted(received)

    mine = scores(lms, user_id="u-learner-1")["scores"]
    assert [(s["timestamp"], s["status"], s["scoreGiven"]) for s in mine] == [(second, 200, 0.5), (first, 409, 1)]
    assert mine[0]["lineitem_id"] == 1 and mine[0]["client_id"] == "practice-moodle"
    assert mine[0]["detail"] == "accepted" and mine[1]["detail"].startswith("Refusing")
    assert mine[0]["gradingProgress"] == "FullyGraded" and mine[0]["scoreMaximum"] == 1

    accepted = scores(lms, status=200)["scores"]
    assert [s["user_id"] for s in accepted] == ["u-learner-1", "u-load-4"]
    assert scores(lms, user_id="u-learner-1", status=409)["count"] == 1
    assert scores(lms, client_id="practice-canvas")["count"] == 0
    assert scores(lms, lineitem_id=1)["count"] == 4 and scores(lms, lineitem_id=2)["count"] == 0
    assert [s["id"] for s in scores(lms, after_id=ids[1])["scores"]] == ids[2:]
    assert [s["id"] for s in scores(lms, limit=2)["scores"]] == ids[:2]


def test_score_log_keeps_refused_bodies_and_is_cleared_with_the_gradebook(lms, line_item_url):
    url, token = scores_url(line_item_url), lms.access_token("moodle")
    assert lms.score(url, token, "u-nobody", timestamp="2024-01-01T00:00:00+00:00").status_code == 400
    [entry] = scores(lms, user_id="u-nobody")["scores"]
    assert entry["status"] == 400 and entry["timestamp"] == "2024-01-01T00:00:00+00:00"
    assert lms.http.delete(lms.url + "/api/gradebook", timeout=10).status_code == 204
    assert scores(lms) == {"count": 0, "scores": []}


def test_score_log_bad_filters(lms):
    for params in ({"status": "ok"}, {"status": 99}, {"lineitem_id": "x"}, {"after_id": -1}, {"limit": 0}):
        response = lms.http.get(lms.url + "/api/scores", params=params, timeout=10)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request", params
