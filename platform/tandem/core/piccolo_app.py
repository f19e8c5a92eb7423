"""Piccolo app for what every slice shares: the audit trail, rate limits, heartbeats, change
markers."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.core.tables import AuditEvent, EligibilityMarker, Heartbeat, RateLimitCounter

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEvent, RateLimitCounter, Heartbeat, EligibilityMarker],
)
