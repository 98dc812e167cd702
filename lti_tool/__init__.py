"""The partnerships worksheet LTI 1.3 tool."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask
from flask.sessions import SessionInterface

from . import config as settings
from . import logs
from .extensions import babel, cache, db
from .paths import STATIC_DIR, TEMPLATES_DIR


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, routes, CLI. No I/O beyond reading settings.

    Migrations (Alembic) are not loaded here: a serving worker never needs them, and they would
    cost each worker about 11 MB. The CLI's app (create_cli_app) and schema.upgrade() load them."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or None
    app = Flask(
        __name__, instance_path=instance_path, instance_relative_config=True,
        template_folder=str(TEMPLATES_DIR), static_folder=str(STATIC_DIR),
    )
    app.config.update(settings.load(app.instance_path, test_config))
    logs.configure(app.config["LOG_LEVEL"])
    register_extensions(app)
    register_proxy(app)
    register_blueprints(app)
    register_hooks(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    # No cookie sessions: after a launch the page carries its launch token (lti/launch_token.py), and
    # inside an LMS frame a session cookie would be third-party anyway. Nothing reads one per request.
    app.session_interface = NoSessions()
    db.init_app(app)
    cache.init_app(app, config=app.config["CACHE_CONFIG"])
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)


def register_proxy(app: Flask) -> None:
    if app.config["BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def register_blueprints(app: Flask) -> None:
    from .views import deep_linking, health, instructor, learner, lti, registration

    for module in (lti, learner, instructor, deep_linking, health, registration):
        app.register_blueprint(module.bp)
    if app.config["DEV_LMS"]:
        from . import devlms

        devlms.init_app(app)


def register_hooks(app: Flask) -> None:
    from .views import errors, template_helpers

    errors.init_app(app)
    template_helpers.init_app(app)


def register_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)


class NoSessions(SessionInterface):
    """Flask's null session on every request: using it is an error, and no cookie is read or set."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None


def create_cli_app() -> Flask:
    """The app of `lti-tool`: create_app() with the `db` commands of Flask-Migrate."""
    from . import schema

    app = create_app()
    schema.init_migrations(app)
    return app
