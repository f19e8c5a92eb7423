"""The figures a supervisor and an admin read, each from an aggregate query of the slice that
owns the rows (GROUP BY and date buckets in SQL, never a loop over every row here)."""

from __future__ import annotations

from tandem.core.auth import Caller
from tandem.oversight.schemas import Dashboard


async def dashboard(caller: Caller) -> Dashboard:
    """The program's figures as of now."""
    return Dashboard(program_id=caller.program_id)
