"""Fault injection for tests and demos, kept in the database so every worker process sees it.

POST /api/faults takes JSON with any of:
  fail_next: N, status: 503, target: "services" | "token" | "ags" | "nrps" | "registration"   fail the next N calls
  down_seconds: T                                                          every service call 503 for T s
  conflict_next_score: N (or true)                                         next N scores get 409
  unauthorized_once: N (or true)                                           next N AGS/NRPS calls get 401
  bad_request_user: "<user id>" (or null)                                  scores for that user get 400
  fail_rate: 0.3 (0..1; 0 or null clears)                                  each service call fails with that chance
    fail_statuses: [503, 500, 502, 429]   default [503, 500, 429]; each failure picks one at random
    fail_target: "services" | "token" | "ags" | "nrps"   default "services" (every kind), as target above
    fail_seed: 7                          reproducible: the n-th matching call since fail_rate was set
                                          always draws the same outcome, whichever worker process serves it
429 and 503 answers carry Retry-After (1 s for fail_next and fail_rate; the time left for down_seconds).
Precedence for a service call: down_seconds, then fail_next, then fail_rate.

check_service() is called on every token, AGS and NRPS request: with no fault set it costs one read of
the (empty) faults table; a write transaction is opened only when a fault may be spent or counted.
"""
from __future__ import annotations

import json
import math
import random
import sqlite3
import time

from . import stats, store

TARGETS = {"services", "token", "ags", "nrps", "registration"}  # registration: dynamic registration's POST
RATE_KEYS = {"fail_rate", "fail_statuses", "fail_target", "fail_seed"}
KNOWN_KEYS = {"fail_next", "status", "target", "down_seconds", "conflict_next_score", "unauthorized_once",
              "bad_request_user", *RATE_KEYS}
DEFAULT_FAIL_STATUSES = (503, 500, 429)
RETRY_AFTER_STATUSES = (429, 503)


class InjectedFault(Exception):
    """An answer the tests asked for instead of the real one."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


class FaultSpecError(ValueError):
    """The fault request is not understood."""


def _read(conn: sqlite3.Connection) -> dict:
    return {r["name"]: json.loads(r["value"]) for r in conn.execute("SELECT name, value FROM faults")}


def _write(conn: sqlite3.Connection, name: str, value) -> None:
    if value in (None, 0, False):
        conn.execute("DELETE FROM faults WHERE name = ?", (name,))
    else:
        conn.execute("INSERT OR REPLACE INTO faults (name, value) VALUES (?, ?)", (name, json.dumps(value)))


def current() -> dict:
    """The faults in force, as GET /api/faults shows them."""
    with store.connection() as conn:
        state = _read(conn)
    down_until = state.get("down_until")
    remaining = max(0.0, down_until - time.time()) if down_until else 0.0
    return {
        "fail_next": state.get("fail"),
        "down_until": down_until if remaining else None,
        "down_remaining_seconds": round(remaining, 3),
        "conflict_next_score": state.get("conflict", 0),
        "unauthorized_once": state.get("unauthorized", 0),
        "bad_request_user": state.get("bad_user"),
        **_rate_view(state.get("random")),
    }


def _rate_view(spec: dict | None) -> dict:
    """fail_rate and its options as GET /api/faults shows them (all null when not set)."""
    spec = spec or {}
    return {
        "fail_rate": spec.get("rate"),
        "fail_statuses": spec.get("statuses"),
        "fail_target": spec.get("target"),
        "fail_seed": spec.get("seed"),
        "fail_seed_draws": spec.get("draws") if spec.get("seed") is not None else None,
    }


def _count(value, name: str) -> int:
    if value is True:
        return 1
    if value is False or value is None:
        return 0
    if not isinstance(value, int) or value < 0:
        raise FaultSpecError(f"{name} must be a non-negative integer or a boolean")
    return value


def _changes(spec: dict) -> dict:
    """Validate a fault request; the table rows it sets."""
    unknown = set(spec) - KNOWN_KEYS
    if unknown:
        raise FaultSpecError(f"unknown fault keys: {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    changes: dict = {}
    if "fail_next" in spec:
        changes["fail"] = _fail_spec(spec)
    if "down_seconds" in spec:
        seconds = spec["down_seconds"]
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise FaultSpecError("down_seconds must be a number >= 0")
        changes["down_until"] = time.time() + seconds if seconds else None
    if "conflict_next_score" in spec:
        changes["conflict"] = _count(spec["conflict_next_score"], "conflict_next_score")
    if "unauthorized_once" in spec:
        changes["unauthorized"] = _count(spec["unauthorized_once"], "unauthorized_once")
    if "bad_request_user" in spec:
        user = spec["bad_request_user"]
        if user is not None and not isinstance(user, str):
            raise FaultSpecError("bad_request_user must be a user id or null")
        changes["bad_user"] = user or None
    if RATE_KEYS & spec.keys():
        if "fail_rate" not in spec:
            raise FaultSpecError("fail_statuses, fail_target and fail_seed go with fail_rate")
        changes["random"] = _rate_spec(spec)
    return changes


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rate_spec(spec: dict) -> dict | None:
    """The stored fail_rate fault, or None when fail_rate is 0 or null (which clears it)."""
    rate = spec["fail_rate"]
    if rate is not None and (not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1):
        raise FaultSpecError("fail_rate must be a number from 0 to 1 (0 or null clears it)")
    statuses = spec.get("fail_statuses")
    statuses = list(DEFAULT_FAIL_STATUSES) if statuses is None else statuses
    if not isinstance(statuses, list) or not statuses or not all(_is_int(s) and 400 <= s <= 599 for s in statuses):
        raise FaultSpecError("fail_statuses must be a non-empty list of HTTP error statuses (400-599)")
    target = spec.get("fail_target")
    target = "services" if target is None else target
    if target not in TARGETS:
        raise FaultSpecError(f"fail_target must be one of {sorted(TARGETS)}")
    seed = spec.get("fail_seed")
    if seed is not None and not _is_int(seed):
        raise FaultSpecError("fail_seed must be an integer (or null)")
    if not rate:
        return None
    return {"rate": float(rate), "statuses": statuses, "target": target, "seed": seed, "draws": 0}


def _fail_spec(spec: dict) -> dict | None:
    count = _count(spec["fail_next"], "fail_next")
    status, target = spec.get("status", 503), spec.get("target", "services")
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultSpecError("status must be an HTTP error status (400-599)")
    if target not in TARGETS:
        raise FaultSpecError(f"target must be one of {sorted(TARGETS)}")
    return {"count": count, "status": status, "target": target} if count else None


def apply(spec: object) -> dict:
    """Set the faults a POST /api/faults asks for (others stay as they are); returns current()."""
    if not isinstance(spec, dict):
        raise FaultSpecError("send a JSON object")
    changes = _changes(spec)
    with store.transaction() as conn:
        for name, value in changes.items():
            _write(conn, name, value)
    return current()


def clear() -> None:
    """Remove every fault."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM faults")


