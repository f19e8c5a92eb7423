"""Tandem's matching engine: hard rules, explained scores, whole-queue assignment, learned weights.

Plain data in, plain data out: no web, database or clock. The service passes only eligible mentors
(approved, trained, not paused); the engine applies the hard rules, scores the soft factors and
explains itself.

>>> from matching import Mentor, Newcomer, Policy, assign, check, rank
>>> policy = Policy()
>>> ana = Newcomer(
...     id="n-1",
...     gender="woman",
...     time_zone="America/New_York",
...     languages=frozenset({"en"}),
...     formats=frozenset({"video", "phone"}),
...     availability=((0, 19 * 60, 21 * 60), (2, 19 * 60, 21 * 60)),  # Mon, Wed 7-9 pm
...     pathways=frozenset({"smart_recovery"}),
...     recovery_stage="1_to_3_months",
...     hopes="Staying sober while parenting two kids",
...     lived_experience=frozenset({"parenting"}),
... )
>>> bea = Mentor(
...     id="m-1",
...     gender="woman",
...     time_zone="America/Chicago",
...     languages=frozenset({"en", "es"}),
...     formats=frozenset({"video"}),
...     remaining_capacity=2,
...     recovery_days=5 * 365,
...     availability=((0, 18 * 60, 20 * 60), (2, 18 * 60, 20 * 60)),  # 7-9 pm in New York
...     pathways=frozenset({"smart_recovery"}),
...     bio="Mother of three; SMART Recovery helped me through parenting in early recovery",
...     lived_experience=frozenset({"parenting"}),
... )
>>> cy = Mentor(
...     id="m-2",
...     gender="man",
...     time_zone="America/New_York",
...     languages=frozenset({"en"}),
...     formats=frozenset({"video"}),
...     remaining_capacity=1,
...     recovery_days=3 * 365,
... )
>>> check(ana, cy, policy)
('gender_choice',)
>>> best = rank(ana, [bea, cy], policy, k=3)
>>> [m.mentor_id for m in best]
['m-1']
>>> for reason in best[0].reasons:
...     print(reason)
Both follow SMART Recovery
Shared lived experience: parenting
4 shared hours a week: Mon and Wed 7-9 pm your time
About 5 years further along in recovery
Ways to meet that suit you both: video call
Has room: 0 of 2 places taken
What you hope for echoes their bio (parenting)
>>> round(sum(c.points for c in best[0].contributions), 6) == round(best[0].score, 6)
True
>>> result = assign([ana], [bea, cy], policy)
>>> [(m.newcomer_id, m.mentor_id) for m in result.matches], result.unmatched
([('n-1', 'm-1')], ())
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors; at run time `__getattr__` below
    from matching.assignment import assign
    from matching.index import MentorIndex
    from matching.learning import fit_weights
    from matching.ranking import check, rank
    from matching.records import (
        FACTORS,
        RULE_LABELS,
        Assignment,
        Contribution,
        Factor,
        HardRule,
        Match,
        Mentor,
        Newcomer,
        Outcome,
        PastMatch,
        Policy,
        RankedMentor,
        Slot,
        Unmatched,
        WeightFit,
        Weights,
    )

# The public names are imported on first use, from the first of these modules that has them: the
# service reads `matching.vocabulary` for its form labels, and importing a submodule runs this file
# first, so eager imports here put numpy, scipy and the factor tables (half a second) into every
# process's start-up.
_MODULES = ("matching.records", "matching.ranking", "matching.assignment", "matching.learning")

__all__ = [
    "FACTORS",
    "RULE_LABELS",
    "Assignment",
    "Contribution",
    "Factor",
    "HardRule",
    "Match",
    "Mentor",
    "MentorIndex",
    "Newcomer",
    "Outcome",
    "PastMatch",
    "Policy",
    "RankedMentor",
    "Slot",
    "Unmatched",
    "WeightFit",
    "Weights",
    "assign",
    "check",
    "fit_weights",
    "rank",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name in __all__:
        for module in _MODULES:
            found = getattr(import_module(module), name, None)
            if found is not None:
                globals()[name] = found
                return found
    raise AttributeError(f"module 'matching' has no attribute {name!r}")
