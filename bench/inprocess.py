"""In-process cost of the hot requests, without the network or gunicorn: the tool's WSGI app (and the
baseline's) called directly, N times each, timed and optionally profiled with pyinstrument.

    .venv/bin/python bench/inprocess.py [--n 2000] [--only livez,save,launch,baseline] [--profile [cprofile]]
        [--database-url ...] [--redis-url ...]

Measures CPU microseconds per request (process time, one thread) for: GET /livez, an autosave of the
10-row worksheet of bench/save.py, a login + launch pair (relaunch of a known learner, as bench/launch.py
sends it), and the same pair against the baseline tool. With --profile, prints pyinstrument's tree for
each. Use it to find what a request spends its time on; the figures to quote come from bench/launch.py
and bench/save.py, which measure through gunicorn.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_service_args, free_port, prepare, tool_env  # noqa: E402


class Wsgi:
    """Calls a WSGI app the way gunicorn does, one request at a time; keeps cookies like a browser tab."""

    def __init__(self, app, host: str):
        self.app, self.host = app, host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": self.host.rsplit(":", 1)[1], "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "wsgi.version": (1, 0), "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": self.host,
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE",) else "HTTP_" + key] = value
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        answer: dict = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"], answer["headers"] = int(status.split()[0]), response_headers

        chunks = self.app(environ, start_response)
        data = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "Max-Age=0" in value or "expires=Thu, 01 Jan 1970" in value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        return answer["status"], dict(answer["headers"]), data


def launch_pair(client: Wsgi, platform, login_path: str, launch_path: str, base_url: str, sub: str) -> str:
    """Login + launch as bench/launch.py sends them; the Location the launch answered with."""
    client.cookies.clear()
    status, headers, body = client.request("GET", login_path + "?" + urlencode(platform.login_params(sub, base_url + launch_path)))
    assert status in (302, 303), (status, body[:300])
    query = {k: v[0] for k, v in parse_qs(urlsplit(headers["Location"]).query).items()}
    form = urlencode({"id_token": platform.id_token(sub, query["nonce"]), "state": query["state"]}).encode()
    status, headers, body = client.request("POST", launch_path, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (200, 303), (status, body[:300])
    return headers.get("Location", "")


def measure(name: str, n: int, step, profile: bool) -> float:
    """Run `step` n times (after 50 warm-up calls); CPU microseconds per call."""
    for _ in range(50):
        step()
    profiler = None
    if profile == "cprofile":
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    elif profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    start = time.process_time()
    for _ in range(n):
        step()
    cpu = (time.process_time() - start) / n * 1e6
    if profile == "cprofile":
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(45)
    elif profiler:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False)[:15000])
    print(f"{name:>10}: {cpu:8.0f} us CPU per request (in process, {n} requests)", flush=True)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--only", default="livez,save,launch,baseline")
    parser.add_argument("--profile", nargs="?", const="pyinstrument", default="",
                        help="print a profile of each: pyinstrument's tree (default) or cprofile's top functions")
    add_service_args(parser)
    args = parser.parse_args()
    only = set(args.only.split(","))

    from bench.launch import Platform
    from bench.save import worksheet

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = tool_env(tmp, port, args, GRADE_WORKER="off")
        os.environ.update(env)
        app = prepare(env)
        from lti_tool import create_app

        tool = create_app({**env, "DEV_LMS": True})
        platform = Platform(tool)
        base_url = env["TOOL_BASE_URL"]
        with tool.app_context():  # no server answers for the practice LMS here: its key set is cached up front
            from lti_tool.lti import state
            from lti_tool.models import Platform as PlatformRow
            from lti_tool.extensions import db

            for url in db.session.scalars(db.select(PlatformRow.key_set_url)):
                state.jwks_put(url, platform.jwks, 3600)
        client = Wsgi(tool.wsgi_app, f"127.0.0.1:{port}")
        results = {}
        if "livez" in only:
            results["livez"] = measure("livez", args.n, lambda: client.request("GET", "/livez"), args.profile)
        if "save" in only:
            results["save"] = measure_save(client, platform, base_url, args)
        if "launch" in only:
            subs = [f"u-load-{n}" for n in range(1, 201)]
            for sub in subs:  # every learner's rows exist: what is measured is a relaunch
                launch_pair(client, platform, "/lti/login", "/lti/launch", base_url, sub)
            counter = iter(range(10**9))
            results["launch pair"] = measure("launch", args.n, lambda: launch_pair(
                client, platform, "/lti/login", "/lti/launch", base_url, subs[next(counter) % len(subs)]), args.profile)
        if "baseline" in only:
            os.environ.update({
                "BASELINE_ISSUER": platform.mode.issuer(platform.settings), "BASELINE_CLIENT_ID": platform.mode.client_id,
                "BASELINE_DEPLOYMENT_ID": platform.settings.deployment_id, "BASELINE_BASE_URL": base_url,
                "BASELINE_AUTH_LOGIN_URL": platform.settings.auth_url, "BASELINE_AUTH_TOKEN_URL": platform.settings.token_url,
                "BASELINE_JWKS": json.dumps(platform.jwks)})
            from bench.baseline_tool import create_app as baseline_app

            baseline = Wsgi(baseline_app().wsgi_app, f"127.0.0.1:{port}")
            results["baseline pair"] = measure("baseline", args.n, lambda: launch_pair(
                baseline, platform, "/login", "/launch", base_url, "u-load-1"), args.profile)
        print(json.dumps({k: round(v) for k, v in results.items()}))
        del app


def measure_save(client: Wsgi, platform, base_url: str, args) -> float:
    import re

    location = launch_pair(client, platform, "/lti/login", "/lti/launch", base_url, "u-load-1")
    status, _, page = client.request("GET", urlsplit(location).path + "?" + urlsplit(location).query)
    assert status == 200, page[:300]
    text = page.decode()
    launch = re.search(r'data-launch-token="([^"]*)"[^>]*data-csrf-token="([^"]*)"', text)
    token, csrf = launch.group(1), launch.group(2)
    state = {"version": None, "token": token, "n": 0}
    from bench.save import worksheet

    data = worksheet(1)

    def save() -> None:
        state["n"] += 1
        data["answers"]["never-thought"] = f"draft {state['n']}"
        body = json.dumps({**data, "base_version": state["version"], "action": "save"}).encode()
        status, _, answer = client.request("POST", "/api/worksheet", body, {
            "Content-Type": "application/json", "X-Launch-Token": state["token"], "X-CSRF-Token": csrf})
        assert status == 200, answer[:300]
        result = json.loads(answer)
        state["version"], state["token"] = result["version"], result["launch_token"]

    return measure("save", args.n, save, args.profile)


if __name__ == "__main__":
    main()
