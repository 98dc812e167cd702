"""A lock shared by the threads of a process and by the processes of one machine (a lock file).

SQLite files have one writer at a time, and a writer that finds one locked sleeps in SQLite's busy
handler in growing steps (up to 100 ms) however soon the lock is free. Writers that take this lock
first wait in the kernel instead, and each starts as soon as the one before it is done.
"""
from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from typing import Iterator

_thread_locks: dict[str, threading.Lock] = {}
_files: dict[tuple[int, str], int] = {}
_guard = threading.Lock()


@contextmanager
def held(path: str) -> Iterator[None]:
    """Hold the lock named by the file `path` (created when missing) for the block."""
    with _thread_lock(path):
        fd = _descriptor(path)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _thread_lock(path: str) -> threading.Lock:
    lock = _thread_locks.get(path)
    if lock is None:
        with _guard:
            lock = _thread_locks.setdefault(path, threading.Lock())
    return lock


def _descriptor(path: str) -> int:
    """This process's own descriptor of the lock file: flock locks belong to an open file, which a forked
    child would otherwise share with its parent (both would hold the lock at once)."""
    key = (os.getpid(), path)
    fd = _files.get(key)
    if fd is None:
        with _guard:
            fd = _files.get(key)
            if fd is None:
                fd = _files[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fd
