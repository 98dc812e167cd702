"""Launches: full OIDC login + launch pairs per second, p50/p99, at 1, 8 and 32 concurrent clients,
for the tool (gunicorn, production settings) and for a minimal pylti1p3 tool (bench/baseline_tool.py)
under the same gunicorn settings, measured in the same run. Then resident memory per worker of the
tool after 1,000 launches and its growth over 1,000 more.

    .venv/bin/python bench/launch.py [--seconds 8] [--levels 1,8,32]

The clients play the LMS: they start the login at the tool, sign the id_token with the practice
LMS's key for the nonce the tool chose, and post it to the tool's launch URL (the LMS's own pages
are not in the loop). Prints a table and writes bench/results/launch.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT, Server, add_service_args, free_port, median, percentile, prepare, table, tool_env, write_result,
)


class Platform:
    """What the client needs to act as the practice LMS (Moodle mode) for launches."""

    def __init__(self, app):
        from lti_tool.devlms import claims, keys, modes, roster, settings

        with app.app_context():
            self.settings = settings.current()
            self.mode = modes.by_name("moodle")
            self.key = keys.signing_key()
            self.jwks = keys.jwks()
        self.activity = roster.activity("rl-relationships")
        self.claims, self.roster = claims, roster

    def id_token(self, sub: str, nonce: str) -> str:
        person = self.roster.person(sub)
        body = self.claims.resource_link_claims(self.settings, self.mode, person, self.activity, nonce)
        return jwt.encode(body, self.key.private_key, algorithm="RS256", headers={"kid": self.key.kid})

    def login_params(self, sub: str, target: str) -> dict:
        return {"iss": self.mode.issuer(self.settings), "login_hint": sub, "target_link_uri": target,
                "client_id": self.mode.client_id, "lti_deployment_id": self.settings.deployment_id}


def one_pair(session: requests.Session, platform: Platform, login_url: str, launch_url: str, sub: str) -> None:
    login = session.get(login_url, params=platform.login_params(sub, launch_url), allow_redirects=False, timeout=30)
    if login.status_code not in (302, 303):
        raise RuntimeError(f"login answered {login.status_code}: {login.text[:200]}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    launch = session.post(launch_url, data={"id_token": platform.id_token(sub, query["nonce"]), "state": query["state"]},
                          allow_redirects=False, timeout=30)
    session.cookies.clear()  # a new launch in a fresh frame; pylti1p3's state cookies would otherwise pile up
    if launch.status_code not in (200, 303):
        raise RuntimeError(f"launch answered {launch.status_code}: {launch.text[:300]}")


def run_level(platform: Platform, login_url: str, launch_url: str, clients: int, seconds: float, subs: list[str]) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        session = requests.Session()
        i = n
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                one_pair(session, platform, login_url, launch_url, subs[i % len(subs)])
            except Exception as exc:  # counted, reported
                with lock:
                    errors.append(str(exc)[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
            i += clients

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"clients": clients, "pairs": len(latencies), "errors": len(errors), "first_error": errors[0] if errors else None,
            "pairs_per_second": len(latencies) / elapsed, "p50_ms": median(latencies) * 1000,
            "p99_ms": percentile(latencies, 99) * 1000}


def worker_rss_mb(server: Server) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master), in MB."""
    children = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def baseline_server(tmp: Path, platform: Platform) -> Server:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PORT": str(port), "TOOL_BASE_URL": base, "BASELINE_BASE_URL": base,
           "BASELINE_ISSUER": platform.mode.issuer(platform.settings), "BASELINE_CLIENT_ID": platform.mode.client_id,
           "BASELINE_DEPLOYMENT_ID": platform.settings.deployment_id,
           "BASELINE_AUTH_LOGIN_URL": platform.settings.auth_url, "BASELINE_AUTH_TOKEN_URL": platform.settings.token_url,
           "BASELINE_JWKS": json.dumps(platform.jwks), "PYTHONPATH": str(ROOT)}
    return Server(env, tmp / "baseline.log", app="bench.baseline_tool:create_app()",
                  config=str(ROOT / "bench" / "baseline_gunicorn.conf.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--levels", default="1,8,32")
    add_service_args(parser)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    subs = [f"u-load-{n}" for n in range(1, 201)]
    results: dict = {"levels": {}, "settings": {"workers": os.environ.get("WORKERS", "1"), "threads": os.environ.get("THREADS", "8")}}

    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = tool_env(tmp, port, args, GRADE_WORKER="off")
        app = prepare(env)
        platform = Platform(app)
        with Server(env, tmp / "tool.log") as tool, baseline_server(tmp, platform) as base:
            urls = {"tool": (f"{tool.base_url}/lti/login", f"{tool.base_url}/lti/launch"),
                    "baseline": (f"{base.base_url}/login", f"{base.base_url}/launch")}
            for name, (login, launch) in urls.items():  # warm up: keys loaded, JWKS cached, connections open
                run_level(platform, login, launch, 2, 1.0, subs)
            for clients in levels:
                for name in ("baseline", "tool"):
                    results["levels"].setdefault(str(clients), {})[name] = run_level(
                        platform, *urls[name], clients, args.seconds, subs)
            run_until(platform, *urls["tool"], 1000, subs)
            after_1000 = worker_rss_mb(tool)
            run_until(platform, *urls["tool"], 1000, subs)
            after_2000 = worker_rss_mb(tool)
    results["memory_mb"] = {"after_1000": after_1000, "after_2000": after_2000,
                            "growth": [b - a for a, b in zip(after_1000, after_2000)]}
    report(results, "postgresql" if args.database_url else "sqlite")


def run_until(platform: Platform, login: str, launch: str, count: int, subs: list[str]) -> None:
    session = requests.Session()
    for i in range(count):
        one_pair(session, platform, login, launch, subs[i % len(subs)])


def report(results: dict, database: str) -> None:
    rows = []
    for clients, pair in results["levels"].items():
        b, t = pair["baseline"], pair["tool"]
        rows.append((clients, f"{b['pairs_per_second']:.0f}", f"{t['pairs_per_second']:.0f}",
                     f"{t['pairs_per_second'] / b['pairs_per_second']:.2f}", f"{b['p50_ms']:.1f}/{b['p99_ms']:.1f}",
                     f"{t['p50_ms']:.1f}/{t['p99_ms']:.1f}", b["errors"] + t["errors"]))
    print(f"\nLaunch pairs (login + launch), database {database}")
    print(table(rows, ("clients", "baseline pairs/s", "tool pairs/s", "ratio", "baseline p50/p99 ms",
                       "tool p50/p99 ms", "errors")))
    memory = results["memory_mb"]
    print(f"tool worker RSS after 1,000 launches: {', '.join(f'{m:.1f}' for m in memory['after_1000'])} MB; "
          f"growth over 1,000 more: {', '.join(f'{g:+.1f}' for g in memory['growth'])} MB (targets < 100 MB, < 5 MB)")
    path = write_result("launch" + ("-postgresql" if database == "postgresql" else ""), {"database": database, **results})
    print(f"written: {path}")


if __name__ == "__main__":
    main()
