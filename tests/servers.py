"""Real servers for tests: the tool under gunicorn on a free loopback port."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ToolServer:
    """gunicorn serving create_app() with the given environment, stopped by stop().
    tls=(certfile, keyfile) serves https; extra_args are added to gunicorn's command line."""

    def __init__(self, env: dict[str, str], port: int | None = None, workers: int = 1, log_path: Path | None = None,
                 tls: tuple[Path, Path] | None = None, extra_args: list[str] | None = None):
        self.port = port or free_port()
        self.tls = tls
        self.extra_args = list(extra_args or [])
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PORT": str(self.port), "TOOL_BASE_URL": self.base_url, "WORKERS": str(workers), **env}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "ToolServer":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py")]
        if self.tls:
            cmd += ["--certfile", str(self.tls[0]), "--keyfile", str(self.tls[1])]
        cmd += [*self.extra_args, "lti_tool:create_app()"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tool server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1, verify=str(self.tls[0]) if self.tls else True).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tool server did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
