"""Alembic environment for flask-escalated's own migrations."""

from __future__ import annotations

from alembic import context

from flask_escalated.migrate import VERSION_TABLE, include_own_name
from flask_escalated.models import metadata

config = context.config
app = config.attributes["flask_app"]


def _engine():
    with app.app_context():
        return app.extensions["escalated"].state.db.engine


def run_offline() -> None:
    context.configure(
        url=_engine().url,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=include_own_name,
        render_as_batch=True,
        compare_type=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            include_name=include_own_name,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
