"""The signed, short-lived token that identifies a launch on later requests.

It travels in the page (forms and an X-Launch-Token header), never in a cookie,
so it works inside an LMS frame whose third-party cookies are blocked. CSRF tokens
are derived from its random session id, so a form is only valid for its launch.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "lti-tool.launch-token.v1"


@dataclass(frozen=True)
class LaunchIdentity:
    """Who launched what: every id a request is scoped to.

    A deep linking launch names no activity (activity_id None) and carries `deep_link`, the key of
    its deep linking settings in the cache (kept server-side: the browser never supplies the return URL).
    """

    sid: str
    platform_id: int
    deployment_pk: int
    course_id: int
    activity_id: Optional[int]
    person_id: int
    role: str
    locale: str = "en"
    deep_link: Optional[str] = None

    @classmethod
    def new(cls, **fields) -> "LaunchIdentity":
        return cls(sid=secrets.token_urlsafe(16), **fields)


class TokenExpired(Exception):
    pass


class TokenInvalid(Exception):
    pass


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def issue(identity: LaunchIdentity, secret_key: str) -> str:
    return _serializer(secret_key).dumps(dict(vars(identity)))


def read(token: Optional[str], secret_key: str, max_age: int) -> LaunchIdentity:
    """The identity in a token; TokenExpired or TokenInvalid otherwise."""
    return read_with_age(token, secret_key, max_age)[0]


def read_with_age(token: Optional[str], secret_key: str, max_age: int) -> tuple[LaunchIdentity, float]:
    """The identity in a token and the token's age in seconds; TokenExpired or TokenInvalid otherwise."""
    if not token:
        raise TokenInvalid("no launch token")
    try:
        data, signed_at = _serializer(secret_key).loads(token, max_age=max_age, return_timestamp=True)
        return LaunchIdentity(**data), time.time() - signed_at.timestamp()
    except SignatureExpired as exc:
        raise TokenExpired(str(exc)) from exc
    except (BadSignature, TypeError, ValueError) as exc:
        raise TokenInvalid(str(exc)) from exc


def csrf_token(identity: LaunchIdentity, secret_key: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf:{identity.sid}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(identity: LaunchIdentity, secret_key: str, candidate: Optional[str]) -> bool:
    return bool(candidate) and hmac.compare_digest(csrf_token(identity, secret_key), candidate)
