"""Log lines carry the request id; tokens never reach the log."""
from __future__ import annotations

import time

from tests.lms import Browser, resign
from tests.servers import ROOT


def test_a_refused_launch_is_logged_with_its_request_id_and_without_the_token(tool, lms_key):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-learner-1"))
    bad = resign(form.fields["id_token"], lms_key, claims={"aud": "someone-else"})
    response = browser.http.post(f"{tool.base_url}/lti/launch", data={**form.fields, "id_token": bad},
                                 headers={"X-Request-Id": "rid4logtest01"})
    assert response.status_code == 400 and response.headers["X-Request-Id"] == "rid4logtest01"
    time.sleep(0.2)
    lines = [line for line in tool.log().splitlines() if "rid=rid4logtest01" in line]
    assert any("launch refused" in line for line in lines), lines
    assert bad not in tool.log() and bad.split(".")[1] not in tool.log()


def test_tokens_of_a_good_launch_never_reach_the_log(tool):
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start("u-learner-2"))
    id_token = form.fields["id_token"]
    page = browser.http.post(f"{tool.base_url}/lti/launch", data=form.fields)
    assert page.status_code == 200
    launch_token = page.url.split("lt=")[1].split("&")[0]
    time.sleep(0.2)
    log = tool.log()
    assert id_token.split(".")[1] not in log and launch_token not in log and form.fields["state"] not in log


def _access_lines(logger_class, environ, status="200 OK", headers=(("X-Request-Id", "abc123"),), sent=512):
    """What a gunicorn logger writes for one request, with the tool's access_log_format."""
    import datetime
    import logging

    from gunicorn.config import Config

    config = Config()
    settings: dict = {}
    exec((ROOT / "config" / "gunicorn.conf.py").read_text(), settings)  # noqa: S102
    config.set("access_log_format", settings["access_log_format"])
    config.set("accesslog", "-")
    logger = logger_class(config)
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger.access_log.handlers = [Keep()]
    response = type("Response", (), {"status": status, "headers": list(headers), "sent": sent})()
    request = type("Request", (), {"headers": [("HOST", "tool"), ("X-REQUEST-ID", "in-1")]})()
    logger.access(response, request, environ, datetime.timedelta(seconds=1, microseconds=2345))
    return records


def test_the_cheap_access_logger_writes_what_gunicorn_writes():
    from gunicorn.glogging import Logger

    from lti_tool.access_log import AccessLogger

    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "PATH_INFO": "/api/worksheet",
               "QUERY_STRING": "lt=secret", "RAW_URI": "/api/worksheet?lt=secret", "SERVER_PROTOCOL": "HTTP/1.1"}
    ours, theirs = _access_lines(AccessLogger, environ), _access_lines(Logger, environ)
    assert ours == theirs == ['10.0.0.7 "POST /api/worksheet" 200 512 1002345us rid=abc123']
    no_id = _access_lines(AccessLogger, environ, status="413 Request Entity Too Large", headers=(), sent=None)
    assert no_id == _access_lines(Logger, environ, status="413 Request Entity Too Large", headers=(), sent=None)
    assert no_id == ['10.0.0.7 "POST /api/worksheet" 413 - 1002345us rid=-']


def test_access_lines_over_http_carry_the_request_id_and_no_query(tool):
    import requests

    requests.get(tool.base_url + "/livez?lt=not-to-be-logged", headers={"X-Request-Id": "rid4access01"}, timeout=5)
    time.sleep(0.2)
    lines = [line for line in tool.log().splitlines() if "rid=rid4access01" in line]
    assert any('"GET /livez" 200' in line for line in lines), lines
    assert "not-to-be-logged" not in tool.log()
