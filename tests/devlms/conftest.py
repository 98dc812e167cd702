"""Fixtures for the practice LMS: a Flask app with ONLY the devlms blueprint and a tiny fake tool,
served by a real WSGI server on a free loopback port, driven over HTTP like a browser and a tool."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from devlms_helpers import FakeTool, Lms, ToolKey
from flask import Flask
from werkzeug.serving import make_server

from lti_tool import devlms


@dataclass
class Server:
    base: str
    app: Flask
    tool: FakeTool


@pytest.fixture(scope="session")
def devlms_server(tmp_path_factory):
    """The devlms blueprint and the fake tool in one app, served on 127.0.0.1:<free port>."""
    tmp = tmp_path_factory.mktemp("devlms")
    app = Flask("devlms_test_app", instance_path=str(tmp / "instance"))
    tool = FakeTool(keys=[ToolKey()])
    app.register_blueprint(tool.blueprint())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(TOOL_BASE_URL=base, DEVLMS_DB_PATH=str(tmp / "devlms.sqlite3"), TESTING=True)
    devlms.init_app(app)
    tool.registrations = devlms.registrations(app.config)
    thread = threading.Thread(target=server.serve_forever, name="devlms-test-server", daemon=True)
    thread.start()
    yield Server(base=base, app=app, tool=tool)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def lms(devlms_server) -> Lms:
    """A fresh client; the course, gradebook, faults and counters are reset before each test."""
    client = Lms(devlms_server.base, devlms_server.tool)
    for path in ("/api/course", "/api/faults", "/api/stats"):
        assert client.http.delete(client.url + path, timeout=10).status_code in (200, 204)
    yield client
    client.http.close()


@pytest.fixture()
def line_item_url(lms) -> str:
    """The Relationships line item URL, read from a Moodle-mode launch."""
    claims = lms.verify(lms.launch("u-learner-1").id_token, "moodle")
    return claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"]
