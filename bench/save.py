"""Autosave: a full 10-row worksheet saved by 1, 8 and 32 concurrent learners, saves per second and
p50/p99, against GET /livez on the same app and server (the ceiling of the stack), in the same run.

    .venv/bin/python bench/save.py [--seconds 8] [--levels 1,8,32] [--database-url postgresql://...] [--redis-url redis://...]

Each client is one launched load learner (u-load-<n>, launched through the practice LMS before
timing) with its own keep-alive connection. It posts what the page's script (static/worksheet.js)
posts: every row of the table (10, all five columns filled), the four answers, the base_version it
last got back (from the page at first), action "save", the X-Launch-Token (replaced by the one each
answer carries, as the script does) and X-CSRF-Token headers. One answer changes on every save, so
each save writes something new. Then the same clients hit /livez for as long.

Afterwards the database is read: every learner's version must have moved by exactly the number of
saves acknowledged, with the 10 rows and the last answer sent, so a fast-but-failing save cannot pass.
Prints a table and writes bench/results/save[-postgresql].json. gunicorn runs config/gunicorn.conf.py:
one worker per CPU x 8 threads by default (without Redis the workers share the disk cache).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server, add_service_args, free_port, median, percentile, prepare, table, tool_env, write_result,
)

ROWS = 10
PARTNERS = ("Boys and Girls Club", "Teen Advisory Board", "Neighborhood Association", "Elm Street Middle School PTA",
            "County Historical Society", "Riverside Makerspace", "Local artist (mural project)", "Youth soccer league",
            "Community college library", "Farmers' market association")
QUESTIONS = ("connect-colleagues", "leverage-relationships", "talk-more", "never-thought")
EDITED = "never-thought"  # the answer the learner is typing in; it changes on every save


def worksheet(n: int) -> dict:
    """Learner n's worksheet as the script collects it: 10 filled rows, four answers."""
    rows = [{"partnership": f"{name} ({n})", "type": "formal" if i % 2 else "informal",
             "strengths": f"{name} brings volunteers, a meeting space and {i + 3} years of shared programs with the library.",
             "weaknesses": "Schedules rarely line up; the contact person changes every year and emails go unanswered.",
             "improvement": f"Agree on a shared calendar, meet every {i + 2} weeks, and name a second contact on both sides."}
            for i, name in enumerate(PARTNERS[:ROWS])]
    answers = {q: f"My answer to {q}: the asset map shows colleagues who run teen programs and know the schools; "
                  "they could introduce us to the PTA and to the after-school clubs." for q in QUESTIONS}
    return {"rows": rows, "answers": answers}


