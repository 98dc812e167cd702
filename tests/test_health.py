"""GET /healthz answers 200 only when the database and the cache both answer."""
from __future__ import annotations

import requests

from lti_tool import create_app
from tests.servers import free_port


def test_healthz_ok_over_http(tool):
    response = requests.get(tool.base_url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "cache": True}}


def _client(tmp_path, **overrides):
    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'h.sqlite3'}", "SECRET_KEY": "x" * 32}
    config.update(overrides)
    return create_app(config).test_client()


def test_healthz_503_when_database_is_down(tmp_path):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=1"
    response = _client(tmp_path, DATABASE_URL=dead).get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": False, "cache": True}


def test_healthz_503_when_cache_is_down(tmp_path):
    response = _client(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": True, "cache": False}


def test_livez_ok_over_http(tool):
    response = requests.get(tool.base_url + "/livez", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_livez_ok_while_database_and_cache_are_down(tmp_path):
    """Liveness touches neither: an outage must not make every instance look dead (and get restarted)."""
    dead_db = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=1"
    client = _client(tmp_path, DATABASE_URL=dead_db, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/healthz").status_code == 503
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
