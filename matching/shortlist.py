"""A cheap estimate of every pair's score, to shortlist candidates for `assign`.

Scoring every pair exactly is what makes a national queue slow (100,000 x 25,000 pairs). The
shortlist scores newcomers in groups that share the blocking keys (the gender they ask for and
their languages) against only the mentors those keys allow, in one compiled pass per block
(numba: every rule and factor of a pair in registers, where numpy made some twenty passes over
the block), on a thread per core, with two shortcuts: availability counted in whole hours (never
lower than the true overlap; in quarter hours, exactly, when the program sets a minimum of shared
hours, which is a hard rule) and the recovery gap in whole weeks of each person's time. Its
feasibility is every hard rule, exactly, including the newcomer's exclusions and recorded
conflicts: a pair that fails one never takes a place on a shortlist, so a newcomer's shortlist is
never filled with mentors they cannot have. `assign` then re-scores the shortlisted pairs exactly
with `index.evaluate`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
from scipy import sparse

from matching.availability import Bitmaps
from matching.factors import GAP_FROM_MINUS_ONE_WEEK, IN_PERSON_BIT, PATHWAY_MASK_FIT
from matching.index import Blocked, Ints, MentorIndex, NewcomerBatch, conflicted
from matching.records import Policy

Float32s = npt.NDArray[np.float32]
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
MOST_QUARTERS = 1 << 10  # above the 672 quarters of a week: the availability table's length


def _compiled(function: F) -> F:
    """Compile with numba: no GIL (the blocks run on threads), cached on disk (see README)."""
    return cast(F, numba.njit(nogil=True, cache=True)(function))


_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_ONE, _TWO, _FOUR, _TOP = np.uint64(1), np.uint64(2), np.uint64(4), np.uint64(56)


@_compiled
def _popcount(x: np.uint64) -> int:
    """Set bits of a 64-bit word (LLVM turns this idiom into one popcnt instruction)."""
    x = x - ((x >> _ONE) & _M1)
    x = (x & _M2) + ((x >> _TWO) & _M2)
    x = (x + (x >> _FOUR)) & _M4
    return int((x * _H01) >> _TOP)


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
    """Per-call lookups and the newcomers' fields in the kernel's types, shared by every block."""

    # Availability points by shared count (whole hours, or quarters under a minimum of shared
    # hours): -inf below the minimum.
    by_count: Float32s
    by_gap: Float32s  # recovery-gap points by week gap + 1, clipped to [0, len - 1]
    area_points: float
    formats: npt.NDArray[np.uint8]
    area: npt.NDArray[np.int32]
    in_person: npt.NDArray[np.bool_]
    strict: npt.NDArray[np.bool_]
    pathways: npt.NDArray[np.uint8]
    weeks: Ints
    tags: npt.NDArray[np.uint64]
    words: Bitmaps  # word-major availability in the counted unit
    format_share: Float32s  # format points per shared format
    tag_share: Float32s  # lived-experience points per shared tag
    # Hopes (newcomers x terms, times the hopes/bio weight) as CSR arrays; empty without text.
    hopes_indptr: Ints
    hopes_terms: Ints
    hopes_points: Float32s
    bios_by_term: sparse.csr_array | None  # terms x mentors
    blocked: tuple[Blocked, ...]  # exclusions and recorded conflicts
    pathway_base: npt.NDArray[np.float64]
    pathway_scale: npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class _Group:
    """One blocking group's newcomers and the mentors they may have, in the kernel's types."""

    rows: Ints
    cols: Ints
    remote: npt.NDArray[np.uint8]
    in_person: npt.NDArray[np.bool_]
    area: npt.NDArray[np.int32]
    pathways: npt.NDArray[np.uint8]
    tags: npt.NDArray[np.uint64]
    weeks: Ints
    words: Bitmaps  # availability words x mentors, each word contiguous
    base: Float32s  # pathway + load points, one row per style
    style_of: Ints  # each row's style
    # Bios (terms x these mentors) as CSR arrays, sliced once for every block; empty without text.
    bios_indptr: Ints
    bios_cols: Ints
    bios_points: Float32s


def _group(rows: Ints, cols: Ints, tables: _Tables, index: MentorIndex, policy: Policy) -> _Group:
    w = policy.weights
    # One row of pathway + load points per distinct way newcomers state their pathways.
    styles = np.stack(
        [tables.pathways[rows], tables.pathway_base[rows], tables.pathway_scale[rows]], axis=1
    )
    style_values, style_of = np.unique(styles, axis=0, return_inverse=True)
    m_pathways = index.pathways[cols]
    fit = PATHWAY_MASK_FIT[style_values[:, 0].astype(np.int64)][:, m_pathways]
    base = (
        w.pathway * (style_values[:, 1:2] + style_values[:, 2:3] * fit)
        + w.load_balance * index.load_room[cols]
    ).astype(np.float32, order="C")
    if tables.bios_by_term is None:
        bios_indptr, bios_cols, bios_points = _NO_TEXT
    else:
        bios = tables.bios_by_term[:, cols]
        bios_indptr = bios.indptr.astype(np.int64)
        bios_cols, bios_points = bios.indices.astype(np.int64), bios.data
    return _Group(
        rows=rows,
        cols=cols,
        remote=(index.formats[cols] & ~IN_PERSON_BIT).astype(np.uint8),
        in_person=(index.formats[cols] & IN_PERSON_BIT) != 0,
        area=index.area[cols].astype(np.int32),
        pathways=m_pathways.astype(np.uint8),
        tags=index.tags[cols],
        weeks=index.recovery[cols] // 7,
        words=np.ascontiguousarray(
            index.availability[:, cols] if policy.min_shared_hours > 0 else index.hours[cols].T
        ),
        base=base,
        style_of=style_of.reshape(-1),
        bios_indptr=bios_indptr,
        bios_cols=bios_cols,
        bios_points=bios_points,
    )


_NO_TEXT: tuple[Ints, Ints, Float32s] = (
    np.zeros(1, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.float32),
)


@_compiled
def _score_kernel(
    rows: Ints,
    styles: Ints,
    n_formats: npt.NDArray[np.uint8],
    n_area: npt.NDArray[np.int32],
    n_in_person: npt.NDArray[np.bool_],
    n_strict: npt.NDArray[np.bool_],
    n_pathways: npt.NDArray[np.uint8],
    n_weeks: Ints,
    n_tags: npt.NDArray[np.uint64],
    n_words: Bitmaps,
    format_share: Float32s,
    tag_share: Float32s,
    hopes_indptr: Ints,
    hopes_terms: Ints,
    hopes_points: Float32s,
    m_remote: npt.NDArray[np.uint8],
    m_in_person: npt.NDArray[np.bool_],
    m_area: npt.NDArray[np.int32],
    m_pathways: npt.NDArray[np.uint8],
    m_tags: npt.NDArray[np.uint64],
    m_weeks: Ints,
    m_words: Bitmaps,
    base: Float32s,
    bios_indptr: Ints,
    bios_cols: Ints,
    bios_points: Float32s,
    by_count: Float32s,
    by_gap: Float32s,
    area_points: float,
    points: bool,
    out: Float32s,
) -> None:
    """Fill `out` (rows x mentors): -inf where a rule fails, else the estimated score (with
    `points=False` the availability points only). The factors are summed in float64."""
    n_words_per_person, n_mentors = m_words.shape
    mine = np.empty(n_words_per_person, dtype=np.uint64)
    last_gap = len(by_gap) - 1
    for i in range(len(rows)):
        r = rows[i]
        formats, area, in_person = n_formats[r], n_area[r], n_in_person[r]
        any_pathway, weeks, tags = not n_strict[r], n_weeks[r], n_tags[r]
        pathways, share, per_tag = n_pathways[r], format_share[r], tag_share[r]
        for word in range(n_words_per_person):
            mine[word] = n_words[word, r]
        row_base = base[styles[i]]
        # No branch on a pair's rules: which pairs fail comes in no pattern the processor
        # could predict, so every pair is scored and a failed rule selects -inf at the end.
        for j in range(n_mentors):
            remote = formats & m_remote[j]
            meet = in_person & m_in_person[j] & (area == m_area[j])
            feasible = ((remote != 0) | meet) & (any_pathway | ((pathways & m_pathways[j]) != 0))
            count = 0
            for word in range(n_words_per_person):
                count += _popcount(mine[word] & m_words[word, j])
            score = np.float64(by_count[count])  # -inf below a minimum of shared hours
            if points:
                score += row_base[j] + _popcount(np.uint64(remote)) * share
                score += meet * (share + area_points) + _popcount(tags & m_tags[j]) * per_tag
                score += by_gap[min(max(m_weeks[j] - weeks + 1, 0), last_gap)]
            out[i, j] = score if feasible else -np.inf
    for i in range(len(rows)):
        r = rows[i]
        if points:
            for at in range(hopes_indptr[r], hopes_indptr[r + 1]):
                term, weight = hopes_terms[at], hopes_points[at]
                for k in range(bios_indptr[term], bios_indptr[term + 1]):
                    out[i, bios_cols[k]] += weight * bios_points[k]


def _score(tables: _Tables, group: _Group, part: slice, *, points: bool = True) -> ShortlistBlock:
    """Estimated scores of a block, -inf where a hard rule fails; with `points=False` only the
    availability points (finite exactly where every rule holds), for searches that need no more.
    """
    rows = group.rows[part]
    scores = np.empty((len(rows), len(group.cols)), dtype=np.float32)
    _score_kernel(
        rows,
        group.style_of[part],
        tables.formats,
        tables.area,
        tables.in_person,
        tables.strict,
        tables.pathways,
        tables.weeks,
        tables.tags,
        tables.words,
        tables.format_share,
        tables.tag_share,
        tables.hopes_indptr,
        tables.hopes_terms,
        tables.hopes_points,
        group.remote,
        group.in_person,
        group.area,
        group.pathways,
        group.tags,
        group.weeks,
        group.words,
        group.base,
        group.bios_indptr,
        group.bios_cols,
        group.bios_points,
        tables.by_count,
        tables.by_gap,
        tables.area_points,
        points,
        scores,
    )
    for blocked in tables.blocked:
        i, j = blocked.hits(rows, group.cols)
        scores[i, j] = -np.inf
    return ShortlistBlock(rows=rows, cols=group.cols, scores=scores)


@_compiled
def top_per_row(scores: Float32s, keep: int) -> tuple[Ints, Float32s, Ints]:
    """Each row's `keep` best finite scores, best first, ties to the smaller column.

    Returns (columns, scores), rows x `keep`, padded with -1 and -inf where a row has fewer,
    and each row's count of finite scores. One pass per row: a score is held only when it
    beats the `keep`-th best held so far (a later column loses a tie), as one integer key that
    orders by descending score, then ascending column (the float's bits, negatives flipped, so
    that they order like the floats); when the held keys fill their room, the best `keep` are
    selected and the floor rises to the worst of them.
    """
    n_rows, n_cols = scores.shape
    best = np.full((n_rows, keep), -1, dtype=np.int64)
    values = np.full((n_rows, keep), -np.inf, dtype=np.float32)
    finite = np.zeros(n_rows, dtype=np.int64)
    keys = np.empty(8 * keep, dtype=np.int64)
    for i in range(n_rows):
        row = scores[i]
        bits = row.view(np.int32)
        floor = -np.inf
        count = 0
        seen = 0
        for j in range(n_cols):
            score = row[j]
            seen += score > -np.inf  # no branch: infeasible pairs come in no pattern
            if score <= floor:  # -inf too, as the floor starts there
                continue
            ordered = np.int64(bits[j])
            if ordered < 0:  # negative floats order backwards; -0.0 is 0.0
                ordered = np.int64(0) if ordered == -(1 << 31) else ordered ^ 0x7FFFFFFF
            keys[count] = (-ordered << 32) + j
            count += 1
            if count == len(keys):  # keep the best `keep`: a selection, not a sort
                keys[:keep] = np.partition(keys, keep - 1)[:keep]
                count = keep
                floor = row[keys[keep - 1] & 0xFFFFFFFF]
        finite[i] = seen
        held = np.partition(keys[:count], keep - 1)[:keep] if count > keep else keys[:count]
        held.sort()
        for k in range(min(count, keep)):
            j = held[k] & 0xFFFFFFFF
            best[i, k] = j
            values[i, k] = row[j]
    return best, values, finite


def _select_scored(
    select: Callable[[ShortlistBlock], T], tables: _Tables, group: _Group, part: slice, points: bool
) -> T:
    """One worker's job: score a block and keep what `select` keeps, so its scores die here."""
    return select(_score(tables, group, part, points=points))


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

    Blocks run on a thread per core (the kernel releases the GIL); `select` keeps only what
    the caller needs, so a block's scores never outlive it. `only_mentors` and `only_rows`
    restrict the columns and rows (ascending); `points=False` scores availability only (see
    `_score`).
    """
    index.require_week(policy)
    w = policy.weights
    usable = index.usable(policy)
    if only_mentors is not None:
        usable = np.intersect1d(usable, only_mentors)
    quarters = policy.min_shared_hours > 0
    hours = np.arange(MOST_QUARTERS) / (4.0 if quarters else 1.0)
    by_count = np.minimum(hours / policy.full_shared_hours, 1.0) * w.availability
    by_count[hours < policy.min_shared_hours] = -np.inf  # the exact rule: quarters / 4 < minimum
    if batch.hopes is None or index.bios_by_term is None:
        hopes_indptr = np.zeros(len(batch) + 1, dtype=np.int64)  # nobody has a term
        _, hopes_terms, hopes_points = _NO_TEXT
        bios_by_term = None
    else:
        hopes_indptr = batch.hopes.indptr.astype(np.int64)
        hopes_terms = batch.hopes.indices.astype(np.int64)
        hopes_points = (batch.hopes.data * w.hopes_bio).astype(np.float32)
        bios_by_term = index.bios_by_term.astype(np.float32)
    tables = _Tables(
        by_count=by_count.astype(np.float32),
        by_gap=(GAP_FROM_MINUS_ONE_WEEK * w.recovery_gap).astype(np.float32),
        area_points=float(w.area),
        formats=batch.formats.astype(np.uint8),
        area=batch.area.astype(np.int32),
        in_person=batch.wants_in_person,
        strict=batch.strict,
        pathways=batch.pathways.astype(np.uint8),
        weeks=batch.recovery // 7,
        tags=batch.tags,
        words=batch.availability if quarters else np.ascontiguousarray(batch.hours.T),
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
        hopes_indptr=hopes_indptr,
        hopes_terms=hopes_terms,
        hopes_points=hopes_points,
        bios_by_term=bios_by_term,
        blocked=(batch.excluded, conflicted(batch, index, policy.conflicts)),
        pathway_base=batch.pathway_base,
        pathway_scale=batch.pathway_scale,
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
