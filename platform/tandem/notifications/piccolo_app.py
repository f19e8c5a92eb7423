"""Piccolo app for the outbox, webhook endpoints and deliveries, and in-app notices."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.notifications.tables import Delivery, Notice, OutboxEvent, WebhookEndpoint

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[WebhookEndpoint, OutboxEvent, Delivery, Notice],
    migration_dependencies=["tandem.accounts.piccolo_app"],
)
