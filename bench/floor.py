"""The floor under every figure: what gunicorn's threaded worker costs per request before the app runs.

    .venv/bin/python bench/floor.py [--seconds 4]

Serves a bare WSGI app ("ok") and the tool's GET /livez, each under gunicorn (gthread, 1 worker x 8
threads), with no access log and with the tool's access log (config/gunicorn.conf.py's format and
logger class, and gunicorn's stock logger for comparison), and loads each with 4 keep-alive clients
(separate processes). Prints requests/s and the server's CPU per request. Writes bench/results/floor.json.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, prepare, table, tool_env, write_result  # noqa: E402

BARE = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''
FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus rid=%({x-request-id}o)s'


def _client(port: int, path: str, seconds: float, out) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        done += 1
    out.put(done)


def _cpu(pid: int) -> float:
    pids = [str(pid), *subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    ticks = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(args: list[str], path: str, seconds: float, env: dict | None = None, cwd: str | None = None) -> dict:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-k", "gthread",
                               "--threads", "8", "-w", "1", *args], cwd=cwd or str(ROOT), env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.1)
        queue = multiprocessing.get_context("fork").Queue()
        before = _cpu(server.pid)
        clients = [multiprocessing.get_context("fork").Process(target=_client, args=(port, path, seconds, queue))
                   for _ in range(4)]
        started = time.monotonic()
        for c in clients:
            c.start()
        done = sum(queue.get() for _ in clients)
        for c in clients:
            c.join()
        elapsed = time.monotonic() - started
        cpu = _cpu(server.pid) - before
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {"requests_per_second": done / elapsed, "server_cpu_us_per_request": cpu / done * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "bare.py").write_text(BARE)
        log = ["--access-logfile", "/dev/null", "--access-logformat", FORMAT]
        ours = [*log, "--logger-class", "lti_tool.access_log.AccessLogger"]
        env = {"PYTHONPATH": f"{tmp}:{ROOT}"}
        results["bare WSGI app, no access log"] = measure(["bare:app"], "/", args.seconds, env, str(tmp))
        results["bare WSGI app, gunicorn's access logger"] = measure([*log, "bare:app"], "/", args.seconds, env, str(tmp))
        results["bare WSGI app, the tool's access logger"] = measure([*ours, "bare:app"], "/", args.seconds, env, str(tmp))
        tool = tool_env(tmp, free_port(), None, GRADE_WORKER="off")
        prepare(tool)
        tool.pop("PORT")
        results["the tool's GET /livez, the tool's access logger"] = measure(
            [*ours, "lti_tool:create_app()"], "/livez", args.seconds, tool)
    rows = [(name, f"{r['requests_per_second']:.0f}", f"{r['server_cpu_us_per_request']:.0f}") for name, r in results.items()]
    print("\ngunicorn gthread, 1 worker x 8 threads, 4 keep-alive clients")
    print(table(rows, ("server", "requests/s", "server CPU us/request")))
    print(f"written: {write_result('floor', {'levels': results})}")


if __name__ == "__main__":
    main()
