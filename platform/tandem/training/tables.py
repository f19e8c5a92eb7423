"""Quiz attempts, lesson visits, supervisor unlocks and the content versions a program has seen.

The track itself lives in files (`training_content/`); these tables hold only what mentors did
with it. Every row hangs off a membership and goes when the person deletes their data.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class QuizAttempt(Table, tablename="training_quiz_attempt"):
    """One sitting of a module quiz. The drawn question ids are stored when it starts, so the
    server grades exactly what it showed; `content_version` says which lesson it tested."""

    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    module_id = Varchar(length=64, index=True)
    content_version = Integer()
    question_ids = JSON(default="[]")
    # question id -> the order its options were shown in (shown position -> index in the file).
    option_orders = JSON(default="{}")
    # question id -> chosen option as an index in the file's order; filled on submission.
    answers = JSON(default="{}")
    started_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None, index=True)
    correct_count = Integer(null=True, default=None)
    score = Real(null=True, default=None)
    critical_missed = Integer(null=True, default=None)
    passed = Boolean(null=True, default=None, index=True)


class LessonVisit(Table, tablename="training_lesson_visit"):
    """When a mentor last opened a lesson: a retake after a failure needs a review first."""

    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    module_id = Varchar(length=64)
    content_version = Integer()
    first_opened_at = Timestamptz()
    last_opened_at = Timestamptz()


class AttemptUnlock(Table, tablename="training_attempt_unlock"):
    """A supervisor lifting the lock after three failures, once remediation took place."""

    membership = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.restrict, index=True)
    module_id = Varchar(length=64)
    unlocked_by = Integer()  # the supervisor's membership id; kept if they leave
    remediation = Varchar(length=32)
    unlocked_at = Timestamptz()


class ContentVersion(Table, tablename="training_content_version"):
    """Every module version this installation has served, with its `material_change` flag.

    A pass stays valid until a later version that changed what a mentor must know; the file only
    describes its own version, so the history of material changes is kept here. Rows are written
    at start-up (`services.register_content_versions`), one per (module_id, version): a unique
    index added by migration.
    """

    module_id = Varchar(length=64)
    version = Integer()
    material_change = Boolean()
    first_seen_at = Timestamptz()
