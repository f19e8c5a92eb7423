"""A cheap estimate of every pair's score, to shortlist candidates for `assign`.

Scoring every pair exactly is what makes a national queue slow (100,000 x 25,000 pairs). The
shortlist scores newcomers in groups that share the blocking keys (the gender they ask for and
their languages) against only the mentors those keys allow, in float32 and narrow integers, on a
thread per core, with two shortcuts: availability counted in whole hours (never lower than the
true overlap; in quarter hours, exactly, when the program sets a minimum of shared hours, which
is a hard rule) and the recovery gap in whole weeks of each person's time. Its feasibility is
every hard rule, exactly, including the newcomer's exclusions and recorded conflicts: a pair that
fails one never takes a place on a shortlist, so a newcomer's shortlist is never filled with
mentors they cannot have. `assign` then re-scores the shortlisted pairs exactly with
`index.evaluate`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matching.availability import Bitmaps
from matching.factors import GAP_BY_WEEK, GAP_FROM_MINUS_ONE_WEEK, IN_PERSON_BIT, PATHWAY_MASK_FIT
from matching.index import Blocked, Bools, Ints, MentorIndex, NewcomerBatch, conflicted
from matching.records import Policy

Float32s = npt.NDArray[np.float32]
T = TypeVar("T")
INFEASIBLE_SHIFT = 10  # bit set in a pair's shared count (at most 672 quarters) when a rule fails


@dataclass(frozen=True, eq=False)
class ShortlistBlock:
    """Estimated scores of some newcomers (rows) x the mentors their group may have (cols)."""

    rows: Ints
    cols: Ints
    scores: Float32s  # -inf where a hard rule fails


def blocking_groups(batch: NewcomerBatch, rows: Ints) -> list[Ints]:
    """`rows` split into groups sharing the blocking keys: the gender asked and the languages."""
    if len(rows) == 0:
        return []
    keys = np.stack([batch.wanted_gender[rows].astype(np.uint64), batch.languages[rows]], axis=1)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    return np.split(rows[order], np.flatnonzero(np.diff(inverse[order])) + 1)


@dataclass(frozen=True, eq=False)
class _Tables:
    """Per-call lookups shared by every block."""

    batch: NewcomerBatch
    # Availability points by shared count (whole hours, or quarters under a minimum of shared
    # hours): -inf below the minimum and from 1 << INFEASIBLE_SHIFT, where a failed rule puts it.
    by_count: Float32s
    newcomer_words: Bitmaps  # word-major availability in the counted unit, newcomers
    blocked: tuple[Blocked, ...]  # exclusions and recorded conflicts
    # Recovery-gap points indexed by the week gap's int16 bits read as uint16: 0..32767 are
    # gaps (capped at the table's end), 32768..65535 negative gaps (0 points). One gather, no clip.
    by_gap: Float32s
    tag_type: type[np.unsignedinteger[Any]]  # the narrowest type holding every tag bit
    format_share: Float32s  # format points per shared format, per newcomer
    tag_share: Float32s  # lived-experience points per shared tag, per newcomer
    hopes: sparse.csr_array | None  # newcomers x terms, times the hopes/bio weight
    bios_by_term: sparse.csr_array | None  # terms x mentors
    area_points: np.float32


@dataclass(frozen=True, eq=False)
class _Group:
    """One blocking group's newcomers and the columns of the mentors they may have."""

    rows: Ints
    cols: Ints
    remote: npt.NDArray[np.uint8]
    in_person: Bools
    area: npt.NDArray[np.int32]
    pathways: npt.NDArray[np.uint8]
    tags: npt.NDArray[np.unsignedinteger[Any]]
    weeks: npt.NDArray[np.int16]
    words: npt.NDArray[np.uint64]  # availability words x mentors, each word contiguous
    base: Float32s  # pathway + load points, one row per style
    bios: sparse.csr_array | None  # terms x these mentors, sliced once for every block
    style_of: Ints  # each row's style


