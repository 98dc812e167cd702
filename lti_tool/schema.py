"""Is the database schema the one this code expects? Checked before serving, so a deploy that
forgot `lti-tool db upgrade` stops with a clear message instead of failing on every request."""
from __future__ import annotations

from typing import Optional

from alembic.config import Config
from flask import Flask
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .extensions import db
from .paths import MIGRATIONS_DIR


def init_migrations(app: Flask) -> None:
    """Bind Flask-Migrate (the `db` commands and flask_migrate.upgrade) to this app."""
    from flask_migrate import Migrate

    if "migrate" not in app.extensions:
        Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)


def upgrade() -> None:
    """Migrate the current app's database to this code's head, as `lti-tool db upgrade` does."""
    from flask import current_app
    from flask_migrate import upgrade as migrate_upgrade

    init_migrations(current_app)
    migrate_upgrade()


def problem() -> Optional[str]:
    """None when the database is at this code's migration head; otherwise what is wrong and what to run."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return (f"the database schema ({', '.join(sorted(current))}) is newer than this code ({', '.join(sorted(heads))}): "
                "deploy the newer code, or restore a matching backup")
    return (f"the database schema is at {', '.join(sorted(current)) or 'nothing (empty database)'} but this code needs "
            f"{', '.join(sorted(heads))}: run `lti-tool db upgrade` first")
