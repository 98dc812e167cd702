"""Bodies of 1 MB and 10 MB get 413 on every route that takes a POST, before any work is done.

MAX_CONTENT_LENGTH (lti_tool/config.py) is the limit: a body of exactly that many bytes is read, one byte more is a
413, whether the body is a form, JSON, or sent chunked (Transfer-Encoding: chunked, no Content-Length)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import requests

from tests.worksheet_client import Learner, forget, stored

POSTS = ["/lti/login", "/lti/launch", "/activity", "/api/worksheet", "/api/launch/refresh",
         "/instructor/grades/resend", "/deep-linking/"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
PERSON = "u-load-7601"
TIMEOUT = 60


@pytest.mark.parametrize("size", [1024 * 1024, 10 * 1024 * 1024])
@pytest.mark.parametrize("path", POSTS)
def test_large_bodies_get_413(tool, path, size):
    body = b"a=" + b"x" * size
    response = requests.post(tool.base_url + path, data=body, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413, (path, response.status_code, response.text[:200])


# --- helpers ---------------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def learner(tool) -> Learner:
    """A learner with one saved version: a body that got through would change it."""
    forget(tool.app, PERSON)
    learner = Learner.launch(tool.base_url, PERSON)
    assert learner.autosave({"rows": [{"partnership": "Kept as it was"}], "answers": {}}, None).status_code == 200
    return learner


def snapshot(tool) -> tuple:
    submission, rows, revisions = stored(tool.app, PERSON)
    return submission.version, submission.answers, rows, len(revisions)


def limit_of(tool) -> int:
    return tool.app.config["MAX_CONTENT_LENGTH"]


def json_of_size(size: int, data: dict) -> bytes:
    """`data` as a JSON object of exactly `size` bytes (a padding member the tool ignores)."""
    empty = json.dumps({**data, "padding": ""}).encode()
    body = json.dumps({**data, "padding": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


def chunked(body: bytes, size: int = 64 * 1024):
    """A generator: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def too_large(response: requests.Response) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:300])


# --- JSON bodies, and the exact limit -----------------------------------------------------------------

@pytest.mark.parametrize("size", [1024 * 1024, 10 * 1024 * 1024], ids=["1 MB", "10 MB"])
@pytest.mark.parametrize("tokens", [True, False], ids=["with the learner's tokens", "without tokens"])
def test_large_json_bodies_to_the_save_endpoint_get_413(tool, learner, size, tokens):
    before = snapshot(tool)
    body = json.dumps({"rows": [{"partnership": "Too large"}], "answers": {}, "base_version": before[0],
                       "padding": "x" * size}).encode()
    headers = learner.headers(**JSON) if tokens else JSON
    response = requests.post(tool.base_url + "/api/worksheet", data=body, headers=headers, timeout=TIMEOUT)
    too_large(response)
    assert response.json()["error"] == "Request Entity Too Large"
    assert snapshot(tool) == before


def test_a_json_body_of_exactly_max_content_length_is_read_and_one_byte_more_is_413(tool, learner):
    limit = limit_of(tool)
    version = snapshot(tool)[0]
    over = json_of_size(limit + 1, {"rows": [{"partnership": "One byte over"}], "answers": {}, "base_version": version})
    too_large(requests.post(tool.base_url + "/api/worksheet", data=over, headers=learner.headers(**JSON), timeout=TIMEOUT))
    assert snapshot(tool)[0] == version

    at = json_of_size(limit, {"rows": [{"partnership": "At the limit"}], "answers": {}, "base_version": version})
    response = requests.post(tool.base_url + "/api/worksheet", data=at, headers=learner.headers(**JSON), timeout=TIMEOUT)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    assert response.json()["version"] == version + 1
    assert stored(tool.app, PERSON)[1][0]["partnership"] == "At the limit"


@pytest.mark.parametrize("path", POSTS)
def test_a_form_body_one_byte_over_max_content_length_gets_413(tool, path):
    body = b"a=" + b"x" * (limit_of(tool) - 1)
    assert len(body) == limit_of(tool) + 1
    too_large(requests.post(tool.base_url + path, data=body, headers=FORM, timeout=TIMEOUT))


