"""pylti1p3's ServiceConnector with access tokens in the shared cache, timeouts and a User-Agent.

One token per platform (issuer + client id: Canvas shares its issuer) and scope set, kept until
shortly before it expires, shared by every worker and instance through Flask-Caching (Redis
when REDIS_URL is set) and remembered by each process for a while. A lock in the cache keeps many
workers from asking at once.
"""
from __future__ import annotations

import hashlib
import threading
import time
import typing as t

import requests
from pylti1p3.service_connector import ServiceConnector

from ..extensions import cache

_local_locks: dict[str, threading.Lock] = {}
# Tokens this process read or got, until shortly before they expire: a grade costs no cache round trip.
_remembered_tokens: dict[str, tuple[float, str]] = {}


def _remember(key: str, token: str, seconds: float) -> None:
    _remembered_tokens[key] = (time.monotonic() + seconds, token)
_local_locks_guard = threading.Lock()


class TimeoutSession(requests.Session):
    """A requests session that never waits forever and always says who it is."""

    def __init__(self, timeout: float, user_agent: str):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = user_agent

    def request(self, method, url, **kwargs):  # noqa: D102 - requests' own signature
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


class CachedServiceConnector(ServiceConnector):
    """Access tokens from the shared cache; `forget_token` drops one the platform refused (401)."""

    LOCK_SECONDS = 30
    WAIT_SECONDS = 10
    MARGIN_SECONDS = 30.0

    def _scope_key(self, scopes: t.Iterable[str]) -> str:
        reg = self._registration
        parts = [reg.get_issuer() or "", reg.get_client_id() or "", reg.get_auth_token_url() or "", *sorted(scopes)]
        return "ags-token:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _get_cached_access_token(self, scope_key: str) -> t.Optional[str]:
        remembered = _remembered_tokens.get(scope_key)
        if remembered is not None and remembered[0] > time.monotonic():
            return remembered[1]
        token = cache.get(scope_key)
        if token:
            # The shared cache drops a token at least MARGIN_SECONDS before the platform would refuse
            # it, so holding what it gave us for less than that never sends an expired token.
            _remember(scope_key, token, self.MARGIN_SECONDS / 2)
        return token

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        lifetime = float(expires_in or 0)
        keep = lifetime - max(self.MARGIN_SECONDS, lifetime * 0.1)  # refresh a little before the platform stops accepting it
        if keep > 1:
            cache.set(scope_key, access_token, timeout=int(keep))
            _remember(scope_key, access_token, keep)

    def get_access_token(self, scopes: t.Sequence[str]) -> str:
        key = self._scope_key(sorted(scopes))
        token = self._get_cached_access_token(key)
        if token:
            return token
        with _local_lock(key):  # threads of this process wait for one request
            token = self._get_cached_access_token(key) or self._wait_for_other_process(key)
            if token:
                return token
            try:
                return super().get_access_token(scopes)
            finally:
                cache.delete(key + ":lock")

    def _wait_for_other_process(self, key: str) -> t.Optional[str]:
        """Take the shared lock, or wait a little for the process holding it to cache a token."""
        if cache.add(key + ":lock", 1, timeout=self.LOCK_SECONDS):
            return None
        deadline = time.monotonic() + self.WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            token = self._get_cached_access_token(key)
            if token:
                return token
            if cache.add(key + ":lock", 1, timeout=self.LOCK_SECONDS):
                return None
        return None

    def forget_token(self, scopes: t.Sequence[str]) -> None:
        key = self._scope_key(sorted(scopes))
        _remembered_tokens.pop(key, None)
        cache.delete(key)


def _local_lock(key: str) -> threading.Lock:
    with _local_locks_guard:
        return _local_locks.setdefault(key, threading.Lock())
