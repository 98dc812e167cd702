"""Liveness for load balancers: the database and the cache must both answer."""
from __future__ import annotations

import logging
import secrets

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..extensions import cache, db

bp = Blueprint("health", __name__)
log = logging.getLogger("lti_tool.health")


@bp.get("/healthz")
def healthz():
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
