"""A cheap estimate of every pair's score, to shortlist candidates for `assign`.

Scoring every pair exactly is what makes a national queue slow (100,000 x 25,000 pairs). The
shortlist scores newcomers in groups that share the blocking keys (the gender they ask for and
their languages) against only the mentors those keys allow, in float32, with three shortcuts:
availability counted in whole hours (never lower than the true overlap), the recovery gap in
whole weeks of each person's time, and the hopes/bio similarity left out (it is worth at most its
weight). Its feasibility is the exact hard rules except the three checked later on each candidate
pair (minimum shared hours, exclusions, conflicts of interest), so it never drops a feasible
pair; `assign` then re-scores the shortlisted pairs exactly with `index.evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matching.availability import hour_bitmaps
from matching.factors import GAP_BY_WEEK, IN_PERSON_BIT, PATHWAY_MASK_FIT
from matching.index import Bools, Ints, MentorIndex, NewcomerBatch
from matching.records import Policy

Float32s = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class ShortlistBlock:
    """Estimated scores of some newcomers (rows) x the mentors their group may have (cols)."""

    rows: Ints
    cols: Ints
    scores: Float32s  # -inf where a hard rule fails


def _groups(batch: NewcomerBatch) -> list[Ints]:
    """Newcomers sharing the blocking keys: the gender they ask for and their languages."""
    if len(batch) == 0:
        return []
    keys = np.stack([batch.wanted_gender.astype(np.uint64), batch.languages], axis=1)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    bounds = np.flatnonzero(np.diff(inverse.reshape(-1)[order])) + 1
    return np.split(order, bounds)


def shortlist_blocks(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    pairs_per_block: int,
    only_mentors: Ints | None = None,
) -> Iterator[ShortlistBlock]:
    """Estimated scores, group by group and block by block (optionally for some mentors only)."""
    w = policy.weights
    usable = index.usable(policy)
    if only_mentors is not None:
        usable = np.intersect1d(usable, only_mentors)
    newcomer_hours = hour_bitmaps(batch.availability)
    mentor_hours = hour_bitmaps(index.availability)
    # Tables indexed by shared hours and by weeks of gap (+1, so index 0 = not ahead).
    by_hours = np.minimum(np.arange(169) / policy.full_shared_hours, 1.0) * w.availability
    by_gap = np.concatenate(([0.0], GAP_BY_WEEK)) * w.recovery_gap
    gap_top = len(by_gap) - 1
    format_share = np.divide(
        w.format,
        np.bitwise_count(batch.formats),
        out=np.zeros(len(batch)),
        where=batch.formats > 0,
    )
    tag_share = np.divide(
        w.lived_experience, batch.tag_count, out=np.zeros(len(batch)), where=batch.tag_count > 0
    )
    for group in _groups(batch):
        first = group[0]
        wanted = batch.wanted_gender[first]
        cols = usable[
            ((index.languages[usable] & batch.languages[first]) != 0)
            & ((wanted < 0) | (index.gender[usable] == wanted))
        ]
        if len(cols) == 0:
            continue
        # Narrow integer types: an AND of uint8 columns costs a thirtieth of one of int64.
        m_remote = (index.formats[cols] & ~IN_PERSON_BIT).astype(np.uint8)
        m_in_person = (index.formats[cols] & IN_PERSON_BIT) != 0
        m_area = index.area[cols].astype(np.int32)
        m_pathways = index.pathways[cols].astype(np.uint8)
        m_tags = index.tags[cols]
        m_weeks = (index.recovery[cols] // 7).astype(np.int16)
        m_hours = mentor_hours[cols]
        bios = None
        if batch.hopes is not None and index.bios is not None:
            bios = sparse.csr_array((index.bios[cols] * w.hopes_bio).T.astype(np.float32))
        # One row of pathway + load points per distinct way newcomers state their pathways.
        styles = np.stack(
            [batch.pathways[group], batch.pathway_base[group], batch.pathway_scale[group]], axis=1
        )
        style_values, style_of = np.unique(styles, axis=0, return_inverse=True)
        style_of = style_of.reshape(-1)
        fit = PATHWAY_MASK_FIT[style_values[:, 0].astype(np.int64)][:, m_pathways]
        base = (
            w.pathway * (style_values[:, 1:2] + style_values[:, 2:3] * fit)
            + w.load_balance * index.load_room[cols]
        ).astype(np.float32)
        step = max(1, pairs_per_block // len(cols))
        for start in range(0, len(group), step):
            part = slice(start, start + step)
            rows = group[part]
            scores = base[style_of[part]]
            remote = batch.formats[rows].astype(np.uint8)[:, None] & m_remote
            in_person = (
                (batch.area[rows].astype(np.int32)[:, None] == m_area)
                & batch.wants_in_person[rows][:, None]
                & m_in_person
            )
            feasible: Bools = (remote != 0) | in_person
            strict = batch.strict[rows]
            if strict.any():
                shares = (batch.pathways[rows].astype(np.uint8)[:, None] & m_pathways) != 0
                feasible &= ~strict[:, None] | shares
            share = format_share[rows][:, None].astype(np.float32)
            scores += np.bitwise_count(remote) * share
            scores += in_person * (share + np.float32(w.area))
            newcomer_weeks = (batch.recovery[rows] // 7 - 1).astype(np.int16)[:, None]
            gap = np.clip(m_weeks - newcomer_weeks, 0, gap_top)
            scores += by_gap.astype(np.float32)[gap]
            hours = np.zeros(scores.shape, dtype=np.uint8)
            for word in range(3):
                hours += np.bitwise_count(newcomer_hours[rows, word][:, None] & m_hours[:, word])
            scores += by_hours.astype(np.float32)[hours]
            if (batch.tag_count[rows] > 0).any():
                shared = np.bitwise_count(batch.tags[rows][:, None] & m_tags)
                scores += shared * tag_share[rows][:, None].astype(np.float32)
            if bios is not None:
                scores += (batch.hopes[rows].astype(np.float32) @ bios).toarray()
            scores[~feasible] = -np.inf
            yield ShortlistBlock(rows=rows, cols=cols, scores=scores)
