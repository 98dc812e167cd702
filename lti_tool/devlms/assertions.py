"""JWTs the tool signs: its client assertion at the token endpoint (RFC 7523) and its deep linking
response, checked against the tool's public keys fetched over HTTP from its JWKS URL, as a real LMS does."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import requests

from . import modes, tokens
from .modes import Mode

JWKS_TTL = 300
HTTP_TIMEOUT = (3.05, 10)
USER_AGENT = "PracticeLMS/1.0 (lti_tool.devlms; development only)"
LEEWAY = 10
MAX_LIFETIME = 3600


class ClientAuthError(Exception):
    """The assertion does not authenticate a client: RFC 6749 error code and description."""

    def __init__(self, description: str, error: str = "invalid_client", status: int = 401):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class _CachedSet:
    fetched_at: float
    keys: dict[str, dict]


_jwks_cache: dict[str, _CachedSet] = {}
_jwks_lock = threading.Lock()


def fetch_jwks(url: str) -> dict[str, dict]:
    """GET the key set at url: {kid: jwk}. Raises ClientAuthError when it cannot be had."""
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        response.raise_for_status()
        found = response.json().get("keys", [])
    except (requests.RequestException, ValueError, AttributeError) as error:
        raise ClientAuthError(f"could not fetch the tool's JWKS from {url}: {error}") from error
    return {str(k.get("kid", "")): k for k in found if isinstance(k, dict) and k.get("kty") == "RSA"}


def tool_keys(url: str, refresh: bool = False) -> dict[str, dict]:
    """The tool's keys, cached per process for JWKS_TTL seconds; refresh=True refetches."""
    with _jwks_lock:
        cached = _jwks_cache.get(url)
        if cached and not refresh and time.monotonic() - cached.fetched_at < JWKS_TTL:
            return cached.keys
    fresh = fetch_jwks(url)
    with _jwks_lock:
        _jwks_cache[url] = _CachedSet(time.monotonic(), fresh)
    return fresh


def clear_cache() -> None:
    """Forget every cached tool key set."""
    with _jwks_lock:
        _jwks_cache.clear()


def _candidate_keys(url: str, kid: str | None) -> list[dict]:
    """The keys that may have signed: the one named by kid (refetching once when unknown), or all."""
    found = tool_keys(url)
    if kid is None:
        return list(found.values())
    if kid not in found:
        found = tool_keys(url, refresh=True)
    if kid not in found:
        raise ClientAuthError(f"no key with kid {kid!r} in the tool's JWKS at {url}")
    return [found[kid]]


def verify_tool_jwt(token: str, jwks_url: str, audiences: Callable[[Mode], list[str]], required: list[str],
                    what: str) -> tuple[Mode, dict]:
    """Verify a JWT the tool signed (RS256, key from its JWKS): the client's mode (from iss) and the claims.

    audiences(mode) lists the aud values accepted for that client; what names the JWT in errors.
    """
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise ClientAuthError(f"{what} is not a JWT: {error}") from error
    if header.get("alg") != "RS256":
        raise ClientAuthError(f"{what} must be signed with RS256")
    mode = modes.by_client_id(unverified.get("iss"))
    if mode is None:
        raise ClientAuthError(f"{what}: unknown client {unverified.get('iss')!r}")
    jwks_url = mode.tool_jwks_url(jwks_url)  # a dynamically registered client: the JWKS URL it registered
    claims = _decode(token, _candidate_keys(jwks_url, header.get("kid")), audiences(mode), required, what)
    if claims["iat"] > time.time() + LEEWAY:
        raise ClientAuthError(f"{what} iat is in the future")
    return mode, claims


def verify(assertion: str, jwks_url: str, audiences: Callable[[Mode], list[str]]) -> tuple[Mode, dict]:
    """Check a client_assertion; returns the client's mode and the verified claims.

    audiences(mode) lists the aud values accepted for that client (the token URL, the issuer).
    """
    required = ["iss", "sub", "aud", "exp", "iat", "jti"]
    mode, claims = verify_tool_jwt(assertion, jwks_url, audiences, required, "client_assertion")
    _check_claims(mode, claims)
    return mode, claims


def _decode(token: str, candidates: list[dict], audiences: list[str], required: list[str], what: str) -> dict:
    last: Exception | None = None
    for jwk in candidates:
        try:
            return jwt.decode(
                token, jwt.PyJWK(jwk, algorithm="RS256").key, algorithms=["RS256"], audience=audiences,
                leeway=LEEWAY, options={"require": required},
            )
        except jwt.InvalidAudienceError as error:
            raise ClientAuthError(f"{what} aud must be one of {audiences}") from error
        except jwt.InvalidSignatureError as error:
            last = error
        except (jwt.InvalidTokenError, jwt.PyJWKError) as error:
            raise ClientAuthError(f"{what} refused: {error}") from error
    raise ClientAuthError(f"{what} signature does not verify ({last or 'no keys'})")


def _check_claims(mode: Mode, claims: dict) -> None:
    if claims["sub"] != claims["iss"] or claims["iss"] != mode.client_id:
        raise ClientAuthError("client_assertion iss and sub must both be the client_id")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME:
        raise ClientAuthError("client_assertion lives too long (exp - iat > 3600)")
    if not tokens.remember_jti(mode.client_id, str(claims["jti"]), float(claims["exp"]) + LEEWAY):
        raise ClientAuthError("client_assertion jti was already used")
