"""Health for load balancers and orchestrators.

- GET /livez, liveness: the process serves requests. It touches neither the database nor the cache,
  so a database outage does not get every instance restarted; it is also the "trivial route" the
  save benchmark measures the stack's ceiling with (bench/save.py).
- GET /healthz, readiness: the database and the cache must both answer (else 503, take the
  instance out of rotation until they do).
"""
from __future__ import annotations

import logging
import secrets

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..extensions import cache, db

bp = Blueprint("health", __name__)
log = logging.getLogger("lti_tool.health")


@bp.get("/livez")
def livez():
    """Liveness: 200 while the process can answer at all. No database, no cache, no launch token."""
    return jsonify(status="ok")


@bp.get("/healthz")
def healthz():
    """Readiness: 200 when the database and the cache both answer, else 503."""
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    status = 200 if all(checks.values()) else 503
    return jsonify(status="ok" if status == 200 else "unavailable", checks=checks), status


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any driver error means "not answering"
        log.warning("health: database check failed: %s", exc.__class__.__name__)
        db.session.rollback()
        return False


def _cache_ok() -> bool:
    probe = secrets.token_hex(8)
    try:
        key = f"healthz:{probe}"  # per probe: instances sharing Redis must not race
        cache.set(key, probe, timeout=30)
        ok = cache.get(key) == probe
        cache.delete(key)
        return ok
    except Exception as exc:
        log.warning("health: cache check failed: %s", exc.__class__.__name__)
        return False
