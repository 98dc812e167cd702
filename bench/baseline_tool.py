"""The launch baseline: a minimal pylti1p3 Flask tool (login + launch only). In-process cache, the
platform's JWKS given up front (cached, as a fair baseline), no database. Configured from the
environment by bench/launch.py:

    BASELINE_ISSUER, BASELINE_CLIENT_ID, BASELINE_DEPLOYMENT_ID, BASELINE_AUTH_LOGIN_URL,
    BASELINE_AUTH_TOKEN_URL, BASELINE_JWKS (the platform's key set as JSON), BASELINE_BASE_URL
"""
from __future__ import annotations

import json
import os

from flask import Flask, jsonify
from flask_caching import Cache
from pylti1p3.contrib.flask import FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.tool_config import ToolConfDict


def create_app() -> Flask:
    env = os.environ
    app = Flask(__name__)
    app.config.update(SECRET_KEY="baseline", CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=100_000, CACHE_DEFAULT_TIMEOUT=600)
    cache = Cache(app)
    issuer, client_id = env["BASELINE_ISSUER"], env["BASELINE_CLIENT_ID"]
    conf = ToolConfDict({issuer: [{
        "default": True, "client_id": client_id, "auth_login_url": env["BASELINE_AUTH_LOGIN_URL"],
        "auth_token_url": env["BASELINE_AUTH_TOKEN_URL"], "key_set": json.loads(env["BASELINE_JWKS"]),
        "deployment_ids": [env["BASELINE_DEPLOYMENT_ID"]],
    }]})
    base = env["BASELINE_BASE_URL"]

    def storage():
        return FlaskCacheDataStorage(cache)

    @app.route("/login", methods=["GET", "POST"])
    def login():
        return FlaskOIDCLogin(FlaskRequest(), conf, launch_data_storage=storage()).redirect(base + "/launch")

    @app.post("/launch")
    def launch():
        message = FlaskMessageLaunch(FlaskRequest(), conf, launch_data_storage=storage())
        data = message.get_launch_data()
        return jsonify(sub=data["sub"], role="instructor" if message.check_teacher_access() else "learner")

    return app
