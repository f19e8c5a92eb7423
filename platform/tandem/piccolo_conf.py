"""Piccolo's configuration: the database engine chosen from `DATABASE_URL`, and every slice's app.

Piccolo finds this module through `PICCOLO_CONF=tandem.piccolo_conf` (set by the CLI and tests).
"""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from tandem.core.database import PooledSQLiteEngine
from tandem.settings import Settings


def engine_for(settings: Settings) -> Engine:
    """SQLite for the embedded default, PostgreSQL for anything `postgres://`-shaped."""
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        # The busy timeout lets concurrent writers queue for the write lock instead of failing
        # at once; a writer that waits this long means something is stuck, and says so.
        return PooledSQLiteEngine(
            path=str(settings.sqlite_path),
            busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
        )
    return PostgresEngine(config={"dsn": settings.database_url})


DB = engine_for(Settings.from_env())

APP_REGISTRY = AppRegistry(
    apps=[
        "tandem.core.piccolo_app",
        "tandem.accounts.piccolo_app",
        "tandem.profiles.piccolo_app",
        "tandem.training.piccolo_app",
        "tandem.notifications.piccolo_app",
        "tandem.matches.piccolo_app",
        "tandem.safety.piccolo_app",
    ]
)
