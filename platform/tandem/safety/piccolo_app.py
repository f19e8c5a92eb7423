"""Piccolo app for boundary and safety concerns (and, beside them, check-ins and self-care)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.safety.care_tables import (
    CheckIn,
    ConversationRequest,
    MentorCareSettings,
    ReturnToUseReport,
    WellbeingCheckIn,
)
from tandem.safety.tables import Concern, ConcernStep

APP_CONFIG = AppConfig(
    app_name="safety",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Concern,
        ConcernStep,
        CheckIn,
        MentorCareSettings,
        ReturnToUseReport,
        WellbeingCheckIn,
        ConversationRequest,
    ],
    migration_dependencies=["tandem.accounts.piccolo_app"],
)
