"""Piccolo app for newcomer intake and mentor profiles."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.profiles.tables import DeclinedApplication, MentorProfile, NewcomerProfile

APP_CONFIG = AppConfig(
    app_name="profiles",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[NewcomerProfile, MentorProfile, DeclinedApplication],
    migration_dependencies=["tandem.accounts.piccolo_app"],
)
