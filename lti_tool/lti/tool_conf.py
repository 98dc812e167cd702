"""Registrations read by pylti1p3 from our database (issuer and client_id together)."""
from __future__ import annotations

import time
from typing import Callable, Optional

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from flask import current_app
from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from .. import keys
from ..extensions import db
from ..models import Deployment, Platform, ToolKey


# How long a server process trusts what it read of a registration: changes made elsewhere (the CLI,
# another instance) reach a running server within this time. Only what was found is remembered, so a
# new platform or a newly activated deployment works at once.
REGISTRATION_TTL = 10.0
_remembered_rows: dict[tuple, tuple[float, Row]] = {}


def _remembered(key: tuple, load: Callable[[], Optional[Row]]) -> Optional[Row]:
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], *key)
    now = time.monotonic()
    hit = _remembered_rows.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = load()
    if row is not None:
        _remembered_rows[key] = (now + REGISTRATION_TTL, row)
    else:
        _remembered_rows.pop(key, None)
    return row


def forget_registrations() -> None:
    """Read registrations from the database again (after this process changed one)."""
    _remembered_rows.clear()


class ToolRegistration(Registration):
    """A registration whose tool key is read only when something signs with it (service tokens,
    deep linking answers): a launch never needs it, so it costs no query there. The kid comes with
    the key row instead of being re-derived from PEM on each call."""

    _tool_key: Optional[ToolKey] = None

    def _key(self) -> ToolKey:
        if self._tool_key is None:
            self._tool_key = keys.signing_key()
        return self._tool_key

    def get_tool_private_key(self) -> Optional[str]:
        return self._key().private_pem

    def get_kid(self) -> Optional[str]:
        return self._key().kid

    def get_jwks(self):
        return [dict(self._key().public_jwk)]


class DbToolConf(ToolConfAbstract):
    """Every issuer may have many client ids (Canvas), so lookups always use both."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_platform(self, iss: str, client_id: Optional[str]) -> Optional[Row]:
        """The platform for (iss, client_id); without a client_id, the issuer's only one."""
        return _remembered(("platform", iss, client_id), lambda: self._query_platform(iss, client_id))

    @staticmethod
    def _query_platform(iss: str, client_id: Optional[str]) -> Optional[Row]:
        stmt = select(*Platform.__table__.columns).where(Platform.issuer == iss)
        if client_id:
            return db.session.execute(stmt.where(Platform.client_id == client_id)).first()
        found = db.session.execute(stmt.limit(2)).all()
        return found[0] if len(found) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Optional[Registration]:
        return self._registration(self.find_platform(iss, None))

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs) -> Optional[Registration]:
        return self._registration(self.find_platform(iss, client_id))

    def find_deployment(self, iss: str, deployment_id: str) -> Optional[LtiDeployment]:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs) -> Optional[LtiDeployment]:
        row = self.active_deployment(iss, client_id, deployment_id)
        return None if row is None else LtiDeployment().set_deployment_id(row.deployment_id)

    def active_deployment(self, iss: str, client_id: Optional[str], deployment_id: str) -> Optional[Row]:
        """(id, platform_id) of an active deployment; None when unknown or pending."""
        def load() -> Optional[Row]:
            platform = self.find_platform(iss, client_id)
            if platform is None:
                return None
            return db.session.execute(select(Deployment.id, Deployment.platform_id, Deployment.deployment_id).where(
                Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id,
                Deployment.status == Deployment.ACTIVE)).first()

        return _remembered(("deployment", iss, client_id, deployment_id), load)

    def find_deployment_row(self, iss: str, client_id: Optional[str], deployment_id: str) -> Optional[Deployment]:
        platform = self.find_platform(iss, client_id)
        if platform is None:
            return None
        return db.session.scalars(
            select(Deployment).where(
                Deployment.platform_id == platform.id, Deployment.deployment_id == deployment_id
            )
        ).first()

    def record_pending_deployment(self, iss: str, client_id: str, deployment_id: str) -> None:
        """Remember a deployment id seen in a refused launch so an admin can activate it."""
        platform = self.find_platform(iss, client_id)
        if platform is None or self.find_deployment_row(iss, client_id, deployment_id):
            return
        db.session.add(Deployment(platform_id=platform.id, deployment_id=deployment_id, status=Deployment.PENDING))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()

    def get_jwks(self, iss=None, client_id=None, **kwargs):
        return keys.jwks()

    @staticmethod
    def _registration(platform: Optional[Row]) -> Optional[Registration]:
        if platform is None:
            return None
        reg = ToolRegistration()
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        reg.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        return reg
