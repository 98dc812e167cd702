"""The lti-tool CLI, run as an admin would, against a fresh SQLite database."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "lti-tool"
MOODLE = [
    "--issuer", "https://moodle.example.edu", "--client-id", "abc123",
    "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
    "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
    "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php",
]


@pytest.fixture()
def cli(tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "DEV_LMS": "", "REDIS_URL": "", "SECRET_KEY": ""}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    run("db", "upgrade")
    run.tmp_path = tmp_path
    return run


def test_platforms_add_list_remove(cli):
    cli("platforms", "add", *MOODLE, "--deployment-id", "7", "--deployment-id", "8", "--name", "Moodle of Example U")
    listing = cli("platforms", "list").stdout
    assert "Moodle of Example U" in listing and "client_id:  abc123" in listing
    assert "deployment: 7 (active)" in listing and "deployment: 8 (active)" in listing

    cli("platforms", "remove", "--issuer", "https://moodle.example.edu", "--client-id", "abc123")
    assert "no platforms registered" in cli("platforms", "list").stdout


def test_same_issuer_many_clients(cli):
    """Canvas shares one issuer among all its customers: registrations are keyed by issuer and client id."""
    canvas = ["--issuer", "https://canvas.instructure.com", "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
              "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token", "--key-set-url", "https://sso.canvaslms.com/api/lti/security/jwks"]
    cli("platforms", "add", *canvas, "--client-id", "10000000000001", "--deployment-id", "a")
    cli("platforms", "add", *canvas, "--client-id", "10000000000002", "--deployment-id", "b")
    listing = cli("platforms", "list").stdout
    assert listing.count("issuer:     https://canvas.instructure.com") == 2
    cli("platforms", "remove", "--issuer", "https://canvas.instructure.com", "--client-id", "10000000000001")
    listing = cli("platforms", "list").stdout
    assert "10000000000001" not in listing and "10000000000002" in listing


def test_add_again_updates_and_adds_deployments(cli):
    cli("platforms", "add", *MOODLE, "--deployment-id", "7")
    changed = [a.replace("certs.php", "certs2.php") for a in MOODLE]
    cli("platforms", "add", *changed, "--deployment-id", "9")
    listing = cli("platforms", "list").stdout
    assert listing.count("issuer:") == 1 and "certs2.php" in listing
    assert "deployment: 7 (active)" in listing and "deployment: 9 (active)" in listing


def test_bad_input_is_refused_clearly(cli):
    result = cli("platforms", "add", *[a.replace("https://moodle.example.edu/mod/lti/auth.php", "ftp://x") for a in MOODLE],
                 "--deployment-id", "1", ok=False)
    assert result.returncode != 0 and "not an http(s) URL" in result.stderr
    result = cli("platforms", "remove", "--issuer", "https://nowhere", "--client-id", "x", ok=False)
    assert result.returncode != 0 and "no platform" in result.stderr
    result = cli("platforms", "activate", "--issuer", "https://nowhere", "--client-id", "x", "--deployment-id", "1", ok=False)
    assert result.returncode != 0 and "no platform" in result.stderr


def test_activate_adds_a_deployment(cli):
    cli("platforms", "add", *MOODLE, "--deployment-id", "7")
    cli("platforms", "activate", "--issuer", "https://moodle.example.edu", "--client-id", "abc123", "--deployment-id", "12")
    assert "deployment: 12 (active)" in cli("platforms", "list").stdout


def test_keys_list_rotate(cli):
    first = cli("keys", "list").stdout.split()
    assert first[-1] == "signing"
    cli("keys", "rotate")
    lines = cli("keys", "list").stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(first[0]) and "published (retired" in lines[0]
    assert lines[1].endswith("signing")


def test_secret_key_is_generated_once_and_private(cli):
    secret = cli.tmp_path / "instance" / "secret_key"
    assert secret.exists() and (secret.stat().st_mode & 0o077) == 0
    before = secret.read_text()
    cli("keys", "list")
    assert secret.read_text() == before


def test_devlms_register_refused_without_dev_lms(cli):
    result = cli("devlms", "register", ok=False)
    assert result.returncode != 0 and "never registered in production" in result.stderr


def test_urls_printed(cli):
    out = cli("urls").stdout
    assert "/lti/login" in out and "/lti/launch" in out and "/.well-known/jwks.json" in out
    assert "/lti/register" in out


def test_flask_app_entry_point_works_too(cli, tmp_path):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "lti_tool", "keys", "list"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "signing" in result.stdout
