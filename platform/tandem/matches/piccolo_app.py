"""Piccolo app for the match journey: requests, proposals, offers and matches."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.matches.tables import (
    BatchLease,
    BatchRun,
    MatchProposal,
    MatchWeights,
    MentorMatch,
    MentorOffer,
    MentorRequest,
    PlacesMarker,
    RetryMarker,
)

APP_CONFIG = AppConfig(
    app_name="matches",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        MentorRequest,
        MatchProposal,
        MentorOffer,
        MentorMatch,
        BatchRun,
        BatchLease,
        RetryMarker,
        MatchWeights,
        PlacesMarker,
    ],
    migration_dependencies=["tandem.accounts.piccolo_app"],
)
