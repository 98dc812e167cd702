"""The practice LMS's RSA signing key (kept in its database) and its other secrets."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import settings, store

PRIVATE_KEY = "rsa_private_key_pem"
HINT_SECRET = "message_hint_secret"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    public_jwk: dict


_cache: dict[str, SigningKey] = {}
_cache_lock = threading.Lock()
_secrets: dict[str, bytes] = {}


def b64url_uint(value: int) -> str:
    """An unsigned integer as base64url without padding (JWK n and e)."""
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict) -> str:
    """RFC 7638 SHA-256 thumbprint of an RSA JWK."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")


def _new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _load(pem: str) -> SigningKey:
    private_key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    numbers = private_key.public_key().public_numbers()
    jwk = {"kty": "RSA", "e": b64url_uint(numbers.e), "n": b64url_uint(numbers.n)}
    kid = thumbprint(jwk)
    return SigningKey(kid=kid, private_key=private_key, public_jwk={**jwk, "kid": kid, "alg": "RS256", "use": "sig"})


def signing_key() -> SigningKey:
    """The LMS's key pair, made on first use; loaded once per process (loading a PEM costs ~25 ms)."""
    path = settings.current().db_path
    cached = _cache.get(path)
    if cached is not None:
        return cached
    with _cache_lock:
        if path not in _cache:
            _cache[path] = _load(store.get_or_create_meta(PRIVATE_KEY, _new_private_pem))
        return _cache[path]


def jwks() -> dict:
    """The public key set: {"keys": [...]}."""
    return {"keys": [signing_key().public_jwk]}


def hint_secret() -> bytes:
    """The HMAC secret that signs lti_message_hint values, shared by every worker through the DB."""
    path = settings.current().db_path
    secret = _secrets.get(path)
    if secret is None:
        secret = _secrets[path] = bytes.fromhex(store.get_or_create_meta(HINT_SECRET, lambda: secrets.token_hex(32)))
    return secret
