"""The outcome loop for supervisors: learn match weights from how the program's past matches
turned out, for a person to adopt or reject.

`matches` owns the weights and the history but cannot read concerns (safety sits above it), so
the "a concern was raised" signal is read here and handed down.
"""

from __future__ import annotations

from tandem.core.auth import Caller
from tandem.matches import services as matches
from tandem.matches.schemas import WeightsSuggestionOut
from tandem.safety import services as safety


async def suggest_weights(caller: Caller) -> WeightsSuggestionOut:
    """Fit weights on the program's outcomes, concerns included; a suggestion or why not."""
    concerns = await safety.match_ids_with_concerns(caller.program_id)
    return await matches.suggest_weights(caller, set(concerns))
