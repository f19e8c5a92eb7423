"""Batch explanations (`engine.propose_many`) say what one-at-a-time ranking says: the chosen
mentor first, then the same alternatives with the same scores, reasons and week grids."""

from __future__ import annotations

import dataclasses
from datetime import date

import matching
from matching.synthetic import synthetic_program
from tandem.matches import engine


def _one_at_a_time(newcomer, index, policy, chosen):  # type: ignore[no-untyped-def]
    """The chosen mentor and the next best, from `matching.rank` (k grown until it is in)."""
    k = 1 + engine.ALTERNATIVES
    while True:
        ranked = matching.rank(newcomer, index, policy, k=k)
        if any(r.mentor_id == chosen for r in ranked) or len(ranked) < k:
            break
        k *= 4
    by_id = {m.id: m for m in index.mentors}
    first = [r for r in ranked if r.mentor_id == chosen]
    others = [r for r in ranked if r.mentor_id != chosen][: engine.ALTERNATIVES]
    return [engine.explanation(r, newcomer, by_id[r.mentor_id], policy) for r in (*first, *others)]


def test_batch_explanations_match_ranking_one_newcomer_at_a_time() -> None:
    program = synthetic_program(200, 80, seed=3)
    # Membership ids are integers in the service; the synthetic ids are "n000001"-style.
    mentors = [dataclasses.replace(m, id=str(i + 1)) for i, m in enumerate(program.mentors)]
    newcomers = [
        dataclasses.replace(n, id=str(i + 1), excluded_mentor_ids=frozenset())
        for i, n in enumerate(program.newcomers)
    ]
    policy = matching.Policy(reference_week=date(2026, 11, 30))
    index = matching.MentorIndex.build(mentors, policy)
    result = matching.assign(newcomers, index, policy)
    by_id = {n.id: n for n in newcomers}
    chosen = [by_id[m.newcomer_id] for m in result.matches]
    batch = engine.propose_many(chosen, index, policy, [m.mentor_id for m in result.matches])
    assert len(batch) == len(result.matches) > 50
    for newcomer, pair, got in zip(chosen, result.matches, batch, strict=True):
        want = _one_at_a_time(newcomer, index, policy, pair.mentor_id)
        assert got[0]["mentor_id"] == int(pair.mentor_id)
        assert [w["mentor_id"] for w in want] == [g["mentor_id"] for g in got]
        for w, g in zip(want, got, strict=True):
            assert abs(w["score"] - g["score"]) < 1e-6
            # Factors with equal points (to float rounding) may be listed in either order.
            assert sorted(w["reasons"]) == sorted(g["reasons"])
            assert (w["shared_grid"], w["shared_hours"]) == (g["shared_grid"], g["shared_hours"])
            assert w["contributions"] == g["contributions"]


def test_no_pairs_no_work() -> None:
    policy = matching.Policy(reference_week=date(2026, 11, 30))
    program = synthetic_program(1, 3, seed=0)
    index = matching.MentorIndex.build(program.mentors, policy)
    assert engine.propose_many([], index, policy, []) == []
