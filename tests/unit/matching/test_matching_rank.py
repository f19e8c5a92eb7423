"""`rank`: exact top k, explained, deterministic."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import POLICY, mentor, newcomer

from matching import MentorIndex, Policy, Weights, check, rank
from matching.index import NewcomerBatch, evaluate
from matching.synthetic import synthetic_program


def test_results_are_best_first_with_ties_broken_by_id() -> None:
    twins = [mentor(id=i) for i in ("m-c", "m-a", "m-b")]
    assert [r.mentor_id for r in rank(newcomer(), twins, POLICY, k=2)] == ["m-a", "m-b"]


def test_infeasible_mentors_are_never_ranked() -> None:
    guides = [
        mentor(id="m-1"),
        mentor(id="m-2", gender="man"),
        mentor(id="m-3", formats=frozenset()),
    ]
    assert [r.mentor_id for r in rank(newcomer(), guides, POLICY, k=5)] == ["m-1"]
    assert rank(newcomer(), guides, POLICY, k=0) == ()


def test_reasons_are_plain_sentences_for_what_scored() -> None:
    person = newcomer(
        pathways=frozenset({"smart_recovery"}),
        lived_experience=frozenset({"parenting", "veteran"}),
    )
    guide = mentor(
        pathways=frozenset({"smart_recovery", "secular"}),
        availability=((0, 17 * 60, 21 * 60), (2, 19 * 60, 21 * 60)),
        lived_experience=frozenset({"veteran"}),
        current_load=1,
        remaining_capacity=3,
    )
    (result,) = rank(person, [guide], POLICY, k=1)
    assert result.shared_hours == 4
    assert set(result.reasons) == {
        "Both follow SMART Recovery",
        "4 shared hours a week: Mon and Wed 7-9 pm your time",
        "About 3 years further along in recovery",
        "Ways to meet that suit you both: video call",
        "Shared lived experience: veteran",
        "Has room: 1 of 4 places taken",
    }
    assert result.reasons[0] == "Both follow SMART Recovery"


def test_a_partial_pathway_fit_names_both_pathways() -> None:
    (result,) = rank(newcomer(), [mentor(pathways=frozenset({"smart_recovery"}))], POLICY, k=1)
    assert (
        "Your pathway (12-step (AA, NA and similar)) and theirs (SMART Recovery) can work together"
        in result.reasons
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 12), min_hours=st.sampled_from([0, 1, 2]))
def test_rank_is_the_exact_top_k_of_all_feasible_mentors(seed: int, k: int, min_hours: int) -> None:
    program = synthetic_program(6, 40, seed=seed)
    policy = Policy(conflicts=program.conflicts, min_shared_hours=min_hours)
    index = MentorIndex.build(program.mentors, policy)
    for person in program.newcomers:
        ranked = rank(person, index, policy, k=k)
        every = {r.mentor_id: r.score for r in rank(person, index, policy, k=len(program.mentors))}
        feasible = {m.id for m in program.mentors if not check(person, m, policy)}
        assert set(every) == feasible
        expected = sorted(every, key=lambda i: (-every[i], i))[:k]
        assert [r.mentor_id for r in ranked] == expected
        for result in ranked:
            total = 0.0
            for contribution in result.contributions:
                total += contribution.points
            assert total == result.score
            assert 0 <= result.score <= sum(policy.weights.as_tuple())


def test_same_input_same_output_with_or_without_a_prebuilt_index() -> None:
    program = synthetic_program(3, 60, seed=7)
    policy = Policy()
    index = MentorIndex.build(program.mentors, policy)
    for person in program.newcomers:
        assert rank(person, program.mentors, policy, k=5) == rank(person, index, policy, k=5)
        assert rank(person, index, policy, k=5) == rank(person, index, policy, k=5)


def test_an_index_for_another_week_is_refused() -> None:
    index = MentorIndex.build([mentor()], POLICY)
    later = replace(POLICY, reference_week=POLICY.reference_week.replace(day=12))
    with pytest.raises(ValueError, match="reference week"):
        rank(newcomer(), index, later)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_rank_scores_equal_the_whole_block_evaluation(seed: int, k: int) -> None:
    # rank skips hopes/bio similarity for mentors that cannot reach the top k; the scores it
    # returns must still be those of the one full evaluation every other path uses.
    program = synthetic_program(8, 80, seed=seed)
    policy = Policy(conflicts=program.conflicts)
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    everyone = np.arange(len(index))
    block = evaluate(batch, np.arange(len(batch)), index, everyone, policy)
    scores = np.where(block.feasible(), block.score(policy), -np.inf)
    for row, person in enumerate(program.newcomers):
        ranked = rank(person, index, policy, k=k)
        best = sorted(
            (m.id for m, s in zip(program.mentors, scores[row], strict=True) if np.isfinite(s)),
            key=lambda i: (-scores[row, index.position[i]], i),
        )
        assert [r.mentor_id for r in ranked] == best[:k]
        for result in ranked:
            assert result.score == pytest.approx(scores[row, index.position[result.mentor_id]])


def test_negative_or_missing_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="weight hopes_bio"):
        Weights(hopes_bio=-0.1)
    with pytest.raises(ValueError, match="weight pathway"):
        Weights(pathway=float("nan"))
