"""LTI Dynamic Registration over real HTTP: the practice LMS registers the tool by URL (Moodle and Canvas
modes), then launches with the new client; failures at the LMS give 4xx/502 pages and store nothing.
A stub platform in this process (another origin) covers what the practice LMS would not do wrong."""
from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from lti_tool import registrations, tool_config
from tests.browser import assert_accessible, chromium
from tests.lms import Browser, parse_form, submit, unverified
from tests.servers import ToolServer, free_port
from tests.worksheet_client import forget

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CANVAS = "https://canvas.instructure.com/lti/"


# --- helpers ------------------------------------------------------------------------------------------

def start_registration(tool, mode: str = "moodle") -> str:
    """What an admin does in the practice LMS: register by URL. The URL its frame opens (the tool's
    /lti/register with openid_configuration and registration_token)."""
    page = requests.get(f"{tool.base_url}/dev/lms/register", params={"tool": f"{tool.base_url}/lti/register",
                                                                       "mode": mode}, timeout=10)
    assert page.status_code == 200, page.text[:1000]
    frame = BeautifulSoup(page.text, "html.parser").select_one("iframe#registration")
    assert frame is not None and frame["src"].startswith(f"{tool.base_url}/lti/register?")
    return frame["src"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def lms_registrations(tool) -> dict[str, dict]:
    found = requests.get(f"{tool.base_url}/dev/lms/api/registrations", timeout=10).json()["registrations"]
    return {r["client_id"]: r for r in found}


def platform_rows(tool) -> list[tuple[str, str, list[tuple[str, str]]]]:
    with tool.app.app_context():
        return [(p.issuer, p.client_id, [(d.deployment_id, d.status) for d in p.deployments])
                for p in registrations.list_platforms()]


def text_of(response) -> str:
    return " ".join(BeautifulSoup(response.text, "html.parser").get_text(" ").split())


def frame_ancestors(response) -> list[str]:
    directive = next(d for d in response.headers["Content-Security-Policy"].split("; ") if d.startswith("frame-ancestors"))
    return directive.split()[1:]


def register(tool, mode: str = "moodle") -> tuple[requests.Response, dict]:
    """A whole registration through the practice LMS: the tool's answer and what the LMS recorded."""
    before = set(lms_registrations(tool))
    answer = requests.get(start_registration(tool, mode), timeout=30)
    assert answer.status_code == 200, text_of(answer)[:2000]
    (new,) = set(lms_registrations(tool)) - before
    return answer, lms_registrations(tool)[new]


def launch_with_client(tool, client_id: str, person: str = "u-learner-1", message: str | None = None,
                       browser: Browser | None = None):
    """Launch from the practice course with a dynamically registered client: (tool's answer, id_token claims)."""
    browser = browser or Browser(tool.base_url)
    params = {"person": person, "client": client_id, "method": "get"}
    params.update({"message": message} if message else {"link": "rl-relationships"})
    start = browser.http.get(f"{tool.base_url}/dev/lms/launch", params=params, timeout=10)
    assert start.status_code == 200, start.text[:1000]
    login = submit(browser.http, parse_form(start.text), allow_redirects=False)
    assert login.status_code in (302, 303), login.text[:1000]
    auth = browser.http.get(login.headers["Location"], timeout=10)
    form = parse_form(auth.text)
    claims = unverified(form.fields["id_token"])[1]
    return submit(browser.http, form), claims


class StubPlatform:
    """An LMS at another origin (a different port) whose answers a test chooses."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = self.origin + "/lms"
        self.config_overrides: dict = {}
        self.config_status = 200
        self.config_body: bytes | None = None
        self.config_delay = 0.0
        self.registration_status = 200
        self.registration_body: bytes | None = None
        self.requests: list[dict] = []
        self.page_html = ""
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def config_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def configuration(self) -> dict:
        config = {
            "issuer": self.issuer, "authorization_endpoint": self.issuer + "/auth", "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks", "registration_endpoint": self.issuer + "/registration",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle", "version": "4.5"},
        }
        config.update(self.config_overrides)
        return {k: v for k, v in config.items() if v is not None}

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                stub.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                if self.path.startswith("/lms/.well-known/openid-configuration"):
                    time.sleep(stub.config_delay)
                    body = stub.config_body if stub.config_body is not None else json.dumps(stub.configuration()).encode()
                    self._send(stub.config_status, body)
                elif self.path == "/lms/page":
                    self._send(200, stub.page_html.encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"{}")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                stub.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                      "json": json.loads(body or b"null")})
                if stub.registration_body is not None:
                    self._send(stub.registration_status, stub.registration_body)
                    return
                answer = {**json.loads(body), "client_id": "stub-" + secrets.token_hex(4)}
                answer[TOOL_CONFIGURATION] = {**answer[TOOL_CONFIGURATION], "deployment_id": "42"}
                self._send(stub.registration_status, json.dumps(answer).encode())

        return Handler

    def register_url(self, tool, token: str = "stub-registration-token") -> str:
        query = urlencode({"openid_configuration": self.config_url, "registration_token": token})
        return f"{tool.base_url}/lti/register?{query}"

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def __enter__(self) -> StubPlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def stub(tool):
    with StubPlatform() as platform:
        yield platform
    with tool.app.app_context():  # the registrations it made are not for the other tests
        for p in registrations.list_platforms():
            if p.issuer.startswith(platform.origin):
                registrations.remove_platform(p.issuer, p.client_id)


# --- through the practice LMS ----------------------------------------------------------------------------

def test_moodle_registration_by_url_stores_the_platform_and_launches_work(tool):
    answer, received = register(tool, "moodle")
    client_id, deployment_id = received["client_id"], received["deployment_id"]
    assert client_id.startswith("dyn-") and deployment_id

    # What the practice LMS received: the exact redirect URI, the login and JWKS URLs, the claims, the scopes, the messages.
    sent = received["received"]
    base = tool.base_url
    assert sent["redirect_uris"] == [f"{base}/lti/launch"]
    assert sent["initiate_login_uri"] == f"{base}/lti/login" and sent["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert sent["application_type"] == "web" and sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["grant_types"]) == {"implicit", "client_credentials"} and sent["response_types"] == ["id_token"]
    assert sent["scope"].split() == tool_config.SCOPES
    config = sent[TOOL_CONFIGURATION]
    assert config["claims"] == ["iss", "sub", "name", "given_name", "family_name", "email"]
    assert config["target_link_uri"] == f"{base}/lti/launch" and config["domain"] == urlsplit(base).netloc
    messages = {m["type"]: m for m in config["messages"]}
    assert messages["LtiResourceLinkRequest"]["label"] == tool_config.TITLE
    assert messages["LtiDeepLinkingRequest"]["placements"] == ["ContentArea"]
    assert messages["LtiDeepLinkingRequest"]["target_link_uri"] == f"{base}/lti/launch"
    assert not [k for k in config if k.startswith(CANVAS)], "no Canvas extensions for Moodle"
    assert set(received["scopes"]) == set(tool_config.SCOPES)

    # The tool stored the platform and its (active) deployment, as `lti-tool platforms list` shows.
    issuer = f"{base}/dev/lms"
    assert (issuer, client_id, [(deployment_id, "active")]) in platform_rows(tool)
    listing = tool.app.test_cli_runner().invoke(args=["platforms", "list"]).output
    assert f"client_id:  {client_id}" in listing and f"deployment: {deployment_id} (active)" in listing
    assert f"login:      {issuer}/auth" in listing and f"key set:    {issuer}/jwks.json" in listing

    # The answer says what the admin does next, and loads the script that closes the LMS's dialog.
    text = text_of(answer)
    assert "Site administration > Plugins > Activity modules > External tool > Manage tools" in text
    assert "Activate" in text and client_id in text and deployment_id in text
    scripts = [s.get("src", "") for s in BeautifulSoup(answer.text, "html.parser").find_all("script")]
    assert "/static/registration_close.js" in scripts and all(s for s in scripts), "no inline script"
    assert "'unsafe-inline'" not in answer.headers["Content-Security-Policy"]

    # A launch with the new client id works, and the instructor's roster comes over NRPS with its token.
    page, claims = launch_with_client(tool, client_id, "u-learner-2")
    assert page.status_code == 200, text_of(page)[:1500]
    assert claims["aud"] == client_id and claims[LTI + "deployment_id"] == deployment_id and claims["iss"] == issuer
    assert claims["email"] and claims["name"], "the name and email claims were asked for"
    forget(tool.app, "u-instructor-1")
    page, _ = launch_with_client(tool, client_id, "u-instructor-1")
    assert page.status_code == 200, text_of(page)[:1500]
    stats = requests.get(f"{base}/dev/lms/api/stats", timeout=10).json()
    assert stats.get(f"tokens_issued:{client_id}", 0) >= 1, stats


def test_canvas_registration_sends_canvas_extensions_and_waits_for_the_deployment(tool):
    answer, received = register(tool, "canvas")
    client_id, deployment_id = received["client_id"], received["deployment_id"]
    config = received["received"][TOOL_CONFIGURATION]
    assert config[CANVAS + "privacy_level"] == "public" and config[CANVAS + "tool_id"] == tool_config.TOOL_ID
    placements = {p: m for m in config["messages"] for p in m.get("placements", [])}
    assert placements["link_selection"]["type"] == "LtiDeepLinkingRequest"
    assert placements["assignment_selection"]["type"] == "LtiDeepLinkingRequest"
    assert placements["course_navigation"]["type"] == "LtiResourceLinkRequest"
    assert placements["course_navigation"][CANVAS + "course_navigation/default_enabled"] is False
    assert received["received"]["redirect_uris"] == [f"{tool.base_url}/lti/launch"]

    text = text_of(answer)
    assert "Developer Keys" in text and "By Client ID" in text and client_id in text
    assert "lti-tool platforms activate" in text, "Canvas sends no deployment id: the page says what follows"
    issuer = f"{tool.base_url}/dev/lms"
    assert (issuer, client_id, []) in platform_rows(tool)

    # Canvas made the deployment when the app was installed: the first launch records it as pending.
    page, _ = launch_with_client(tool, client_id)
    assert page.status_code == 403 and "lti-tool platforms activate" in page.text
    assert (issuer, client_id, [(deployment_id, "pending")]) in platform_rows(tool)
    with tool.app.app_context():
        registrations.activate_deployment(issuer, client_id, deployment_id)
    page, claims = launch_with_client(tool, client_id)
    assert page.status_code == 200 and claims["azp"] == client_id


def test_deep_linking_with_a_registered_client_adds_an_activity(tool):
    from lti_tool.devlms import activities
    from tests.test_deep_linking import Picker, pick, send_to_lms

    _, received = register(tool, "moodle")
    browser = Browser(tool.base_url)
    page, claims = launch_with_client(tool, received["client_id"], "u-instructor-1", message="deeplink", browser=browser)
    assert page.status_code == 200, text_of(page)[:1500]
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    try:
        answer = pick(browser, Picker(page, claims), "relationships")
        assert answer.status_code == 200, text_of(answer)[:1500]
        (link_id,) = send_to_lms(browser, answer)
        with tool.app.app_context():
            assert activities.find(link_id) is not None
    finally:
        with tool.app.app_context():
            activities.remove_added()


def test_a_registration_token_is_used_once(tool):
    url = start_registration(tool)
    token = query_of(url)["registration_token"]
    assert requests.get(url, timeout=30).status_code == 200
    before = platform_rows(tool)
    again = requests.get(url, timeout=30)
    assert again.status_code == 400
    text = text_of(again)
    assert "The LMS refused the registration token" in text and "token_already_used" in text
    assert "Start the registration again from your LMS" in text
    assert token not in again.text
    assert platform_rows(tool) == before
    time.sleep(0.2)
    assert token not in tool.log(), "the registration token never reaches the log"


@pytest.mark.parametrize("params", [{}, {"registration_token": "abc"}])
def test_missing_parameters_get_a_page_saying_what_this_address_is_for(tool, params):
    response = requests.get(f"{tool.base_url}/lti/register", params=params, timeout=10)
    assert response.status_code == 400
    text = text_of(response)
    assert "This address is for registering the tool from an LMS" in text and f"{tool.base_url}/lti/register" in text
    assert frame_ancestors(response)[:1] == ["'self'"]


@pytest.mark.parametrize("value", ["ftp://lms.example.edu/.well-known/openid-configuration", "not a url",
                                   "javascript:alert(1)", "http:///no-host", "http://[::1/x",
                                   "https://user:secret@lms.example.edu/.well-known/openid-configuration"])
def test_a_configuration_url_that_is_not_http_is_refused(tool, value):
    response = requests.get(f"{tool.base_url}/lti/register", params={"openid_configuration": value,
                                                                     "registration_token": "t"}, timeout=10)
    assert response.status_code == 400
    assert "The LMS sent a configuration address the tool cannot use" in text_of(response)


def test_the_practice_lms_registration_endpoint_failing_gives_502_and_stores_nothing(tool):
    before_platforms, before_clients = platform_rows(tool), set(lms_registrations(tool))
    url = start_registration(tool)
    faults = requests.post(f"{tool.base_url}/dev/lms/api/faults", json={"fail_next": 1, "status": 500,
                                                                         "target": "registration"}, timeout=10)
    assert faults.status_code == 200
    try:
        response = requests.get(url, timeout=30)
    finally:
        requests.delete(f"{tool.base_url}/dev/lms/api/faults", timeout=10)
    assert response.status_code == 502
    text = text_of(response)
    assert "The LMS did not complete the registration" in text and "answered 500" in text
    assert "Nothing was saved in the tool" in text
    assert platform_rows(tool) == before_platforms and set(lms_registrations(tool)) == before_clients
    assert requests.get(url, timeout=30).status_code == 200, "the token was not spent: the admin can try again"


def test_the_practice_lms_canvas_configuration_needs_the_token(tool):
    url = start_registration(tool, "canvas")
    config_url = query_of(url)["openid_configuration"]
    assert requests.get(config_url, timeout=10).status_code == 401
    token = query_of(url)["registration_token"]
    config = requests.get(config_url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert config["https://purl.imsglobal.org/spec/lti-platform-configuration"]["product_family_code"] == "canvas"
    assert config_url.startswith(config["issuer"])
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        assert config[name].startswith(config["issuer"])


def test_the_practice_lms_refuses_a_registration_it_cannot_use(tool):
    url = start_registration(tool)
    token = query_of(url)["registration_token"]
    endpoint = f"{tool.base_url}/dev/lms/registration"
    bad = requests.post(endpoint, json={"application_type": "web"}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client_metadata"
    assert requests.post(endpoint, json={}, timeout=10).status_code == 401
    assert requests.get(url, timeout=30).status_code == 200, "a refused body does not spend the token"


# --- against a stub platform at another origin -----------------------------------------------------------

def test_the_stub_registration_is_framable_by_its_lms_only(tool, stub):
    assert stub.origin not in frame_ancestors(requests.get(f"{tool.base_url}/lti/register", timeout=10))
    response = requests.get(stub.register_url(tool), timeout=30)
    assert response.status_code == 200, text_of(response)[:1500]
    assert stub.origin in frame_ancestors(response), "the LMS being registered frames the answer"
    (row,) = [r for r in platform_rows(tool) if r[0] == stub.issuer]
    assert row[1].startswith("stub-") and row[2] == [("42", "active")]
    # The requests the tool made: the token as a bearer token, a User-Agent, JSON.
    get, post = stub.requests[0], stub.posts()[0]
    assert get["path"] == "/lms/.well-known/openid-configuration"
    assert get["headers"]["Authorization"] == "Bearer stub-registration-token"
    assert post["headers"]["Authorization"] == "Bearer stub-registration-token"
    assert get["headers"]["User-Agent"].startswith("lti-tool/") and post["headers"]["User-Agent"].startswith("lti-tool/")
    assert post["json"]["redirect_uris"] == [f"{tool.base_url}/lti/launch"]
    text = text_of(response)
    assert "Manage tools" in text and "Activate" in text and "42" in text


@pytest.mark.parametrize("issuer", ["https://lms.example.edu", "{origin}/lm", "{origin}/lms/other", "{origin}.evil.example"])
def test_a_configuration_url_not_starting_with_its_issuer_is_refused(tool, stub, issuer):
    stub.config_overrides["issuer"] = issuer.format(origin=stub.origin)
    before = platform_rows(tool)
    response = requests.get(stub.register_url(tool), timeout=30)
    assert response.status_code == 400
    text = text_of(response)
    assert "The LMS's configuration does not belong to the address it came from" in text
    assert issuer.format(origin=stub.origin) in text
    assert not stub.posts(), "the token is not spent on an LMS that fails the check"
    assert platform_rows(tool) == before


@pytest.mark.parametrize("missing", ["issuer", "registration_endpoint", "token_endpoint", "authorization_endpoint", "jwks_uri"])
def test_an_incomplete_configuration_is_refused(tool, stub, missing):
    stub.config_overrides[missing] = None
    response = requests.get(stub.register_url(tool), timeout=30)
    assert response.status_code == 400
    assert "The LMS's configuration is incomplete" in text_of(response)
    assert not stub.posts()


@pytest.mark.parametrize("case, status, title", [
    ("config 404", 502, "The LMS's configuration could not be read"),
    ("config not json", 502, "The LMS's configuration could not be read"),
    ("config 401", 400, "The LMS refused the registration token"),
    ("registration 503", 502, "The LMS did not complete the registration"),
    ("registration not json", 502, "The LMS's answer to the registration could not be read"),
    ("registration without client_id", 502, "The LMS's answer to the registration could not be read"),
    ("registration 400", 400, "The LMS refused the tool's registration"),
])
def test_failures_at_the_lms_say_what_happened_and_store_nothing(tool, stub, case, status, title):
    if case == "config 404":
        stub.config_status, stub.config_body = 404, b"not here"
    elif case == "config not json":
        stub.config_body = b"<html>hello</html>"
    elif case == "config 401":
        stub.config_status, stub.config_body = 401, b'{"error": "invalid_token"}'
    elif case == "registration 503":
        stub.registration_status, stub.registration_body = 503, b"busy"
    elif case == "registration not json":
        stub.registration_body = b"<html>ok</html>"
    elif case == "registration without client_id":
        stub.registration_body = b'{"client_name": "x"}'
    elif case == "registration 400":
        stub.registration_status = 400
        stub.registration_body = b'{"error": "invalid_redirect_uri", "error_description": "not on our allow list"}'
    before = platform_rows(tool)
    response = requests.get(stub.register_url(tool), timeout=30)
    assert response.status_code == status, text_of(response)[:1000]
    assert title in text_of(response)
    if case == "registration 400":
        assert "not on our allow list" in text_of(response)
    assert platform_rows(tool) == before
    assert "stub-registration-token" not in response.text


def test_an_unreachable_lms_gives_502(tool):
    port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    response = requests.get(f"{tool.base_url}/lti/register", params={"openid_configuration": url,
                                                                     "registration_token": "t"}, timeout=30)
    assert response.status_code == 502
    assert "The LMS's configuration could not be fetched" in text_of(response)
    assert f"http://127.0.0.1:{port}" in frame_ancestors(response), "the admin sees the page in the LMS's frame"


def test_calls_to_the_lms_time_out(tool, stub, tmp_path):
    port = free_port()
    env = {**tool.env, "PORT": str(port), "TOOL_BASE_URL": f"http://127.0.0.1:{port}", "HTTP_TIMEOUT_SECONDS": "1",
           "GRADE_WORKER": "off"}
    server = ToolServer(env, port=port, log_path=tmp_path / "timeout.log").start()
    try:
        stub.config_delay = 3
        started = time.monotonic()
        response = requests.get(stub.register_url(server), timeout=30)
        assert response.status_code == 502 and time.monotonic() - started < 2.8
        assert "no answer within 1 s" in text_of(response)
    finally:
        server.stop()


# --- in a browser: the close message reaches the LMS --------------------------------------------------------

COLLECT = """
window.__messages = [];
window.addEventListener('message', e => window.__messages.push({data: e.data, origin: e.origin}));
"""


@pytest.mark.browser
def test_the_answer_posts_the_close_message_to_the_practice_lms(tool):
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(COLLECT)
        page = context.new_page()
        page.goto(f"{tool.base_url}/dev/lms/register?" + urlencode({"tool": f"{tool.base_url}/lti/register", "mode": "moodle"}))
        page.locator("#registration-status[data-closed=true]").wait_for(timeout=20000)
        assert "finished the registration" in page.locator("#registration-status").inner_text()
        messages = [m for m in page.evaluate("window.__messages") if isinstance(m["data"], dict)]
        assert {"data": {"subject": "org.imsglobal.lti.close"}, "origin": tool.base_url} in messages
        frame = page.frame_locator("iframe#registration")
        frame.locator("#registration-title").wait_for()
        frame.locator("#registration-close").wait_for(state="visible")
        context.close()


@pytest.mark.browser
def test_an_lms_at_another_origin_frames_the_answer_and_gets_the_close_message(tool, stub):
    stub.page_html = (f'<!doctype html><title>LMS</title><h1>Stub LMS</h1>'
                      f'<iframe id="tool" src="{stub.register_url(tool)}" width="800" height="600"></iframe>')
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(COLLECT)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(stub.origin + "/lms/page")
        page.wait_for_function("window.__messages.some(m => m.data && m.data.subject === 'org.imsglobal.lti.close')",
                               timeout=20000)
        (close,) = [m for m in page.evaluate("window.__messages") if m["data"].get("subject") == "org.imsglobal.lti.close"]
        assert close["origin"] == tool.base_url
        page.frame_locator("#tool").locator("#registration-title").wait_for()
        assert not [m for m in console if "Content Security Policy" in m or "frame-ancestors" in m], console
        context.close()


@pytest.mark.browser
def test_the_answer_page_is_accessible_and_works_under_its_csp(tool):
    url = start_registration(tool, "canvas")
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        page = context.new_page()
        page.goto(url)
        page.locator("#registration-title").wait_for()
        assert page.locator("#registration-close").is_hidden(), "no LMS window to return to: no button"
        assert page.evaluate("window.__csp") == []
        assert_accessible(page, "registration answer")
        context.close()