class Client:
    """One learner's page: its tokens, the version it is based on, and a keep-alive connection."""

    def __init__(self, base_url: str, n: int, sub: str, launch_token: str, csrf_token: str, base_version: int | None):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.n, self.sub = n, sub
        self.launch_token, self.csrf_token, self.version = launch_token, csrf_token, base_version
        self.first_version, self.saves_ok, self.last_text = base_version, 0, None
        self.conn: http.client.HTTPConnection | None = None
        # The body, built once: only the edited answer and base_version change between saves.
        data = worksheet(n)
        self.text = data["answers"][EDITED] + " "
        data["answers"][EDITED] = "\x00TEXT\x00"
        template = json.dumps({**data, "base_version": "\x00VERSION\x00", "action": "save"})
        self.head, _, rest = template.partition('"\\u0000TEXT\\u0000"')
        self.middle, _, self.tail = rest.partition('"\\u0000VERSION\\u0000"')

    def connect(self) -> None:
        self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.conn.connect()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def save(self) -> None:
        text = f"{self.text}(draft {self.saves_ok + 1})"
        body = (self.head + json.dumps(text) + self.middle + ("null" if self.version is None else str(self.version))
                + self.tail).encode()
        self.conn.request("POST", "/api/worksheet", body, {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-Launch-Token": self.launch_token, "X-CSRF-Token": self.csrf_token})
        response = self.conn.getresponse()
        answer = response.read()
        if response.status != 200:
            if response.status == 409:  # "Use the other version": carry on from what is stored
                self.version = json.loads(answer).get("version", self.version)
            raise RuntimeError(f"save answered {response.status}: {answer[:200]!r}")
        state = json.loads(answer)
        if not state.get("ok") or state.get("version") != (1 if self.version is None else self.version + 1):
            raise RuntimeError(f"save answered 200 without the next version: {answer[:200]!r}")
        self.version, self.launch_token = state["version"], state["launch_token"]
        self.saves_ok += 1
        self.last_text = text

    def livez(self) -> None:
        self.conn.request("GET", "/livez", headers={"Accept": "application/json"})
        response = self.conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"livez answered {response.status}: {answer[:200]!r}")


def launch_clients(base_url: str, count: int) -> list[Client]:
    """Launch load learners through the practice LMS (not timed); each page gives the tokens and base version."""
    from bs4 import BeautifulSoup

    from tests.worksheet_client import Learner

    clients = []
    for n in range(1, count + 1):
        sub = f"u-load-{n}"
        learner = Learner.launch(base_url, sub)
        base = BeautifulSoup(learner.page.text, "html.parser").select_one("input[name=base_version]")["value"]
        clients.append(Client(base_url, n, sub, learner.launch_token, learner.csrf_token, int(base) if base else None))
    return clients


def worker_pids(server: Server) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def profile(pids: list[int], folder: str, name: str, seconds: float) -> list[subprocess.Popen]:
    """py-spy (from the virtualenv) sampling each worker for the level's duration; flame-graph input files."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return [subprocess.Popen([str(spy), "record", "--gil", "-p", str(pid), "-d", str(max(1, int(seconds))), "-r", "200", "-f", "raw",
                              "-o", str(Path(folder) / f"{name}-{pid}.txt"), "--nonblocking"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]


def run_level(clients: list[Client], route: str, seconds: float, pids: list[int]) -> dict:
    """Every client repeats its request for `seconds`, back to back; latencies of the successful ones."""
    per_thread: list[list[float]] = [[] for _ in clients]
    errors: list[str] = []
    clock: dict[str, float] = {}

    def start() -> None:
        clock.update(start=time.perf_counter(), server_cpu=cpu_seconds(pids), client_cpu=time.process_time())
        clock["stop"] = clock["start"] + seconds

    barrier = threading.Barrier(len(clients), action=start)

    def loop(k: int, client: Client) -> None:
        client.connect()  # before the clock starts; a fresh one per level (gunicorn drops idle ones after 5 s)
        request = client.save if route == "save" else client.livez
        latencies = per_thread[k]
        barrier.wait()
        stop = clock["stop"]
        while (begun := time.perf_counter()) < stop:
            try:
                request()
            except Exception as exc:  # counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                client.connect()
                continue
            latencies.append(time.perf_counter() - begun)
        client.close()

    threads = [threading.Thread(target=loop, args=(k, c)) for k, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - clock["start"]
    server_cpu, client_cpu = cpu_seconds(pids) - clock["server_cpu"], time.process_time() - clock["client_cpu"]
    latencies = [x for lat in per_thread for x in lat]
    done = len(latencies)
    return {"clients": len(clients), "requests": done, "errors": len(errors), "first_error": errors[0] if errors else None,
            "per_second": done / elapsed, "p50_ms": median(latencies) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
            "server_cpu_ms_per_request": server_cpu / done * 1000 if done else None,
            "server_cpu_share": server_cpu / elapsed, "client_cpu_share": client_cpu / elapsed}


def check_database(app, clients: list[Client]) -> dict:
    """What the database holds for each learner, against what the clients were told was saved."""
    from tests.worksheet_client import stored

    problems = []
    rows_total = versions_moved = conflicts = 0
    for client in clients:
        submission, rows, revisions = stored(app, client.sub)
        if not client.saves_ok:
            continue
        moved = submission.version - (client.first_version or 0) if submission else 0
        versions_moved += moved
        rows_total += len(rows)
        conflicts += sum(1 for kind, _, _ in revisions if kind == "conflict")
        expected = worksheet(client.n)["rows"]
        if moved != client.saves_ok:
            problems.append(f"{client.sub}: version moved by {moved}, {client.saves_ok} saves acknowledged")
        elif rows != expected or (submission.answers or {}).get(EDITED) != client.last_text:
            problems.append(f"{client.sub}: the stored worksheet is not the last one saved")
    return {"learners": sum(1 for c in clients if c.saves_ok), "saves_acknowledged": sum(c.saves_ok for c in clients),
            "versions_moved": versions_moved, "entry_rows": rows_total, "conflict_revisions": conflicts, "problems": problems}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--workers", default=None, help="gunicorn workers (default: one per CPU)")
    parser.add_argument("--threads", default=os.environ.get("THREADS", "8"))
    parser.add_argument("--profile", default="", help="a folder: py-spy samples every worker during each level (raw format)")
    add_service_args(parser)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    workers = args.workers or os.environ.get("WORKERS") or str(os.cpu_count() or 1)
    database = "postgresql" if args.database_url else "sqlite"
    results: dict = {"database": database, "cache": "redis" if args.redis_url else "in-process", "rows": ROWS,
                     "seconds": args.seconds, "settings": {"workers": workers, "threads": args.threads}, "levels": {}}

    with tempfile.TemporaryDirectory(prefix="bench-save-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = tool_env(tmp, port, args, GRADE_WORKER="off", WORKERS=workers, THREADS=args.threads)
        app = prepare(env)
        with Server(env, tmp / "tool.log") as server:
            clients = launch_clients(server.base_url, max(levels))
            pids = worker_pids(server)
            results["settings"]["worker_pids"] = pids
            for route in ("livez", "save"):  # warm up: imports, pages and forms cached, connections in the pools
                run_level(clients[:2], route, 1.0, pids)
            for clients_n in levels:
                for route in ("livez", "save"):
                    profiler = profile(pids, args.profile, f"{route}-{clients_n}", args.seconds) if args.profile else None
                    results["levels"].setdefault(str(clients_n), {})[route] = run_level(
                        clients[:clients_n], route, args.seconds, pids)
                    for proc in profiler or ():
                        proc.wait()
            results["database_check"] = check_database(app, clients)
    report(results)


def report(results: dict) -> None:
    rows = []
    for clients, pair in results["levels"].items():
        live, save = pair["livez"], pair["save"]
        rows.append((clients, f"{live['per_second']:.0f}", f"{live['p50_ms']:.1f}/{live['p99_ms']:.1f}",
                     f"{save['per_second']:.0f}", f"{save['p50_ms']:.1f}/{save['p99_ms']:.1f}",
                     f"{save['per_second'] / live['per_second']:.2f}", live["errors"] + save["errors"],
                     f"{live['server_cpu_ms_per_request']:.2f}/{save['server_cpu_ms_per_request']:.2f}",
                     f"{save['client_cpu_share']:.0%}"))
    settings = results["settings"]
    print(f"\nAutosave of a {results['rows']}-row worksheet vs GET /livez, database {results['database']}, "
          f"cache {results['cache']}, gunicorn {settings['workers']} worker(s) x {settings['threads']} threads, {os.cpu_count()} CPUs")
    print(table(rows, ("clients", "livez/s", "livez p50/p99 ms", "saves/s", "save p50/p99 ms", "ratio", "errors",
                       "server CPU ms/req livez/save", "client CPU (save)")))
    for clients, pair in results["levels"].items():
        for route in ("livez", "save"):
            if pair[route]["first_error"]:
                print(f"first error, {route} at {clients} clients: {pair[route]['first_error']}")
    top = results["levels"][max(results["levels"], key=int)]
    ratio = top["save"]["per_second"] / top["livez"]["per_second"]
    print(f"targets at {max(results['levels'], key=int)} clients: save p99 {top['save']['p99_ms']:.1f} ms (< 50), "
          f"ratio {ratio:.2f} (>= 0.5)")
    check = results["database_check"]
    print(f"database: {check['learners']} learners, {check['saves_acknowledged']} saves acknowledged, versions moved by "
          f"{check['versions_moved']}, {check['entry_rows']} rows stored, {check['conflict_revisions']} conflict revisions")
    path = write_result("save" + ("-postgresql" if results["database"] == "postgresql" else ""), results)
    print(f"written: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if check["problems"] or check["versions_moved"] != check["saves_acknowledged"]:
        sys.exit("the database does not hold every acknowledged save: " + "; ".join(check["problems"][:5]))


if __name__ == "__main__":
    main()
