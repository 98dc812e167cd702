"""Platform registrations and their deployments: what the CLI and registration flows change."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import select

from .extensions import db
from .models import Deployment, Platform


class RegistrationError(Exception):
    pass


def find(issuer: str, client_id: str) -> Optional[Platform]:
    return db.session.scalars(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).first()


def add_platform(
    *, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str, key_set_url: str,
    deployment_ids: Iterable[str], auth_audience: Optional[str] = None, name: str = "",
) -> Platform:
    """Register a platform, or update the one with this issuer and client id; deployments are added, activated."""
    for url in (auth_login_url, auth_token_url, key_set_url):
        if not url.startswith(("https://", "http://")):
            raise RegistrationError(f"not an http(s) URL: {url}")
    platform = find(issuer, client_id) or Platform(issuer=issuer, client_id=client_id)
    platform.name = name or platform.name or issuer
    platform.auth_login_url, platform.auth_token_url = auth_login_url, auth_token_url
    platform.key_set_url, platform.auth_audience = key_set_url, auth_audience or None
    db.session.add(platform)
    db.session.flush()
    for deployment_id in deployment_ids:
        _activate(platform, deployment_id)
    db.session.commit()
    return platform


def _activate(platform: Platform, deployment_id: str) -> Deployment:
    row = next((d for d in platform.deployments if d.deployment_id == deployment_id), None)
    if row is None:
        row = Deployment(platform=platform, deployment_id=deployment_id)
        db.session.add(row)
    row.status = Deployment.ACTIVE
    return row


def activate_deployment(issuer: str, client_id: str, deployment_id: str) -> Deployment:
    platform = find(issuer, client_id)
    if platform is None:
        raise RegistrationError(f"no platform with issuer {issuer} and client id {client_id}")
    row = _activate(platform, deployment_id)
    db.session.commit()
    return row


def remove_platform(issuer: str, client_id: str) -> None:
    platform = find(issuer, client_id)
    if platform is None:
        raise RegistrationError(f"no platform with issuer {issuer} and client id {client_id}")
    db.session.delete(platform)
    db.session.commit()


def list_platforms() -> list[Platform]:
    return list(db.session.scalars(select(Platform).order_by(Platform.id)))
