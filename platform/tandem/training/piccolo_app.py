"""Piccolo app for the training slice: attempts, lesson visits, unlocks, content versions."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tandem.training.tables import AttemptUnlock, ContentVersion, LessonVisit, QuizAttempt

APP_CONFIG = AppConfig(
    app_name="training",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[QuizAttempt, LessonVisit, AttemptUnlock, ContentVersion],
    migration_dependencies=["tandem.accounts.piccolo_app"],
)
