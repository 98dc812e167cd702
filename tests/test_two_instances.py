"""Two instances sharing PostgreSQL and Redis: a login answered by one, its launch by the other."""
from __future__ import annotations

import secrets
from urllib.parse import urljoin

import pytest

from tests.conftest import prepare_database
from tests.lms import Browser, submit
from tests.servers import ToolServer, free_port
from tests.services import require_redis, throwaway_postgres


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    redis_url = require_redis()
    tmp = tmp_path_factory.mktemp("pair")
    with throwaway_postgres() as database_url:
        port_a, port_b = free_port(), free_port()
        env = {
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_urlsafe(32),
            "DEV_LMS": "1", "INSTANCE_PATH": str(tmp / "instance"), "DEVLMS_DB_PATH": str(tmp / "devlms.sqlite3"),
            # Behind a load balancer both instances answer for one public URL.
            "TOOL_BASE_URL": f"http://127.0.0.1:{port_a}",
        }
        prepare_database(env)
        a = ToolServer(env, port=port_a, workers=2, log_path=tmp / "a.log").start()
        b = ToolServer(env, port=port_b, workers=2, log_path=tmp / "b.log").start()
        b.base_url = f"http://127.0.0.1:{port_b}"
        try:
            yield a, b
        finally:
            a.stop()
            b.stop()


@pytest.mark.services
@pytest.mark.parametrize("person", ["u-learner-1", "u-instructor-1"])
def test_login_on_one_instance_launch_on_the_other(pair, person):
    a, b = pair
    browser = Browser(a.base_url)
    for _ in range(3):  # several rounds: each worker process of each instance sees the shared state
        login = browser.start(person)
        form = browser.authorize(login)
        form.action = form.action.replace(a.base_url, b.base_url)
        response = submit(browser.http, form, allow_redirects=False)
        assert response.status_code == 303, response.text[:1500]
        landing = browser.http.get(urljoin(b.base_url, response.headers["Location"]))
        assert landing.status_code == 200
        assert ("data-role=\"instructor\"" if "instructor" in person else "data-role=\"learner\"") in landing.text


@pytest.mark.services
def test_replay_on_the_other_instance_is_refused(pair):
    a, b = pair
    browser = Browser(a.base_url)
    form = browser.authorize(browser.start("u-learner-1"))
    assert submit(browser.http, form).status_code == 200
    form.action = form.action.replace(a.base_url, b.base_url)
    replay = submit(browser.http, form)
    assert replay.status_code == 400 and "already used" in replay.text


@pytest.mark.services
def test_stale_cached_jwks_is_fetched_again_for_an_unknown_kid(pair):
    """Key rotation at the platform: the cached JWKS lacks the new kid, so the tool fetches it again once."""
    from lti_tool import create_app
    from lti_tool.lti import state

    a, b = pair
    browser = Browser(a.base_url)
    assert browser.launch("u-learner-1").status_code == 200
    app = create_app({k: v for k, v in a.env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "INSTANCE_PATH", "TOOL_BASE_URL")})
    with app.app_context():
        from lti_tool import devlms

        key_set_url = devlms.registrations(app.config | {"DEVLMS_DB_PATH": a.env["DEVLMS_DB_PATH"]})[0]["key_set_url"]
        assert state.jwks_get(key_set_url) is not None, "the first launch should have cached the platform's JWKS"
        state.jwks_put(key_set_url, {"keys": []}, 3600)
    assert browser.launch("u-learner-1").status_code == 200
    with app.app_context():
        assert state.jwks_get(key_set_url)["keys"], "the JWKS was fetched again and cached"
