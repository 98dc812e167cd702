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


@pytest.mark.services
def test_saves_and_grades_across_both_instances_lose_nothing_and_send_nothing_twice(pair):
    """Learners log in on one instance, launch on the other, save on both; both instances' grade
    workers (GRADE_WORKER=inline, two processes each) share the outbox."""
    from collections import Counter

    from bs4 import BeautifulSoup

    from lti_tool import create_app
    from tests.gradebook import PracticeLMS, outbox, wait_for
    from tests.worksheet_client import Learner, complete_data

    a, b = pair
    app = create_app({k: v for k, v in a.env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "INSTANCE_PATH", "TOOL_BASE_URL")})
    subs = [f"u-load-{n}" for n in range(500, 520)]
    learners = []
    for sub in subs:
        browser = Browser(a.base_url)
        form = browser.authorize(browser.start(sub))
        form.action = form.action.replace(a.base_url, b.base_url)
        landing = submit(browser.http, form)
        assert landing.status_code == 200, landing.text[:500]
        node = BeautifulSoup(landing.text, "html.parser").find(id="launch")
        learners.append(Learner(b.base_url, browser.http, landing, node["data-launch-token"], node["data-csrf-token"]))
    versions = {}
    for round_ in range(4):
        for sub, learner in zip(subs, learners):
            learner.base_url = (a if round_ % 2 else b).base_url
            data = complete_data()
            data["rows"][0]["strengths"] = f"round {round_}"
            response = learner.autosave(data, versions.get(sub), action="submit" if round_ == 3 else "save")
            assert response.status_code == 200, response.text[:300]
            versions[sub] = response.json()["version"]
    assert set(versions.values()) == {4}, "every save landed, on either instance"
    lms = PracticeLMS(a.base_url)
    wait_for(lambda: all((rows := outbox(app, s)) and rows[-1].status == "sent" for s in subs), timeout=60,
             what="every grade sent by the instances' workers")
    accepted = Counter(p["user_id"] for p in lms.scores(status=200) if p["user_id"] in subs)
    assert accepted == Counter({s: 1 for s in subs}), "each grade sent exactly once"
    from lti_tool.extensions import db
    from lti_tool.models import Submission

    with app.app_context():
        from sqlalchemy import select

        strengths = {s.entries[0].values["strengths"] for s in db.session.scalars(select(Submission)) if s.person.sub in subs}
    assert strengths == {"round 3"}


@pytest.mark.services
def test_the_autosaves_prepared_statements_store_what_the_orm_stores_on_postgresql(pair):
    from lti_tool import create_app
    from tests.stored_values import check_saves_store_like_the_orm
    from tests.worksheet_client import Learner

    a, b = pair
    app = create_app({k: v for k, v in a.env.items() if k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "INSTANCE_PATH", "TOOL_BASE_URL")})
    check_saves_store_like_the_orm(app, Learner.launch(a.base_url, "u-load-9102"), "u-load-9102")