def _has_any() -> bool:
    with store.connection() as conn:
        return conn.execute("SELECT 1 FROM faults LIMIT 1").fetchone() is not None


def check_service(kind: str) -> None:
    """Before a token, AGS or NRPS call: raise InjectedFault when the LMS is down or told to fail."""
    with store.connection() as conn:
        state = _read(conn)  # the no-fault path: this one read of an empty table
    if not state:
        return
    if _needs_write(state, kind):
        with store.transaction() as conn:
            fault = _service_fault(conn, kind)
            if fault is not None:
                stats.bump("faults_injected", conn)
    else:  # only an unseeded fail_rate (or nothing) applies: decide without writing
        fault = _random_fault(state.get("random"), kind, random)
        if fault is not None:
            stats.bump("faults_injected")
    if fault is not None:  # raised after the commit, so the spent count stays spent
        raise fault


def _applies(target: str, kind: str) -> bool:
    return target in ("services", kind)


def _needs_write(state: dict, kind: str) -> bool:
    """Whether this call may spend a fault (fail_next, a seeded draw) or is refused as down."""
    down_until = state.get("down_until")
    fail, rate = state.get("fail"), state.get("random")
    return bool(
        (down_until and down_until > time.time())
        or (fail and _applies(fail["target"], kind))
        or (rate and _applies(rate["target"], kind) and rate.get("seed") is not None)
    )


def _service_fault(conn: sqlite3.Connection, kind: str) -> InjectedFault | None:
    state = _read(conn)
    down_until = state.get("down_until")
    if down_until and down_until > time.time():
        return InjectedFault(503, "the practice LMS is down (injected fault)", math.ceil(down_until - time.time()))
    fail = state.get("fail")
    if fail and _applies(fail["target"], kind):
        _write(conn, "fail", {**fail, "count": fail["count"] - 1} if fail["count"] > 1 else None)
        retry_after = 1 if fail["status"] in RETRY_AFTER_STATUSES else None
        return InjectedFault(fail["status"], f"injected failure ({fail['status']})", retry_after)
    rate = state.get("random")
    if not rate or not _applies(rate["target"], kind):
        return None
    if rate.get("seed") is None:
        return _random_fault(rate, kind, random)
    draw = rate.get("draws", 0)  # the n-th seeded draw is the same in every process
    _write(conn, "random", {**rate, "draws": draw + 1})
    return _random_fault(rate, kind, random.Random(f"{rate['seed']}:{draw}"))


def _random_fault(rate: dict | None, kind: str, rng) -> InjectedFault | None:
    """fail_rate's draw for this call: a failure with one of fail_statuses, or None."""
    if not rate or not _applies(rate["target"], kind) or rng.random() >= rate["rate"]:
        return None
    status = rng.choice(rate["statuses"])
    retry_after = 1 if status in RETRY_AFTER_STATUSES else None
    return InjectedFault(status, f"injected random failure ({status}; fail_rate {rate['rate']})", retry_after)


def check_unauthorized() -> None:
    """After the bearer token was found good: raise a 401 InjectedFault when one is pending."""
    if _consume("unauthorized"):
        raise InjectedFault(401, "access token not accepted (injected fault)")


def check_score(user_id: str) -> None:
    """Before a score is applied: 400 for the chosen user, 409 when a conflict is pending."""
    if not _has_any():
        return
    with store.connection() as conn:
        bad_user = _read(conn).get("bad_user")
    if bad_user and bad_user == user_id:
        raise InjectedFault(400, f"score for {user_id} refused (injected fault)")
    if _consume("conflict"):
        raise InjectedFault(409, "score refused as a conflict (injected fault)")


def _consume(name: str) -> bool:
    """Take one from a pending count; True when there was one."""
    if not _has_any():
        return False
    with store.transaction() as conn:
        count = _read(conn).get(name, 0)
        if not count:
            return False
        _write(conn, name, count - 1)
        stats.bump("faults_injected", conn)
        return True