def _group(rows: Ints, cols: Ints, tables: _Tables, index: MentorIndex, policy: Policy) -> _Group:
    w = policy.weights
    batch = tables.batch
    # One row of pathway + load points per distinct way newcomers state their pathways.
    styles = np.stack(
        [batch.pathways[rows], batch.pathway_base[rows], batch.pathway_scale[rows]], axis=1
    )
    style_values, style_of = np.unique(styles, axis=0, return_inverse=True)
    m_pathways = index.pathways[cols]
    fit = PATHWAY_MASK_FIT[style_values[:, 0].astype(np.int64)][:, m_pathways]
    base = (
        w.pathway * (style_values[:, 1:2] + style_values[:, 2:3] * fit)
        + w.load_balance * index.load_room[cols]
    ).astype(np.float32)
    # Narrow integer types: an AND of uint8 columns costs a thirtieth of one of int64.
    return _Group(
        rows=rows,
        cols=cols,
        remote=(index.formats[cols] & ~IN_PERSON_BIT).astype(np.uint8),
        in_person=(index.formats[cols] & IN_PERSON_BIT) != 0,
        area=index.area[cols].astype(np.int32),
        pathways=m_pathways.astype(np.uint8),
        tags=index.tags[cols].astype(tables.tag_type),
        weeks=(index.recovery[cols] // 7).astype(np.int16),
        words=np.ascontiguousarray(
            index.availability[:, cols] if policy.min_shared_hours > 0 else index.hours[cols].T
        ),
        base=base,
        style_of=style_of.reshape(-1),
        bios=None if tables.bios_by_term is None else tables.bios_by_term[:, cols],
    )


def _score(tables: _Tables, group: _Group, part: slice, *, points: bool = True) -> ShortlistBlock:
    """Estimated scores of a block, -inf where a hard rule fails; with `points=False` only the
    availability points (finite exactly where every rule holds), for searches that need no more.
    """
    batch = tables.batch
    rows = group.rows[part]
    remote = batch.formats[rows].astype(np.uint8)[:, None] & group.remote
    in_person = (
        (batch.area[rows].astype(np.int32)[:, None] == group.area)
        & batch.wants_in_person[rows][:, None]
        & group.in_person
    )
    feasible: Bools = (remote != 0) | in_person
    strict = batch.strict[rows]
    if strict.any():
        shares = (batch.pathways[rows].astype(np.uint8)[:, None] & group.pathways) != 0
        feasible &= ~strict[:, None] | shares
    for blocked in tables.blocked:
        i, j = blocked.hits(rows, group.cols)
        feasible[i, j] = False
    # An infeasible pair's count starts past the table's end, where it reads -inf: this marks
    # it for the price of the gather already paid, not a masked write of its own.
    count = (~feasible).view(np.uint8).astype(np.uint16) << INFEASIBLE_SHIFT
    for word, mentor_word in enumerate(group.words):
        count += np.bitwise_count(tables.newcomer_words[word][rows][:, None] & mentor_word)
    scores = tables.by_count.take(count)
    if not points:
        return ShortlistBlock(rows=rows, cols=group.cols, scores=scores)
    scores += group.base[group.style_of[part]]
    share = tables.format_share[rows][:, None]
    scores += np.bitwise_count(remote) * share
    scores += in_person * (share + tables.area_points)
    newcomer_weeks = (batch.recovery[rows] // 7 - 1).astype(np.int16)[:, None]
    # `take`, not `[]`: fancy indexing first copies a narrow index to intp, twice the cost.
    scores += tables.by_gap.take((group.weeks - newcomer_weeks).view(np.uint16))
    if (batch.tag_count[rows] > 0).any():
        shared = np.bitwise_count(batch.tags[rows].astype(tables.tag_type)[:, None] & group.tags)
        scores += shared * tables.tag_share[rows][:, None]
    if tables.hopes is not None and group.bios is not None:
        scores += _text_points(tables.hopes, group.bios, rows)
    return ShortlistBlock(rows=rows, cols=group.cols, scores=scores)


def _select_scored(
    select: Callable[[ShortlistBlock], T], tables: _Tables, group: _Group, part: slice, points: bool
) -> T:
    """One worker's job: score a block and keep what `select` keeps, so its scores die here."""
    return select(_score(tables, group, part, points=points))


def _text_points(hopes: sparse.csr_array, bios: sparse.csr_array, rows: Ints) -> Float32s:
    """Hopes/bio points of `rows` x the group's mentors: sparse hopes times dense bio rows.

    A sparse x sparse product builds its nearly dense result entry by entry; dense rows of bios,
    one per term these newcomers use (a few per newcomer, so at most a few times the block's
    size), make it a few multiply-adds per pair. `bios` holds the group's columns already:
    slicing columns out of the whole matrix costs more than the product, block after block.
    """
    mine = hopes[rows]
    terms, local = np.unique(mine.indices, return_inverse=True)
    theirs = bios[terms].toarray()
    compact = sparse.csr_array(
        (mine.data, local.reshape(-1), mine.indptr), shape=(len(rows), len(terms))
    )
    points: Float32s = compact @ theirs
    return points


def _gap_by_uint16(weight: float) -> Float32s:
    gaps = np.arange(1 << 16).astype(np.uint16).view(np.int16).astype(np.int64)  # week gap + 1
    points = GAP_FROM_MINUS_ONE_WEEK[np.clip(gaps, 0, len(GAP_BY_WEEK))]
    return (points * weight).astype(np.float32)


def shortlist_map(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    select: Callable[[ShortlistBlock], T],
    *,
    pairs_per_block: int,
    only_mentors: Ints | None = None,
    only_rows: Ints | None = None,
    points: bool = True,
) -> list[T]:
    """Estimate scores block by block and return `select` of each block, in a fixed order.

    Blocks run on a thread per core (numpy releases the GIL in its loops); `select` keeps only
    what the caller needs, so a block's scores never outlive it. `only_mentors` and `only_rows`
    restrict the columns and rows (ascending); `points=False` scores availability only (see
    `_score`).
    """
    index.require_week(policy)
    w = policy.weights
    usable = index.usable(policy)
    if only_mentors is not None:
        usable = np.intersect1d(usable, only_mentors)
    quarters = policy.min_shared_hours > 0
    hours = np.arange(1 << INFEASIBLE_SHIFT) / (4.0 if quarters else 1.0)
    by_count = np.minimum(hours / policy.full_shared_hours, 1.0) * w.availability
    by_count[hours < policy.min_shared_hours] = -np.inf  # the exact rule: quarters / 4 < minimum
    tables = _Tables(
        batch=batch,
        by_count=np.concatenate([by_count, np.full(1 << INFEASIBLE_SHIFT, -np.inf)]).astype(
            np.float32
        ),
        newcomer_words=batch.availability if quarters else np.ascontiguousarray(batch.hours.T),
        blocked=(batch.excluded, conflicted(batch, index, policy.conflicts)),
        by_gap=_gap_by_uint16(w.recovery_gap),
        tag_type=next(
            t
            for t in (np.uint8, np.uint16, np.uint32, np.uint64)
            if np.iinfo(t).bits >= len(index.tag_bits)
        ),
        format_share=np.divide(
            w.format,
            np.bitwise_count(batch.formats),
            out=np.zeros(len(batch)),
            where=batch.formats > 0,
        ).astype(np.float32),
        tag_share=np.divide(
            w.lived_experience,
            batch.tag_count,
            out=np.zeros(len(batch)),
            where=batch.tag_count > 0,
        ).astype(np.float32),
        hopes=None if batch.hopes is None else (batch.hopes * w.hopes_bio).astype(np.float32),
        bios_by_term=None if index.bios_by_term is None else index.bios_by_term.astype(np.float32),
        area_points=np.float32(w.area),
    )
    # Every block is queued as soon as its group is ready, so the workers score one group while
    # this thread prepares the next, and small groups never leave a core idle.
    futures: list[Future[T]] = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        everyone = np.arange(len(batch)) if only_rows is None else only_rows
        for rows in blocking_groups(batch, everyone):
            first = rows[0]
            cols = index.allowed(usable, batch.wanted_gender[first], batch.languages[first])
            if len(cols) == 0:
                continue
            group = _group(rows, cols, tables, index, policy)
            step = max(1, pairs_per_block // len(cols))
            futures.extend(
                pool.submit(_select_scored, select, tables, group, slice(s, s + step), points)
                for s in range(0, len(rows), step)
            )
        return [future.result() for future in futures]
