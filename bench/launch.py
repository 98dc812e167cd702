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
import http.client
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT, Server, add_service_args, free_port, median, percentile, prepare, table, tool_env, write_result,
)


# Client processes: one Python process's interpreter lock would otherwise cap the load it can make.
CLIENT_PROCESSES = 2


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


class Connection:
    """A keep-alive HTTP/1.1 connection for one client thread. Plain http.client costs the client a
    fraction of what requests does, so the servers, not the client, are what the figures measure."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method: str, url: str, body: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.conn.request(method, url, body=body, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.headers, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # the server closed a kept-alive connection: open a new one, once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def one_pair(conn: Connection, platform: Platform, login_path: str, launch_path: str, launch_url: str, sub: str) -> None:
    """The LMS's part of one launch: start the login, sign the id_token for the nonce the tool chose,
    post it back with the state cookie the login set (a fresh frame: no other cookies)."""
    status, headers, body = conn.request("GET", login_path + "?" + urlencode(platform.login_params(sub, launch_url)))
    if status not in (302, 303):
        raise RuntimeError(f"login answered {status}: {body[:200]!r}")
    query = {k: v[0] for k, v in parse_qs(urlsplit(headers["Location"]).query).items()}
    cookies = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
    form = urlencode({"id_token": platform.id_token(sub, query["nonce"]), "state": query["state"]})
    status, _, body = conn.request("POST", launch_path, body=form, headers={"Cookie": cookies} if cookies else None)
    if status not in (200, 303):
        raise RuntimeError(f"launch answered {status}: {body[:300]!r}")


def _client_process(platform, base_url, login_path, launch_path, threads, first, step, seconds, subs, out) -> None:
    """`threads` clients in one process; sends back (latencies, errors, cpu seconds) through `out`."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    launch_url = base_url + launch_path

    def client(n: int) -> None:
        conn = Connection(base_url)
        i = n
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                one_pair(conn, platform, login_path, launch_path, launch_url, subs[i % len(subs)])
            except Exception as exc:  # counted, reported
                with lock:
                    errors.append(str(exc)[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
            i += step

    cpu = _cpu_seconds()
    pool = [threading.Thread(target=client, args=(first + n * (step // threads),)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.send((latencies, errors, _cpu_seconds() - cpu))
    out.close()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_level(platform: Platform, server: Server, paths: tuple[str, str], clients: int, seconds: float,
              subs: list[str]) -> dict:
    """`clients` concurrent LMS clients for `seconds`, spread over client processes (so that the
    client's own interpreter lock is not what limits the figure); with the server's CPU per pair."""
    processes = min(clients, CLIENT_PROCESSES)
    per_process = [clients // processes + (1 if p < clients % processes else 0) for p in range(processes)]
    ctx = multiprocessing.get_context("fork")
    server_cpu = process_tree_cpu(server)
    started = time.perf_counter()
    pipes, procs, first = [], [], 0
    for threads in per_process:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_client_process, args=(platform, server.base_url, *paths, threads, first,
                                                             clients, seconds, subs, send))
        proc.start()
        pipes.append(receive)
        procs.append(proc)
        first += threads
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    server_cpu = process_tree_cpu(server) - server_cpu
    latencies = [x for r in results for x in r[0]]
    errors = [x for r in results for x in r[1]]
    pairs = max(len(latencies), 1)
    return {"clients": clients, "client_processes": processes, "pairs": len(latencies), "errors": len(errors),
            "first_error": errors[0] if errors else None, "pairs_per_second": len(latencies) / elapsed,
            "p50_ms": median(latencies) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "server_cpu_ms_per_pair": server_cpu * 1000 / pairs,
            "client_cpu_ms_per_pair": sum(r[2] for r in results) * 1000 / pairs}


def process_tree_cpu(server: Server) -> float:
    """CPU seconds used so far by the gunicorn master and its workers."""
    pids = [str(server.proc.pid), *worker_pids(server)]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def worker_pids(server: Server) -> list[str]:
    return subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()


def worker_rss_mb(server: Server) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master), in MB."""
    sizes = []
    for pid in worker_pids(server):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def baseline_server(tmp: Path, platform: Platform) -> Server:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PORT": str(port), "TOOL_BASE_URL": base, "BASELINE_BASE_URL": base, "WORKERS": "1",
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
    parser.add_argument("--workers", type=int, default=0,
                        help="tool workers (default: one per CPU; without Redis they share the disk cache)")
    add_service_args(parser)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    subs = [f"u-load-{n}" for n in range(1, 201)]
    workers = args.workers or os.cpu_count() or 1
    threads = os.environ.get("THREADS", "8")
    results: dict = {"levels": {}, "settings": {
        "tool": {"workers": workers, "threads": threads}, "baseline": {"workers": 1, "threads": threads},
        "client_processes": CLIENT_PROCESSES}}

    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = tool_env(tmp, port, args, GRADE_WORKER="off", WORKERS=str(workers))
        app = prepare(env)
        platform = Platform(app)
        with Server(env, tmp / "tool.log") as tool, baseline_server(tmp, platform) as base:
            servers = {"tool": (tool, ("/lti/login", "/lti/launch")), "baseline": (base, ("/login", "/launch"))}
            run_until(platform, tool, len(subs), subs)  # every learner's rows made: the levels measure relaunches
            for name, (server, paths) in servers.items():  # warm up: code loaded, JWKS cached, connections open
                run_level(platform, server, paths, 4, 1.0, subs)
            for clients in levels:
                for name in ("baseline", "tool"):
                    results["levels"].setdefault(str(clients), {})[name] = run_level(
                        platform, *servers[name], clients, args.seconds, subs)
            run_until(platform, tool, 1000, subs)
            after_1000 = worker_rss_mb(tool)
            run_until(platform, tool, 1000, subs)
            after_2000 = worker_rss_mb(tool)
    results["memory_mb"] = {"after_1000": after_1000, "after_2000": after_2000,
                            "growth": [b - a for a, b in zip(after_1000, after_2000)]}
    report(results, "postgresql" if args.database_url else "sqlite")


def run_until(platform: Platform, server: Server, count: int, subs: list[str]) -> None:
    conn = Connection(server.base_url)
    for i in range(count):
        one_pair(conn, platform, "/lti/login", "/lti/launch", server.base_url + "/lti/launch", subs[i % len(subs)])


def report(results: dict, database: str) -> None:
    rows = []
    for clients, pair in results["levels"].items():
        b, t = pair["baseline"], pair["tool"]
        rows.append((clients, f"{b['pairs_per_second']:.0f}", f"{t['pairs_per_second']:.0f}",
                     f"{t['pairs_per_second'] / b['pairs_per_second']:.2f}", f"{b['p50_ms']:.1f}/{b['p99_ms']:.1f}",
                     f"{t['p50_ms']:.1f}/{t['p99_ms']:.1f}",
                     f"{b['server_cpu_ms_per_pair']:.2f}/{t['server_cpu_ms_per_pair']:.2f}",
                     f"{t['client_cpu_ms_per_pair']:.2f}", b["errors"] + t["errors"]))
    settings = results["settings"]
    print(f"\nLaunch pairs (login + launch), database {database}; tool {settings['tool']['workers']} worker(s), "
          f"baseline 1 worker (its in-process cache allows no more), {settings['tool']['threads']} threads each")
    print(table(rows, ("clients", "baseline pairs/s", "tool pairs/s", "ratio", "baseline p50/p99 ms",
                       "tool p50/p99 ms", "server CPU ms/pair base/tool", "client CPU ms/pair", "errors")))
    memory = results["memory_mb"]
    print(f"tool worker RSS after 1,000 launches: {', '.join(f'{m:.1f}' for m in memory['after_1000'])} MB; "
          f"growth over 1,000 more: {', '.join(f'{g:+.1f}' for g in memory['growth'])} MB (targets < 100 MB, < 5 MB)")
    path = write_result("launch" + ("-postgresql" if database == "postgresql" else ""), {"database": database, **results})
    print(f"written: {path}")


if __name__ == "__main__":
    main()
