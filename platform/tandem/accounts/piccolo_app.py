"""Piccolo app for programs, people, memberships and sessions."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.accounts.tables import Membership, Person, Program, WebSession

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Program, Person, Membership, WebSession],
)
