"""One machine, several workers, no Redis: the workers share launch state through the disk cache, and
their SQLite writes queue on a lock file. Over real HTTP against gunicorn with WORKERS=2."""
from __future__ import annotations

import multiprocessing
import os
import secrets
import threading
import time
from collections import Counter

import pytest
import requests

from tests.conftest import _app_config, prepare_database
from tests.lms import Browser, submit
from tests.servers import ToolServer, free_port
from tests.worksheet_client import Learner, complete_data, row, stored


# --- the cache itself ---------------------------------------------------------------------------------

def _disk_cache(folder):
    from lti_tool.disk_cache import DiskCache

    return DiskCache(str(folder), default_timeout=60)


def test_disk_cache_keeps_expires_and_deletes(tmp_path):
    cache = _disk_cache(tmp_path / "c")
    assert cache.get("missing") is None
    assert cache.set("state", {"nonce": "n", "iss": "https://lms"}) and cache.get("state") == {"nonce": "n", "iss": "https://lms"}
    assert cache.add("used", "hash-1", timeout=60) is True
    assert cache.add("used", "hash-2", timeout=60) is False and cache.get("used") == "hash-1", "add never replaces"
    assert cache.set("brief", 1, timeout=1) and cache.has("brief")
    time.sleep(1.2)
    assert cache.get("brief") is None and not cache.has("brief")
    assert cache.delete("state") and cache.get("state") is None
    assert cache.inc("count") == 1 and cache.inc("count", 4) == 5 and cache.dec("count") == 4
    assert cache.clear() and cache.get("used") is None


def test_a_second_process_sees_what_the_first_wrote(tmp_path):
    folder = tmp_path / "c"
    _disk_cache(folder).set("lti1p3-oidc-state-abc", {"nonce": "n1"}, timeout=60)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.apply(_read, (str(folder), "lti1p3-oidc-state-abc")) == {"nonce": "n1"}


def _read(folder: str, key: str):
    return _disk_cache(folder).get(key)


def _race(folder: str, key: str, start_at: float, tries: int) -> int:
    cache = _disk_cache(folder)
    while time.time() < start_at:
        time.sleep(0.001)
    return sum(1 for n in range(tries) if cache.add(f"{key}-{n}", os.getpid(), timeout=60))


def test_add_is_atomic_across_processes(tmp_path):
    """Four processes try to spend the same 300 one-time values at the same moment: each is spent once."""
    folder = str(tmp_path / "c")
    _disk_cache(folder)
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 2
    with ctx.Pool(4) as pool:
        wins = pool.starmap(_race, [(folder, "nonce", start_at, 300)] * 4)
    assert sum(wins) == 300, f"wins per process: {wins}"


def test_file_lock_is_held_by_one_process_at_a_time(tmp_path):
    from lti_tool import file_lock

    path = str(tmp_path / "db.writer-lock")
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Manager().list()
    with file_lock.held(path):
        child = ctx.Process(target=_take_lock, args=(path, events))
        child.start()
        time.sleep(0.5)
        events.append("parent releases")
    child.join(timeout=20)
    assert list(events) == ["parent releases", "child holds"]


def _take_lock(path: str, events) -> None:
    from lti_tool import file_lock

    with file_lock.held(path):
        events.append("child holds")


# --- two workers over HTTP -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """The tool on SQLite with WORKERS=2 and no Redis (what one small machine with two cores runs)."""
    tmp = tmp_path_factory.mktemp("two-workers")
    port = free_port()
    env = {**_app_config(tmp, port), "SECRET_KEY": secrets.token_urlsafe(32), "GRADE_WORKER": "inline"}
    prepare_database(env)
    server = ToolServer(env, port=port, workers=2, log_path=tmp / "server.log").start()
    from lti_tool import create_app

    yield server, create_app({**env, "WORKERS": "2"}), tmp
    server.stop()


def _fresh_connection_launch(base_url: str, person: str) -> requests.Response:
    """Login and launch over different connections (as often happens behind a browser): with two
    workers, about half of such launches reach the other worker than their login."""
    browser = Browser(base_url)
    form = browser.authorize(browser.start(person))
    other = requests.Session()
    other.cookies.update(browser.http.cookies)
    return submit(other, form)


def test_logins_and_launches_on_either_worker_all_succeed(two_workers):
    server, app, tmp = two_workers
    pages = [_fresh_connection_launch(server.base_url, f"u-load-{n}") for n in range(1, 31)]
    assert [p.status_code for p in pages] == [200] * 30, [p.text[:300] for p in pages if p.status_code != 200][:2]
    assert "launch refused" not in (tmp / "server.log").read_text()


def test_a_replay_is_refused_whichever_worker_gets_it(two_workers):
    server, app, tmp = two_workers
    browser = Browser(server.base_url)
    form = browser.authorize(browser.start("u-load-40"))
    assert submit(browser.http, form).status_code == 200
    replays = []
    for _ in range(6):  # new connections: both workers get some of them
        again = requests.Session()
        again.cookies.update(browser.http.cookies)
        replays.append(submit(again, form))
    assert all(r.status_code == 400 and "already accepted" in r.text for r in replays), [r.status_code for r in replays]


def test_concurrent_saves_on_both_workers_all_land(two_workers):
    """24 learners save 6 times each, all at once, over connections spread on both workers: every save
    answers 200 and the database holds the last one of each (no 'database is locked', nothing lost)."""
    server, app, tmp = two_workers
    learners = {f"u-load-{n}": Learner.launch(server.base_url, f"u-load-{n}") for n in range(100, 124)}
    statuses: Counter = Counter()
    last: dict[str, str] = {}

    def work(sub: str, learner: Learner) -> None:
        version = None
        for n in range(6):
            data = complete_data()
            data["rows"] = [row(f"Partner {sub} {n}", "Shared space", "Time", "Meet", "formal")] * 3
            response = requests.post(f"{server.base_url}/api/worksheet", json={**data, "base_version": version,
                                     "action": "save"}, headers=learner.headers(), timeout=30)
            statuses[response.status_code] += 1
            if response.status_code == 200:
                version = response.json()["version"]
                last[sub] = f"Partner {sub} {n}"

    threads = [threading.Thread(target=work, args=item) for item in learners.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == Counter({200: 24 * 6})
    for sub, partnership in last.items():
        submission, rows, _ = stored(app, sub)
        assert submission.version == 6 and [r["partnership"] for r in rows] == [partnership] * 3
    log = (tmp / "server.log").read_text()
    assert "database is locked" not in log and "Traceback" not in log
