"""A program's open concerns, counted on the supervisor's home (`core.indexes`)."""

from tandem.core.indexes import composite_indexes

ID = "2026-12-01T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index on program and status"


async def forwards():
    return composite_indexes(
        ID,
        "safety",
        DESCRIPTION,
        {"safety_concern_program_status": ("safety_concern", "program, status")},
    )
