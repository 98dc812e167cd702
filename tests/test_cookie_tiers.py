"""Third-party cookies blocked: a launch in the course frame still succeeds, by one of three tiers.

The practice LMS and the tool are on different sites (https://localhost and https://127.0.0.1, TLS
with a certificate made here), and Chromium blocks third-party cookies:

1. a partitioned state cookie (SameSite=None; Secure; Partitioned) works in the frame;
2. when the LMS offers lti_storage_target and answers lti.capabilities, the state and nonce are kept
   in the LMS's window (lti.put_data) and read back at launch (lti.get_data);
3. when there is no cookie in the frame at all (plain http here, as in a browser that blocks partitioned
   cookies too) and no platform storage, the tool offers a new window, where the launch completes.

Each test checks the tool's log for the tier it took.
"""
from __future__ import annotations

import datetime
import ipaddress
import time
from pathlib import Path

import pytest
import requests

from tests.browser import chromium_without_third_party_cookies
from tests.conftest import _app_config, prepare_database
from tests.servers import ToolServer, free_port

pytestmark = pytest.mark.browser


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class CrossSite:
    """The tool at SCHEME://127.0.0.1:PORT, its practice LMS at SCHEME://localhost:PORT/dev/lms."""

    def __init__(self, tmp: Path, tls: bool):
        port = free_port()
        scheme = "https" if tls else "http"
        self.tool_url, self.lms_url = f"{scheme}://127.0.0.1:{port}", f"{scheme}://localhost:{port}/dev/lms"
        env = {**_app_config(tmp, port), "TOOL_BASE_URL": self.tool_url, "DEVLMS_BASE_URL": self.lms_url}
        certs = self.certs = make_certificate(tmp) if tls else None
        if certs:
            env["REQUESTS_CA_BUNDLE"] = str(certs[0])  # the tool fetches the LMS's keys over this TLS
        prepare_database(env)
        self.log_path = tmp / "server.log"
        self.server = ToolServer(env, port=port, log_path=self.log_path, tls=certs).start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, since: int, timeout: float = 5) -> str:
        deadline = time.monotonic() + timeout
        while True:
            tail = self.log()[since:]
            if text in tail or time.monotonic() > deadline:
                return tail
            time.sleep(0.05)


@pytest.fixture(scope="module")
def https_site(tmp_path_factory):
    site = CrossSite(tmp_path_factory.mktemp("tiers-https"), tls=True)
    yield site
    site.server.stop()


@pytest.fixture(scope="module")
def http_site(tmp_path_factory):
    site = CrossSite(tmp_path_factory.mktemp("tiers-http"), tls=False)
    yield site
    site.server.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium_without_third_party_cookies() as b:
        yield b


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def launch_in_frame(page, site: CrossSite, storage: str, person: str = "u-learner-1"):
    page.goto(f"{site.lms_url}/?storage={storage}")
    row = page.locator("tr", has=page.get_by_text(person, exact=True))
    row.get_by_role("link", name="Launch").first.click()
    return page.frame_locator("iframe#tool")


def test_the_servers_are_on_different_sites_and_third_party_cookies_are_blocked(https_site, page):
    """The setting every test here relies on: in the tool's frame only partitioned cookies are kept."""
    assert requests.get(https_site.tool_url + "/healthz", verify=str(https_site.certs[0]), timeout=5).status_code == 200
    frame = launch_in_frame(page, https_site, "none")
    frame.locator("[data-role=learner]").wait_for(timeout=15000)
    tool_frame = next(f for f in page.frames if f.url.startswith(https_site.tool_url))
    kept = tool_frame.evaluate("""() => {
        document.cookie = "probe_plain=1; SameSite=None; Secure; Path=/";
        document.cookie = "probe_partitioned=1; SameSite=None; Secure; Partitioned; Path=/";
        return document.cookie;
    }""")
    assert "probe_partitioned=1" in kept
    assert "probe_plain=1" not in kept, "third-party cookies are not blocked in this browser"


def test_tier1_partitioned_cookie(https_site, page):
    since = len(https_site.log())
    frame = launch_in_frame(page, https_site, "none")
    frame.locator("[data-role=learner]").wait_for(timeout=15000)
    assert "Maya Chen" in frame.locator(".person-name").inner_text()
    log = https_site.wait_for_log("launch state via cookie", since)
    assert "launch state via cookie" in log
    assert "platform storage" not in log and "new window" not in log


def test_tier2_platform_storage(https_site, page):
    since = len(https_site.log())
    frame = launch_in_frame(page, https_site, "parent")
    frame.locator("[data-role=learner]").wait_for(timeout=15000)
    assert "Maya Chen" in frame.locator(".person-name").inner_text()
    log = https_site.wait_for_log("launch state via platform storage", since)
    assert "asking the platform to keep the state" in log
    assert "reading the state from the platform's storage" in log
    assert "launch state via platform storage" in log
    assert "launch state via cookie" not in log and "launch refused" not in log


