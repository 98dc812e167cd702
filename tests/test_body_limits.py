"""Bodies of 1 MB and 10 MB get 413 on every route that takes a POST, before any work is done."""
from __future__ import annotations

import pytest
import requests

POSTS = ["/lti/login", "/lti/launch", "/activity", "/api/worksheet", "/api/launch/refresh",
         "/instructor/grades/resend", "/deep-linking/"]


@pytest.mark.parametrize("size", [1024 * 1024, 10 * 1024 * 1024])
@pytest.mark.parametrize("path", POSTS)
def test_large_bodies_get_413(tool, path, size):
    body = b"a=" + b"x" * size
    response = requests.post(tool.base_url + path, data=body, timeout=30,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413, (path, response.status_code, response.text[:200])
