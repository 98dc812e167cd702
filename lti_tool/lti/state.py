"""Launch state (OIDC state, nonce, launch data, platform JWKS) in the shared Flask-Caching cache."""
from __future__ import annotations

from typing import Any, Optional

from pylti1p3.contrib.flask import FlaskCacheDataStorage

from ..extensions import cache


class SharedCacheStorage(FlaskCacheDataStorage):
    """pylti1p3's cache storage without its per-browser session cookie: that cookie is
    third-party inside the LMS frame and often blocked. State is bound to the browser by
    the state cookie and to the login by the nonce kept with it (see launch.py)."""

    def __init__(self) -> None:
        super().__init__(cache)

    def get_session_cookie_name(self) -> Optional[str]:
        return None


def state_key(state: str) -> str:
    return f"lti1p3-oidc-state-{state}"


def save_state(state: str, data: dict[str, Any], ttl: int) -> None:
    cache.set(state_key(state), data, timeout=ttl)


def load_state(state: str) -> Optional[dict[str, Any]]:
    return cache.get(state_key(state))


def update_state(state: str, changes: dict[str, Any], ttl: int) -> Optional[dict[str, Any]]:
    """Change a login's record (e.g. the platform storage was not answered); None when it is gone."""
    data = load_state(state)
    if data is None:
        return None
    data = {**data, **changes}
    save_state(state, data, ttl)
    return data


def consume_state(state: str) -> None:
    cache.delete(state_key(state))


def _used_key(kind: str, value: str) -> str:
    return f"lti1p3-used-{kind}-{value}"


def mark_used(kind: str, value: str, ttl: int, by: str = "1") -> bool:
    """Record a one-time value (a nonce, a login continued), and what used it; False when it was used before.
    Atomic in every cache the tool uses (cache.add), so two processes can't both spend it."""
    return bool(cache.add(_used_key(kind, value), by, timeout=ttl))


def lookup(nonce: Optional[str], state: Optional[str]) -> tuple[Optional[str], Optional[dict[str, Any]]]:
    """What used this nonce (mark_used's `by`; None while unused) and this state's login record, read together."""
    nonce_key = _used_key("nonce", nonce) if nonce else None
    record_key = state_key(state) if state else None
    keys = [k for k in (nonce_key, record_key) if k]
    found = dict(zip(keys, cache.get_many(*keys))) if keys else {}
    return found.get(nonce_key), found.get(record_key)


def jwks_get(url: str) -> Optional[dict]:
    return cache.get(f"lti1p3-jwks-{url}")


def jwks_put(url: str, key_set: dict, ttl: int) -> None:
    cache.set(f"lti1p3-jwks-{url}", key_set, timeout=ttl)