def test_tier2_unanswered_storage_falls_back_to_the_cookie(https_site, page):
    since = len(https_site.log())
    frame = launch_in_frame(page, https_site, "broken")
    frame.locator("[data-role=learner]").wait_for(timeout=15000)
    log = https_site.wait_for_log("launch state via cookie", since)
    assert "asking the platform to keep the state" in log
    assert "the platform did not keep the state; using a state cookie" in log
    assert "launch state via cookie" in log and "launch refused" not in log


def test_tier3_new_window(http_site, page):
    """No cookie reaches the tool in the frame (http: no SameSite=None, no partitioning) and the LMS
    offers no storage: the tool offers a new window, where the launch completes."""
    since = len(http_site.log())
    frame = launch_in_frame(page, http_site, "none")
    button = frame.get_by_role("link", name="Open in a new window")
    button.wait_for(timeout=15000)
    log = http_site.wait_for_log("launch needs a new window", since)
    assert "launch refused: state_mismatch" in log and "launch needs a new window" in log
    with page.context.expect_page() as opened:
        button.click()
    popup = opened.value
    popup.locator("[data-role=learner]").wait_for(timeout=15000)
    assert popup.url.startswith(http_site.tool_url)
    assert "Maya Chen" in popup.locator(".person-name").inner_text()
    assert "launch state via new window" in http_site.wait_for_log("launch state via new window", since)


# --- the platform storage check over HTTP: no login CSRF, one try, never a 500 -------------------

def storage_launch(tool) -> tuple[requests.Session, dict[str, str], dict[str, str]]:
    """A login with lti_storage_target and its launch without a cookie: (session, verify form, login data)."""
    from bs4 import BeautifulSoup

    from tests.lms import parse_form, submit

    http = requests.Session()
    start = http.get(f"{tool.base_url}/dev/lms/launch", params={
        "person": "u-learner-1", "link": "rl-relationships", "mode": "moodle", "method": "get", "storage": "parent"})
    login_page = submit(http, parse_form(start.text))
    assert login_page.status_code == 200 and "lti_storage.js" in login_page.text
    assert "Set-Cookie" not in login_page.headers
    data = BeautifulSoup(login_page.text, "html.parser").find(id="lti-storage")
    login = {k[5:]: v for k, v in data.attrs.items() if k.startswith("data-")}
    auth = http.get(login["auth-url"])
    launch = submit(http, parse_form(auth.text))
    assert launch.status_code == 200, launch.text[:800]
    return http, parse_form(launch.text, "lti-storage-verify").fields, login


def test_verify_needs_the_tools_origin_and_the_stored_values(tool):
    http, fields, login = storage_launch(tool)
    origin = {"Origin": tool.base_url}
    good = {**fields, "lti_storage_state": login["state"], "lti_storage_nonce": login["nonce"]}
    # A form posted from another site (login CSRF) is refused even with the right values.
    forged = http.post(f"{tool.base_url}/lti/launch/verify", data=good, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400 and "What to do" in forged.text
    # Values the platform did not return are refused.
    empty = http.post(f"{tool.base_url}/lti/launch/verify", data=fields, headers=origin)
    assert empty.status_code == 400
    ok = http.post(f"{tool.base_url}/lti/launch/verify", data=good, headers=origin, allow_redirects=False)
    assert ok.status_code == 303, ok.text[:800]
    again = http.post(f"{tool.base_url}/lti/launch/verify", data=good, headers=origin)
    assert again.status_code == 400 and "What to do" in again.text


def test_verify_with_wrong_values_spends_the_login(tool):
    http, fields, login = storage_launch(tool)
    origin = {"Origin": tool.base_url}
    wrong = {**fields, "lti_storage_state": login["state"], "lti_storage_nonce": "not-the-nonce"}
    assert http.post(f"{tool.base_url}/lti/launch/verify", data=wrong, headers=origin).status_code == 400
    good = {**fields, "lti_storage_state": login["state"], "lti_storage_nonce": login["nonce"]}
    assert http.post(f"{tool.base_url}/lti/launch/verify", data=good, headers=origin).status_code == 400


def test_continue_is_once_and_unknown_states_get_a_page(tool):
    http = requests.Session()
    assert http.get(f"{tool.base_url}/lti/login/continue", params={"state": "state-made-up"}).status_code == 400
    assert http.get(f"{tool.base_url}/lti/login/continue").status_code == 400
    _http, _fields, login = storage_launch(tool)
    first = http.get(tool.base_url + login["continue-url"], allow_redirects=False)
    assert first.status_code == 302 and "lti1p3-" + login["state"] in first.headers["Set-Cookie"]
    assert http.get(tool.base_url + login["continue-url"], allow_redirects=False).status_code == 400
