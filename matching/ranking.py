"""`check` and `rank`: the hard rules for one pair, and the best mentors for one newcomer."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matching.availability import describe_shared
from matching.factors import pathway_pairs_text
from matching.index import (
    Evaluation,
    Floats,
    Ints,
    MentorIndex,
    NewcomerBatch,
    evaluate,
    with_text,
)
from matching.records import (
    FACTORS,
    Contribution,
    Factor,
    HardRule,
    Mentor,
    Newcomer,
    Policy,
    RankedMentor,
)
from matching.vocabulary import MEETING_FORMATS, PATHWAY_LABELS, MeetingFormat

_FIRST_ROW = np.zeros(1, dtype=np.int64)
ROUNDING_SLACK = 1e-9  # scores summed in another order may differ in the last bits
_FORMAT_WORDS: dict[MeetingFormat, str] = {
    "in_person": "in person",
    "video": "video call",
    "phone": "phone",
    "text": "text messages",
}


def check(newcomer: Newcomer, mentor: Mentor, policy: Policy) -> tuple[HardRule, ...]:
    """The hard rules this pair breaks, by name; empty means the pair may be matched."""
    index = MentorIndex.build([mentor], policy, text=False)
    batch = NewcomerBatch.build([newcomer], index)
    evaluation = evaluate(batch, _FIRST_ROW, index, _FIRST_ROW, policy)
    return tuple(rule for rule, failed in evaluation.failures.items() if failed[0, 0])


def _plural(count: float, word: str) -> str:
    number = f"{count:g}"
    return f"{number} {word}" if count == 1 else f"{number} {word}s"


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _reason(
    factor: Factor,
    newcomer: Newcomer,
    mentor: Mentor,
    index: MentorIndex,
    batch: NewcomerBatch,
    col: int,
    policy: Policy,
) -> str:
    """One plain-language sentence for a factor that scored, written to the newcomer."""
    if factor == "pathway":
        pathways = pathway_pairs_text(newcomer.pathways, mentor.pathways)
        labels = [PATHWAY_LABELS[p] for p in pathways]
        if not labels:
            return "You are open to any pathway"
        if all(p in mentor.pathways and p in newcomer.pathways for p in pathways):
            return f"Both follow {_join(labels)}"
        return f"Your pathway ({labels[0]}) and theirs ({labels[1]}) can work together"
    if factor == "recovery_gap":
        gap = (mentor.recovery_days or 0) - newcomer.recovery_days_or_stage
        if gap >= 365:
            return f"About {_plural(round(gap / 365.25), 'year')} further along in recovery"
        return f"About {_plural(max(1, round(gap / 30.4)), 'month')} further along in recovery"
    if factor == "availability":
        shared = batch.availability[:, 0] & index.availability[:, col]
        hours = float(np.bitwise_count(shared).sum()) / 4
        when = describe_shared(shared, newcomer.time_zone, policy.reference_week)
        return f"{_plural(hours, 'shared hour')} a week: {when} your time"
    if factor == "format":
        usable = [
            _FORMAT_WORDS[f]
            for f in MEETING_FORMATS
            if f in newcomer.formats
            and f in mentor.formats
            and (f != "in_person" or newcomer.area == mentor.area)
        ]
        return f"Ways to meet that suit you both: {_join(usable)}"
    if factor == "area":
        return f"Can meet in person in {mentor.area}"
    if factor == "lived_experience":
        shared_tags = sorted(newcomer.lived_experience & mentor.lived_experience)
        return "Shared lived experience: " + ", ".join(t.replace("_", " ") for t in shared_tags)
    if factor == "hopes_bio" and batch.hopes is not None and index.bios is not None:
        # Read the two sparse rows directly: fancy sparse indexing costs ~0.1 ms a call.
        start, end = index.bios.indptr[col], index.bios.indptr[col + 1]
        terms = index.bios.indices[start:end]
        mine_start, mine_end = batch.hopes.indptr[0], batch.hopes.indptr[1]
        mine = dict(
            zip(
                batch.hopes.indices[mine_start:mine_end].tolist(),
                batch.hopes.data[mine_start:mine_end].tolist(),
                strict=True,
            )
        )
        weights = [
            mine.get(t, 0.0) * v
            for t, v in zip(terms.tolist(), index.bios.data[start:end].tolist(), strict=True)
        ]
        ranked = sorted(range(len(weights)), key=lambda i: -weights[i])[:3]
        top = [index.terms[terms[i]] for i in ranked if weights[i] > 0]
        return f"What you hope for echoes their bio ({', '.join(top)})"
    if factor == "load_balance":
        taken = mentor.current_load
        return f"Has room: {taken} of {taken + mentor.remaining_capacity} places taken"
    raise ValueError(f"no reason text for factor {factor!r}")


def explain(
    newcomer: Newcomer,
    index: MentorIndex,
    batch: NewcomerBatch,
    evaluation: Evaluation,
    cols: Ints,
    chosen: Sequence[int],
    policy: Policy,
) -> tuple[RankedMentor, ...]:
    """Explain one newcomer's evaluation (against mentors `cols`) at the chosen positions."""
    weights = policy.weights.as_tuple()
    results = []
    for at in chosen:
        col = int(cols[at])
        mentor = index.mentors[col]
        contributions = tuple(
            Contribution(factor, float(evaluation.values[factor][0, at]), weight)
            for factor, weight in zip(FACTORS, weights, strict=True)
        )
        score = 0.0
        for contribution in contributions:
            score += contribution.points
        scored = sorted(
            (c for c in contributions if c.points > 0), key=lambda c: -c.points
        )  # sorted() is stable, so equal points keep FACTORS order
        results.append(
            RankedMentor(
                mentor_id=mentor.id,
                score=score,
                contributions=contributions,
                reasons=tuple(
                    _reason(c.factor, newcomer, mentor, index, batch, col, policy) for c in scored
                ),
                shared_hours=float(evaluation.shared_quarters[0, at]) / 4,
            )
        )
    return tuple(results)


