"""The tool's keys: published at /.well-known/jwks.json, rotated with a grace period."""
from __future__ import annotations

from datetime import timedelta

import requests


def published_kids(tool) -> list[str]:
    response = requests.get(tool.base_url + "/.well-known/jwks.json", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    return [k["kid"] for k in response.json()["keys"]]


def test_rotation_keeps_old_key_published_for_grace_period(tool, app_ctx, browser):
    from lti_tool import keys
    from lti_tool.extensions import db
    from lti_tool.models import utcnow

    old = keys.signing_key().kid
    fresh = keys.rotate().kid
    kids = published_kids(tool)
    assert kids[0] == fresh and old in kids

    retired = next(k for k in keys.all_keys() if k.kid == old)
    retired.retired_at = utcnow() - timedelta(days=app_ctx.config["KEY_GRACE_DAYS"], minutes=1)
    db.session.commit()
    assert old not in published_kids(tool)
    # Launches go on with the new key.
    assert browser.launch("u-learner-1").status_code == 200
    db.session.remove()


def test_private_parts_never_published(tool):
    for key in requests.get(tool.base_url + "/.well-known/jwks.json", timeout=5).json()["keys"]:
        assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}
