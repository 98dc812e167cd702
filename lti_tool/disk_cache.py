"""A Flask-Caching backend on diskcache: one cache shared by every process of one machine.

Several gunicorn workers without Redis need it: an OIDC login answered by one worker and its
launch by another must see the same state, and a nonce used in one must be refused in the others.
diskcache keeps entries in a SQLite file with expiry and culling; its add() is atomic across
processes, which the one-time markers of launches (lti/state.py) and the access-token lock rely on.
Writes take a lock file first (file_lock), so that writers of several processes queue instead of
sleeping in SQLite's busy handler; reads need no lock.
"""
from __future__ import annotations

import os
from typing import Any, Optional

import diskcache
from flask_caching.backends.base import BaseCache

from . import file_lock


class DiskCache(BaseCache):
    """CACHE_TYPE "lti_tool.disk_cache.DiskCache", with CACHE_DIR (a folder only this tool writes)."""

    def __init__(self, directory: str, default_timeout: int = 300, size_limit: int = 2**30):
        super().__init__(default_timeout=default_timeout)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._cache = diskcache.Cache(directory, size_limit=size_limit)
        self._writer = os.path.join(directory, "writer.lock")

    @classmethod
    def factory(cls, app, config: dict[str, Any], args: list, kwargs: dict) -> "DiskCache":
        return cls(config["CACHE_DIR"], default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300))

    def _expire(self, timeout: Optional[int]) -> Optional[float]:
        seconds = self._normalize_timeout(timeout)
        return None if seconds == 0 else seconds  # cachelib: 0 never expires; diskcache: None never expires

    def get(self, key: str) -> Any:
        return self._cache.get(key)

    def set(self, key: str, value: Any, timeout: Optional[int] = None) -> bool:
        with file_lock.held(self._writer):
            return bool(self._cache.set(key, value, expire=self._expire(timeout)))

    def add(self, key: str, value: Any, timeout: Optional[int] = None) -> bool:
        with file_lock.held(self._writer):
            return bool(self._cache.add(key, value, expire=self._expire(timeout)))

    def delete(self, key: str) -> bool:
        with file_lock.held(self._writer):
            return bool(self._cache.delete(key))

    def has(self, key: str) -> bool:
        return key in self._cache

    def clear(self) -> bool:
        with file_lock.held(self._writer):
            self._cache.clear()
        return True

    def inc(self, key: str, delta: int = 1) -> Optional[int]:
        with file_lock.held(self._writer):
            return self._cache.incr(key, delta)

    def dec(self, key: str, delta: int = 1) -> Optional[int]:
        with file_lock.held(self._writer):
            return self._cache.decr(key, delta)
