"""What an admin registers in the tool for the practice LMS: one platform per mode."""
from __future__ import annotations

from collections.abc import Mapping

from . import modes, settings


def registrations(config: Mapping) -> list[dict]:
    """One registration per mode: name, issuer, client_id, auth/token/JWKS URLs, deployment_ids, auth_audience."""
    conf = settings.Settings(
        tool_base_url=settings.tool_base_url(config), base_url=settings.lms_base_url(config),
        db_path="", deployment_id=settings.deployment_id(config),
    )
    return [
        {
            "name": f"Practice LMS ({mode.title})",
            "issuer": mode.issuer(conf),
            "client_id": mode.client_id,
            "auth_login_url": conf.auth_url,
            "auth_token_url": conf.token_url,
            "key_set_url": conf.jwks_url,
            "deployment_ids": [conf.deployment_id],
            "auth_audience": None,
        }
        for mode in modes.MODES.values()
    ]
