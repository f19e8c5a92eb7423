"""A person's unread notices, counted on every signed-in page (`core.indexes`)."""

from tandem.core.indexes import composite_indexes

ID = "2026-12-01T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index on recipient, program and read time"


async def forwards():
    return composite_indexes(
        ID,
        "notifications",
        DESCRIPTION,
        {"notice_unread": ("notice", "recipient, program, read_at")},
    )