# --- chunked bodies (no Content-Length) ---------------------------------------------------------------

def _json_over(tool, kind: str, version: int) -> bytes:
    data = {"rows": [{"partnership": "Chunked over the limit"}], "answers": {}, "base_version": version}
    if kind == "padding member":
        return json_of_size(2 * limit_of(tool), data)
    # A whole JSON object, then spaces: its first MAX_CONTENT_LENGTH bytes are valid JSON too.
    return json.dumps(data).encode() + b" " * (2 * limit_of(tool))


@pytest.mark.parametrize("kind", ["padding member", "trailing spaces"])
def test_a_chunked_json_body_over_the_limit_gets_413(tool, learner, kind):
    before = snapshot(tool)
    response = requests.post(tool.base_url + "/api/worksheet", data=chunked(_json_over(tool, kind, before[0])),
                             headers=learner.headers(**JSON), timeout=TIMEOUT)
    after = snapshot(tool)
    too_large(response)
    assert after == before, f"a chunked body of {2 * limit_of(tool)} bytes changed the worksheet"


def test_a_chunked_form_body_over_the_limit_gets_413(tool, learner):
    """The no-script form's post, sent chunked: 2 MB, a row's text straddling the MAX_CONTENT_LENGTH-th byte.
    The same bytes with a Content-Length are a 413 (checked first, as the control)."""
    before = snapshot(tool)
    head = urlencode({"launch_token": learner.launch_token, "csrf_token": learner.csrf_token, "action": "save",
                      "base_version": before[0]}) + "&padding="
    cut_at = "&rows-0-partnership=Meet+mon"
    padding = "x" * (limit_of(tool) - len(head) - len(cut_at))
    body = (head + padding + "&rows-0-partnership=Meet+monthly+with+the+board&q_talk-more=" + "y" * limit_of(tool)).encode()
    assert body[:limit_of(tool)].endswith(b"Meet+mon")

    too_large(requests.post(tool.base_url + "/activity", data=body, headers=FORM, timeout=TIMEOUT, allow_redirects=False))
    response = requests.post(tool.base_url + "/activity", data=chunked(body), headers=FORM, timeout=TIMEOUT,
                             allow_redirects=False)
    submission, rows, _ = stored(tool.app, PERSON)
    too_large(response)
    assert (submission.version, rows) == (before[0], before[2]), f"stored {rows} from a {len(body)}-byte body"


def test_chunked_bodies_never_500_and_the_server_survives(tool, learner, watch):
    """Under the limit a chunked body is read like any other (the control); over it, on every POST route, never a
    5xx, the server answers the next request, and nothing unexpected is logged. (Each on a new connection: gunicorn
    drains at most 64 KB of a body the app left unread, then closes the connection, so a client that reuses it
    may find it closed.)"""
    version = snapshot(tool)[0]
    under = json_of_size(limit_of(tool) // 2, {"rows": [{"partnership": "Chunked under the limit"}], "answers": {},
                                               "base_version": version})
    response = requests.post(tool.base_url + "/api/worksheet", data=chunked(under), headers=learner.headers(**JSON),
                             timeout=TIMEOUT)
    assert response.status_code == 200 and response.json()["version"] == version + 1, response.text[:300]

    for path in POSTS:
        for size in (2 * limit_of(tool), 10 * 1024 * 1024):
            response = requests.post(tool.base_url + path, data=chunked(b"a=" + b"x" * size), timeout=TIMEOUT,
                                     headers={**FORM, **learner.headers()}, allow_redirects=False)
            assert response.status_code < 500, (path, size, response.status_code, response.text[:300])
            alive = requests.get(tool.base_url + "/healthz", timeout=TIMEOUT)
            assert alive.status_code == 200, (path, size, alive.status_code)
    assert requests.get(tool.base_url + "/livez", timeout=TIMEOUT).status_code == 200
    assert "Traceback" not in watch.text() and "unexpected error" not in watch.text(), watch.text()[-3000:]
