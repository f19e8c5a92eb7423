"""What the oversight pages and JSON API return: figures only, never a person's records."""

from __future__ import annotations

from msgspec import Struct


class Dashboard(Struct, frozen=True):
    """The supervisor's one screen: each figure with the list behind it."""

    program_id: int
