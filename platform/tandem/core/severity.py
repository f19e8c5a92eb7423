"""How urgent something is: one scale for concerns (the safety slice), events and notices."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """S1 (someone may be in danger now) to S4 (worth noting); most events are `info`.
    S1 events also go to each program's on-call endpoints."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    INFO = "info"
