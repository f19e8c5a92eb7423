"""Statuses several slices read, as enums rather than bare strings. No web or database imports,
so the pure rules modules (`training/rules.py`, ...) may use them too."""

from __future__ import annotations

from enum import StrEnum


class MembershipStatus(StrEnum):
    """Where a person stands in a program. Mentors start `pending` until a supervisor approves
    (`active`) or declines (`declined`: they may still sign in to read why, and are never
    matched) their application; `inactive` people cannot sign in. (A mentor's pause is on their
    profile, not here: a paused mentor is still an active member.)"""

    PENDING = "pending"
    ACTIVE = "active"
    INACTIVE = "inactive"
    DECLINED = "declined"
