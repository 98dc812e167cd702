"""Tokens the practice LMS issues: signed id_tokens and opaque OAuth2 access tokens."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from . import keys, store

ACCESS_TOKEN_LIFETIME = 3600


def sign_id_token(claims: dict) -> str:
    """The id_token: RS256 with the LMS's key, kid in the header."""
    key = keys.signing_key()
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


@dataclass(frozen=True)
class AccessToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_access_token(client_id: str, scopes: list[str], lifetime: int = ACCESS_TOKEN_LIFETIME) -> str:
    """A new bearer token for client_id with these scopes, stored (hashed) for every worker to check."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with store.transaction() as conn:
        conn.execute("DELETE FROM access_tokens WHERE expires_at < ?", (now - 60,))
        conn.execute(
            "INSERT INTO access_tokens (token_hash, client_id, scopes, expires_at) VALUES (?, ?, ?, ?)",
            (_hash(token), client_id, " ".join(scopes), now + lifetime),
        )
    return token


def find_access_token(token: str) -> AccessToken | None:
    """The live access token with this value, or None when unknown or expired."""
    with store.connection() as conn:
        row = conn.execute(
            "SELECT client_id, scopes, expires_at FROM access_tokens WHERE token_hash = ?", (_hash(token),)
        ).fetchone()
    if row is None or row["expires_at"] <= time.time():
        return None
    return AccessToken(row["client_id"], frozenset(row["scopes"].split()), row["expires_at"])


def expire_access_tokens() -> int:
    """Make every issued access token expire now (for tests of token renewal); returns how many."""
    with store.transaction() as conn:
        return conn.execute("UPDATE access_tokens SET expires_at = 0").rowcount


def remember_jti(client_id: str, jti: str, expires_at: float) -> bool:
    """Record a client assertion's jti; False when it was already used (a replay)."""
    now = time.time()
    with store.transaction() as conn:
        conn.execute("DELETE FROM used_jtis WHERE expires_at < ?", (now - 600,))
        cursor = conn.execute(
            "INSERT OR IGNORE INTO used_jtis (client_id, jti, expires_at) VALUES (?, ?, ?)", (client_id, jti, expires_at)
        )
        return cursor.rowcount == 1