def _kth_largest(values: Floats, k: int) -> float:
    """The k-th largest of more than k values, without sorting them all."""
    return float(np.partition(values, len(values) - k)[len(values) - k])


def rank(
    newcomer: Newcomer, mentors: Sequence[Mentor] | MentorIndex, policy: Policy, k: int = 5
) -> tuple[RankedMentor, ...]:
    """The k best feasible mentors for a newcomer, best first, ties broken by mentor id.

    Exact: every mentor is scored. Pass a prebuilt `MentorIndex` to score thousands of mentors in
    about a millisecond; a plain sequence is indexed on the spot.
    """
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex.build(mentors, policy)
    batch = NewcomerBatch.build([newcomer], index)
    cols = index.candidates(batch, 0, policy)
    evaluation = evaluate(batch, _FIRST_ROW, index, cols, policy, text=False)
    feasible = np.flatnonzero(evaluation.feasible()[0])
    if k <= 0 or len(feasible) == 0:
        return ()
    if len(feasible) > k:
        # Hopes/bio similarity is the dearest factor to compute and adds at most its weight
        # (weights are never negative): a mentor whose other points fall short of the k-th best
        # by more than that cannot reach the top k, so it is computed for the rest only.
        rest = evaluation.score(policy)[0, feasible]  # most are feasible: one gather, not eight
        floor = _kth_largest(rest, k) - policy.weights.hopes_bio - ROUNDING_SLACK
        feasible = feasible[rest >= floor]
    evaluation = with_text(evaluation, batch, 0, index, cols, feasible)
    scores = evaluation.score(policy, first_row_at=feasible)
    if len(feasible) > k:
        # Keep every mentor tied with the k-th score so the id tie-break sees them all.
        keep = scores >= _kth_largest(scores, k)
        feasible, scores = feasible[keep], scores[keep]
    order = np.lexsort((cols[feasible], -scores))[:k]  # the index is in id order
    return explain(newcomer, index, batch, evaluation, cols, feasible[order].tolist(), policy)
