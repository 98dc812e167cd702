"""Registrations read by pylti1p3 from our database (issuer and client_id together)."""
from __future__ import annotations

from typing import Optional

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract
from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import keys
from ..extensions import db
from ..models import Deployment, Platform


class ToolRegistration(Registration):
    """A registration that knows our key's kid without re-deriving it from PEM each call."""

    _kid: Optional[str] = None
    _public_jwk: Optional[dict] = None

    def set_tool_key(self, kid: str, private_pem: str, public_jwk: dict) -> "ToolRegistration":
        self._kid, self._public_jwk = kid, public_jwk
        self.set_tool_private_key(private_pem)
        return self

    def get_kid(self) -> Optional[str]:
        return self._kid

    def get_jwks(self):
        return [dict(self._public_jwk)] if self._public_jwk else []


class DbToolConf(ToolConfAbstract):
    """Every issuer may have many client ids (Canvas), so lookups always use both."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_platform(self, iss: str, client_id: Optional[str]) -> Optional[Platform]:
        """The platform for (iss, client_id); without a client_id, the issuer's only one.

        Remembered for the rest of the request: pylti1p3 asks several times per login and launch."""
        memo = g.setdefault("_lti_platforms", {}) if has_app_context() else {}
        if (iss, client_id) not in memo:
            memo[(iss, client_id)] = self._query_platform(iss, client_id)
        return memo[(iss, client_id)]

    @staticmethod
    def _query_platform(iss: str, client_id: Optional[str]) -> Optional[Platform]:
        stmt = select(Platform).where(Platform.issuer == iss)
        if client_id:
            return db.session.scalars(stmt.where(Platform.client_id == client_id)).first()
        found = list(db.session.scalars(stmt.limit(2)))
        return found[0] if len(found) == 1 else None

    def find_registration_by_issuer(self, iss: str, *args, **kwargs) -> Optional[Registration]:
        return self._registration(self.find_platform(iss, None))

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs) -> Optional[Registration]:
        return self._registration(self.find_platform(iss, client_id))

    def find_deployment(self, iss: str, deployment_id: str) -> Optional[LtiDeployment]:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs) -> Optional[LtiDeployment]:
        row = self.find_deployment_row(iss, client_id, deployment_id)
        if row is None or row.status != Deployment.ACTIVE:
            return None
        return LtiDeployment().set_deployment_id(row.deployment_id)

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
    def _registration(platform: Optional[Platform]) -> Optional[Registration]:
        if platform is None:
            return None
        key = keys.signing_key()
        reg = ToolRegistration()
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        reg.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_tool_key(key.kid, key.private_pem, key.public_jwk)
        return reg
