"""Settings: built-in defaults, then config/settings.py, then the environment, then test_config."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Mapping

from .paths import PROJECT_ROOT, TRANSLATIONS_DIR

DEFAULTS: dict[str, Any] = {
    "PORT": 5000,
    "TOOL_BASE_URL": None,  # derived from PORT when unset
    "DATABASE_URL": None,  # SQLite file in instance/ when unset
    "REDIS_URL": None,  # in-process cache when unset (with WORKERS > 1, a cache on disk shared by them)
    "WORKERS": 1,  # gunicorn workers per instance (config/gunicorn.conf.py reads it too)
    "CACHE_DIR": None,  # the shared disk cache's folder: instance/cache when unset
    "SECRET_KEY": None,  # generated once into instance/ when unset
    "CONTENT_DIR": str(PROJECT_ROOT / "content"),
    "DEV_LMS": False,
    "BEHIND_PROXY": False,
    "PROXY_HOPS": 1,
    "LAUNCH_TOKEN_MAX_AGE": 4 * 3600,
    "JWT_LEEWAY_SECONDS": 10,
    "OIDC_STATE_TTL": 600,
    "PLATFORM_JWKS_TTL": 3600,
    "KEY_GRACE_DAYS": 7,
    "HTTP_TIMEOUT_SECONDS": 10,
    "CACHE_THRESHOLD": 100_000,
    "LOG_LEVEL": "info",
    # Grade passback (grade_worker.py): "inline" runs a worker thread in each app process;
    # "off" when separate `lti-tool grades worker` processes do it.
    "GRADE_WORKER": "inline",
    "GRADE_PROGRESS_ON_DRAFT": False,  # report InProgress (no score) when a learner starts a worksheet
    "GRADE_BATCH_SIZE": 10,
    "GRADE_LEASE_SECONDS": 300,
    "GRADE_POLL_SECONDS": 1.0,
    "GRADE_RETRY_BASE_SECONDS": 2.0,
    "GRADE_RETRY_MAX_SECONDS": 900.0,
    "GRADE_MAX_ATTEMPTS": 40,
    "MAX_CONTENT_LENGTH": 1_000_000,  # a full worksheet in any script fits; 1 MB does not
    "DEVLMS_BASE_URL": None,  # the practice LMS's own defaults apply when unset
    "DEVLMS_DB_PATH": None,
    "BABEL_DEFAULT_LOCALE": "en",
    # Absolute, so Flask-Babel finds the compiled catalogs whatever the working directory.
    "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS_DIR),
}

_BOOL_KEYS = {"DEV_LMS", "BEHIND_PROXY", "TESTING", "GRADE_PROGRESS_ON_DRAFT"}
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_FLOAT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, float)}
_TRUE = {"1", "true", "yes", "on"}


def load(instance_path: str, test_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the effective settings for one app."""
    conf: dict[str, Any] = dict(DEFAULTS)
    conf.update(_from_file(PROJECT_ROOT / "config" / "settings.py"))
    conf.update(_from_environ(os.environ))
    conf.update(test_config or {})
    if not conf["TOOL_BASE_URL"]:
        conf["TOOL_BASE_URL"] = f"http://127.0.0.1:{conf['PORT']}"
    conf["TOOL_BASE_URL"] = conf["TOOL_BASE_URL"].rstrip("/")
    if not conf["DATABASE_URL"]:
        conf["DATABASE_URL"] = "sqlite:///" + os.path.join(instance_path, "lti_tool.sqlite3")
    conf["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(conf["DATABASE_URL"])
    if not conf["SECRET_KEY"]:
        conf["SECRET_KEY"] = _instance_secret(instance_path)
    conf["CACHE_CONFIG"] = _cache_config(conf, instance_path)
    return {k: v for k, v in conf.items() if v is not None}


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    scope: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), scope)  # noqa: S102
    return {k: v for k, v in scope.items() if k.isupper()}


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in set(DEFAULTS) | _BOOL_KEYS:
        if key not in environ or environ[key] == "":
            continue
        raw = environ[key]
        if key in _BOOL_KEYS:
            out[key] = raw.strip().lower() in _TRUE
        elif key in _INT_KEYS:
            out[key] = int(raw)
        elif key in _FLOAT_KEYS:
            out[key] = float(raw)
        else:
            out[key] = raw
    return out


def _normalise_db_url(url: str) -> str:
    """Let operators paste a plain postgres:// URL; we drive it with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: str) -> str:
    """Read the secret kept in instance/, creating it (mode 0600) the first time."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48))
    return _instance_secret(instance_path)


def _cache_config(conf: Mapping[str, Any], instance_path: str) -> dict[str, Any]:
    """Redis when REDIS_URL is set (many instances). Without it, several workers of one instance
    share a cache on disk (a login answered by one worker and its launch by another must see the
    same state); a single worker keeps it in its own memory."""
    if conf.get("REDIS_URL"):
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": conf["REDIS_URL"],
            "CACHE_KEY_PREFIX": "lti_tool:",
            "CACHE_DEFAULT_TIMEOUT": 3600,
        }
    if conf.get("CACHE_DIR") or int(conf.get("WORKERS") or 1) > 1:
        return {
            "CACHE_TYPE": "lti_tool.disk_cache.DiskCache",
            "CACHE_DIR": conf.get("CACHE_DIR") or os.path.join(instance_path, "cache"),
            "CACHE_DEFAULT_TIMEOUT": 3600,
        }
    # SimpleCache silently drops entries beyond its threshold (500 by default),
    # which would evict launch state and JWKS under load: size it.
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_THRESHOLD": conf["CACHE_THRESHOLD"],
        "CACHE_DEFAULT_TIMEOUT": 3600,
    }
