"""`lti-tool content check`, the startup report of broken pages, and what a learner sees meanwhile."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import _app_config, prepare_database
from tests.servers import ROOT, ToolServer, free_port
from tests.worksheet_client import Learner

BIN = Path(sys.executable).parent / "lti-tool"
FIXTURES = Path(__file__).parent / "fixtures" / "content"


def check(content_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONTENT_DIR": str(content_dir), "DEV_LMS": "", "REDIS_URL": ""}
    return subprocess.run([str(BIN), "content", "check"], env=env, capture_output=True, text=True, timeout=60)


def test_shipped_content_is_valid():
    result = check(ROOT / "content")
    assert result.returncode == 0, result.stderr
    assert "relationships" in result.stdout and "[worksheet]" in result.stdout
    assert "rethinking-partnerships" in result.stdout


def test_the_original_seed_files_pass_the_check():
    result = check(FIXTURES / "seeds")
    assert result.returncode == 0, result.stderr


def test_broken_content_names_file_and_line_and_exits_1():
    result = check(FIXTURES / "broken")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line and not line.startswith("Error:")]
    assert any(line.startswith("bad-yaml.md:") for line in lines), result.stderr
    assert any(line.startswith("bad-worksheet.md:") and line.split(":")[1].isdigit() for line in lines), result.stderr
    assert any("Bad_Name.md" in line for line in lines), result.stderr


@pytest.fixture()
def broken_tool(tmp_path):
    """A tool whose Relationships page has a broken worksheet declaration."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    page = content / "relationships.md"
    page.write_text(page.read_text().replace("kind: choice", "kind: dropdown", 1))
    port = free_port()
    env = {**_app_config(tmp_path, port), "CONTENT_DIR": str(content)}
    prepare_database(env)
    log_path = tmp_path / "server.log"
    server = ToolServer(env, port=port, log_path=log_path).start()
    yield server, log_path
    server.stop()


def test_broken_page_is_reported_at_startup_and_learners_get_a_clear_503(broken_tool):
    server, log_path = broken_tool
    deadline = time.monotonic() + 10
    while "content:" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = log_path.read_text()
    assert "relationships.md:" in log and "dropdown" in log, log[-2000:]

    from tests.lms import Browser

    response = Browser(server.base_url).launch("u-learner-1")
    assert response.status_code == 503
    assert "lti-tool content check" in response.text
    assert "Traceback" not in log_path.read_text()

    fine = Learner.launch(server.base_url, "u-learner-1", link="rl-rethinking")
    assert fine.page.status_code == 200
