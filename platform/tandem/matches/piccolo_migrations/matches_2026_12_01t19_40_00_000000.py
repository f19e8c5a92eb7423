"""A program's matches, requests and proposals read by status (`core.indexes`)."""

from tandem.core.indexes import composite_indexes

ID = "2026-12-01T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes on program and status"


async def forwards():
    return composite_indexes(
        ID,
        "matches",
        DESCRIPTION,
        {
            "mentor_match_program_status": ("mentor_match", "program, status"),
            "match_request_program_status": ("match_request", "program, status"),
            "match_proposal_program_status": ("match_proposal", "program, status"),
        },
    )
