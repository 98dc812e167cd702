"""Fixtures: the tool under gunicorn with the practice LMS, on a fresh SQLite file per session."""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from lti_tool import create_app
from tests.lms import Browser
from tests.logwatch import LogWatch
from tests.servers import ToolServer, free_port


def _app_config(tmp: Path, port: int) -> dict[str, str]:
    return {
        "INSTANCE_PATH": str(tmp / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp / 'tool.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DEV_LMS": "1",
        "PORT": str(port),
        "TOOL_BASE_URL": f"http://127.0.0.1:{port}",
        "DEVLMS_DB_PATH": str(tmp / "devlms.sqlite3"),
        "REDIS_URL": "",
        # Grade retries fast enough for tests (production backs off from 2 s up to 15 min).
        "GRADE_RETRY_BASE_SECONDS": "0.2",
        "GRADE_RETRY_MAX_SECONDS": "2",
        "GRADE_POLL_SECONDS": "0.2",
    }


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and register the practice LMS, as `make run` does."""
    from lti_tool import devlms, registrations
    from lti_tool.schema import upgrade

    app = create_app({**env, "DEV_LMS": True})
    with app.app_context():
        upgrade()
        for reg in devlms.registrations(app.config):
            registrations.add_platform(**reg)


class Tool:
    """A running tool: its URL, its environment, an in-process app on the same database, its log."""

    def __init__(self, server: ToolServer, env: dict[str, str], log_path: Path):
        self.server, self.env, self.log_path = server, env, log_path
        self.base_url = server.base_url
        self.app = create_app({**env, "DEV_LMS": True})

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def tool(tmp_path_factory) -> Tool:
    tmp = tmp_path_factory.mktemp("tool")
    port = free_port()
    env = _app_config(tmp, port)
    prepare_database(env)
    log_path = tmp / "server.log"
    server = ToolServer(env, port=port, log_path=log_path).start()
    yield Tool(server, env, log_path)
    server.stop()


@pytest.fixture()
def watch(tool) -> LogWatch:
    """The tool's log from now on (what this test made it write)."""
    return LogWatch(tool)


@pytest.fixture()
def browser(tool) -> Browser:
    return Browser(tool.base_url)


@pytest.fixture()
def app_ctx(tool):
    with tool.app.app_context():
        yield tool.app


@pytest.fixture(scope="session")
def lms_key(tool):
    """The practice LMS's private key, to sign id_tokens changed by a test."""
    from lti_tool.devlms import keys

    with tool.app.app_context():
        return keys.signing_key().private_key
