"""The tool's signing keys: made on first need, rotated by the CLI, published as a JWKS."""
from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, g, has_app_context
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import ToolKey, utcnow


def _new_key() -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    jwk = JWK.from_pem(pem.encode("ascii"))  # kid = RFC 7638 thumbprint
    public = json.loads(jwk.export_public())
    public.update({"alg": "RS256", "use": "sig"})
    return ToolKey(kid=public["kid"], private_pem=pem, public_jwk=public)


def signing_key() -> ToolKey:
    """The current signing key, creating the first one if there is none (remembered for the request)."""
    if has_app_context() and g.get("_signing_key") is not None:
        return g._signing_key
    key = _current_signing_key()
    if has_app_context():
        g._signing_key = key
    return key


def _current_signing_key() -> ToolKey:
    key = db.session.scalars(
        select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.id.desc()).limit(1)
    ).first()
    if key is not None:
        return key
    db.session.add(_new_key())
    try:
        db.session.commit()
    except IntegrityError:  # another process made it first
        db.session.rollback()
    return _current_signing_key()


def rotate() -> ToolKey:
    """Retire the signing key (still published for the grace period) and make a new one."""
    now = utcnow()
    for key in db.session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
        key.retired_at = now
    fresh = _new_key()
    db.session.add(fresh)
    db.session.commit()
    if has_app_context():
        g._signing_key = fresh
    return fresh


def published_keys() -> list[ToolKey]:
    """Keys in the JWKS: the signing key and those retired within the grace period."""
    signing_key()
    since = utcnow() - timedelta(days=current_app.config["KEY_GRACE_DAYS"])
    stmt = (
        select(ToolKey)
        .where((ToolKey.retired_at.is_(None)) | (ToolKey.retired_at > since))
        .order_by(ToolKey.id.desc())
    )
    return list(db.session.scalars(stmt))


def all_keys() -> list[ToolKey]:
    return list(db.session.scalars(select(ToolKey).order_by(ToolKey.id)))


def jwks() -> dict:
    return {"keys": [dict(k.public_jwk) for k in published_keys()]}


@lru_cache(maxsize=8)
def load_private_key(pem: str):
    """Parse a PEM once per process: validating an RSA key costs ~25 ms."""
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)
