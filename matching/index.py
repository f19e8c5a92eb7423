"""Vectorised hard rules and factors over a prebuilt mentor index.

`MentorIndex` encodes the mentors once (bitmasks for languages, formats, pathways and lived
experience, UTC availability bitmaps for the policy's reference week, a TF-IDF matrix of bios) so
that `rank` scores one newcomer against every mentor in well under a millisecond per thousand
mentors, and `assign` scores blocks of newcomers at a time. `check`, `rank` and `assign` all go
through `evaluate`, so a rule or factor is defined exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from itertools import repeat
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matching.availability import Bitmaps, hour_bitmaps, shared_quarters, utc_bitmaps
from matching.factors import (
    ALL_FORMATS,
    FORMAT_FIT,
    IN_PERSON_BIT,
    NO_PATHWAY_GIVEN_FIT,
    PATHWAY_MASK_FIT,
    mask_of,
    recovery_gap_fit,
)
from matching.records import FACTORS, Factor, HardRule, Mentor, Newcomer, Policy
from matching.vocabulary import GENDERS, MEETING_FORMATS, PATHWAYS

T = TypeVar("T", bound=np.generic)
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
MAX_WORDS = 64  # languages and lived-experience tags are 64-bit masks
FEW_ROWS = 4  # text similarity for up to this many newcomers is read from the CSR arrays directly


def _vocabulary(sets: Sequence[frozenset[str]], what: str) -> dict[str, int]:
    words = sorted({w for s in sets for w in s})
    if len(words) > MAX_WORDS:
        raise ValueError(f"at most {MAX_WORDS} distinct {what} are supported, got {len(words)}")
    return {w: i for i, w in enumerate(words)}


def _masks(sets: Sequence[frozenset[str]], bits: dict[str, int]) -> npt.NDArray[np.uint64]:
    """Each set as a bitmask, worked out once per distinct set (people share a few hundred)."""
    mask = {s: sum(1 << bits[w] for w in s if w in bits) for s in set(sets)}
    return np.fromiter((mask[s] for s in sets), dtype=np.uint64, count=len(sets))


def _word_major_availability(
    people: Sequence[Newcomer] | Sequence[Mentor], reference_week: dt.date
) -> Bitmaps:
    """People's UTC availability bitmaps stored word-major (WORDS x people): `shared_quarters`
    then gathers one contiguous row per word."""
    bitmaps = utc_bitmaps(
        [p.availability for p in people], [p.time_zone for p in people], reference_week
    )
    return np.ascontiguousarray(bitmaps.T)


@dataclass(frozen=True, eq=False)
class TextModel:
    """TF-IDF fitted on the mentors' bios, applied to newcomers' hopes without sklearn's overhead.

    `TfidfVectorizer.transform` spends about half a millisecond validating its input (a quarter
    of `rank`'s budget) and counts each text's terms in Python. This applies the same fitted
    preprocessor, tokenizer, vocabulary and idf (sublinear tf, L2 norm), counting every text's
    terms in one numpy pass; stop words need no filter since the fit left them out of the
    vocabulary. A test holds it equal to scikit-learn's.
    """

    preprocess: Callable[[str], str]
    tokenize: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: Floats

    @classmethod
    def fit(cls, bios: Sequence[str]) -> tuple[TextModel, sparse.csr_array] | None:
        """The model and the bios' matrix (mentors x terms), or None when there are no words."""
        if not any(bios):
            return None
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float64)
        try:
            matrix = vectorizer.fit_transform(bios)
        except ValueError:  # empty vocabulary: every bio blank or stop words only
            return None
        model = cls(
            vectorizer.build_preprocessor(),
            vectorizer.build_tokenizer(),
            dict(vectorizer.vocabulary_),
            vectorizer.idf_,
        )
        return model, sparse.csr_array(matrix)

    def transform(self, texts: Sequence[str]) -> sparse.csr_array:
        """Texts x terms, each row L2-normalised (all zeros when no known term)."""
        lookup = self.vocabulary.get
        found: list[int] = []
        lengths = np.empty(len(texts), dtype=np.int64)
        for at, text in enumerate(texts):  # flat ids, not a list of tokens kept per text
            tokens = self.tokenize(self.preprocess(text))
            lengths[at] = len(tokens)
            found.extend(map(lookup, tokens, repeat(-1)))
        term = np.array(found, dtype=np.int64)
        row = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        known = term >= 0
        n_terms = len(self.vocabulary)
        keys, counts = np.unique(row[known] * n_terms + term[known], return_counts=True)
        row_of, columns = np.divmod(keys, n_terms)
        weights = (1.0 + np.log(counts)) * self.idf[columns]
        norms = np.sqrt(np.bincount(row_of, weights=weights**2, minlength=len(texts)))
        weights /= norms[row_of]
        indptr = np.searchsorted(row_of, np.arange(len(texts) + 1))
        return sparse.csr_array((weights, columns, indptr), shape=(len(texts), n_terms))


@dataclass(frozen=True, eq=False)
class MentorIndex:
    """The mentors, encoded once for a policy's reference week; reused by `rank` and `assign`.

    Mentors are kept in id order, whatever order they came in: every tie the engine breaks by
    position (the shortlist's cut, the flow's choice among equal totals, `rank`'s equal scores)
    is then broken by id, so the same mentors in any order give the same answer.
    """

    mentors: tuple[Mentor, ...]
    reference_week: dt.date
    position: dict[str, int]
    gender: npt.NDArray[np.int8]
    languages: npt.NDArray[np.uint64]
    formats: npt.NDArray[np.int64]
    pathways: npt.NDArray[np.int64]
    area: Ints
    tags: npt.NDArray[np.uint64]
    recovery: Ints  # -1 when not given
    remaining: Ints
    load_room: Floats  # share of the mentor's places still free
    availability: Bitmaps  # word-major: WORDS x mentors
    language_bits: dict[str, int]
    tag_bits: dict[str, int]
    area_codes: dict[str, int]
    text: TextModel | None
    bios: sparse.csr_array | None  # mentors x terms, for pair-by-pair similarity
    bios_by_term: sparse.csr_array | None  # terms x mentors, for the shortlist
    terms: tuple[str, ...]
    usable_by_minimum: dict[int, Bools] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, mentors: Sequence[Mentor], policy: Policy, *, text: bool = True) -> MentorIndex:
        """Encode the mentors; ids must be unique.

        `text=False` skips TF-IDF (the hopes/bio factor is then 0), for callers that only need
        the hard rules and should not pay scikit-learn's import time.
        """
        mentors = tuple(sorted(mentors, key=lambda m: m.id))
        position = {m.id: i for i, m in enumerate(mentors)}
        if len(position) != len(mentors):
            raise ValueError("mentor ids must be unique")
        language_bits = _vocabulary([m.languages for m in mentors], "languages")
        tag_bits = _vocabulary([m.lived_experience for m in mentors], "lived-experience tags")
        area_codes = {a: i for i, a in enumerate(sorted({m.area for m in mentors if m.area}))}
        load = np.array([m.current_load for m in mentors], dtype=np.int64)
        remaining = np.array([m.remaining_capacity for m in mentors], dtype=np.int64)
        total = load + np.maximum(remaining, 0)
        fitted = TextModel.fit([m.bio for m in mentors] if text else [])
        bios = None if fitted is None else fitted[1]
        return cls(
            mentors=mentors,
            reference_week=policy.reference_week,
            position=position,
            gender=np.array([GENDERS.index(m.gender) for m in mentors], dtype=np.int8),
            languages=_masks([m.languages for m in mentors], language_bits),
            formats=np.array([mask_of(m.formats, MEETING_FORMATS) for m in mentors], np.int64),
            pathways=np.array([mask_of(m.pathways, PATHWAYS) for m in mentors], np.int64),
            area=np.array([area_codes.get(m.area or "", -1) for m in mentors], np.int64),
            tags=_masks([m.lived_experience for m in mentors], tag_bits),
            recovery=np.array(
                [-1 if m.recovery_days is None else m.recovery_days for m in mentors], np.int64
            ),
            remaining=remaining,
            load_room=np.divide(
                np.maximum(remaining, 0), total, out=np.zeros(len(mentors)), where=total > 0
            ),
            availability=_word_major_availability(mentors, policy.reference_week),
            language_bits=language_bits,
            tag_bits=tag_bits,
            area_codes=area_codes,
            text=None if fitted is None else fitted[0],
            bios=bios,
            bios_by_term=None if bios is None else sparse.csr_array(bios.T),
            terms=()
            if fitted is None
            else tuple(sorted(fitted[0].vocabulary, key=fitted[0].vocabulary.__getitem__)),
        )

    def __len__(self) -> int:
        return len(self.mentors)

    @cached_property
    def hours(self) -> Bitmaps:
        """Availability in whole hours (`hour_bitmaps`), made once for every shortlist."""
        return hour_bitmaps(self.availability.T)

    def require_week(self, policy: Policy) -> None:
        """Availability bitmaps belong to one reference week: refuse another policy's week."""
        if policy.reference_week != self.reference_week:
            raise ValueError("the index was built for another reference week; rebuild it")

    def usable_mask(self, policy: Policy) -> Bools:
        """Mentors passing the rules that depend on the mentor alone (recovery time, a place).

        Kept per minimum recovery time: `rank` asks on every call and the index never changes.
        """
        minimum = policy.min_mentor_recovery_days
        if minimum not in self.usable_by_minimum:
            self.usable_by_minimum[minimum] = (self.recovery >= minimum) & (self.remaining > 0)
        return self.usable_by_minimum[minimum]

    def usable(self, policy: Policy) -> Ints:
        """Positions of the `usable_mask` mentors, for blocking."""
        return np.flatnonzero(self.usable_mask(policy))

    @cached_property
    def speakers(self) -> Bools:
        """Languages x mentors: who speaks each language, so blocking reads rows, not bits."""
        return _bit_rows(self.languages, len(self.language_bits))

    @cached_property
    def offers(self) -> Bools:
        """Formats x mentors: who offers each way of meeting."""
        return _bit_rows(self.formats, len(MEETING_FORMATS))

    @cached_property
    def follows(self) -> Bools:
        """Pathways x mentors: who follows each pathway."""
        return _bit_rows(self.pathways, len(PATHWAYS))

    @cached_property
    def of_gender(self) -> Bools:
        """Genders x mentors: who has each gender."""
        of_gender: Bools = self.gender[None, :] == np.arange(len(GENDERS))[:, None]
        return of_gender

    def _blocking(self, wanted_gender: int, languages: np.uint64) -> Bools:
        """A new mask of the mentors with the gender asked who speak one of the languages."""
        mask = _any_of(self.speakers, int(languages))
        if wanted_gender >= 0:
            mask &= self.of_gender[wanted_gender]
        return mask

    def allowed(self, usable: Ints, wanted_gender: int, languages: np.uint64) -> Ints:
        """Of `usable`, the mentors a newcomer's blocking keys allow (gender asked, languages).

        Blocking only: `evaluate` still applies every rule to the mentors returned.
        """
        # Positions, not a boolean index: indexing with a scattered mask costs five times more.
        mask = self._blocking(wanted_gender, languages)
        allowed: Ints = usable[np.flatnonzero(mask[usable])]
        return allowed

    def candidates(self, batch: NewcomerBatch, row: int, policy: Policy) -> Ints:
        """The mentors one newcomer could have, for `rank`: usable, allowed by the blocking keys,
        offering at least one of the newcomer's formats and, when the newcomer's pathway choice
        is strict, sharing a pathway.

        A superset of the feasible mentors (`evaluate` still applies every rule) for a few
        boolean operations over precomputed rows; a third fewer mentors to evaluate.
        """
        mask = self._blocking(batch.wanted_gender[row], batch.languages[row])
        mask &= self.usable_mask(policy)
        mask &= _any_of(self.offers, int(batch.formats[row]))
        if batch.strict[row]:
            mask &= _any_of(self.follows, int(batch.pathways[row]))
        return np.flatnonzero(mask)


def _bit_rows(masks: npt.NDArray[np.int64] | npt.NDArray[np.uint64], width: int) -> Bools:
    """Bits x people: row b is True where bit b of the person's mask is set."""
    bits = np.arange(width, dtype=np.uint64)
    rows: Bools = ((masks.astype(np.uint64)[None, :] >> bits[:, None]) & np.uint64(1)) != 0
    return rows


def _any_of(rows: Bools, mask: int) -> Bools:
    """A new array: True for the people with any of the bits of `mask`, read from `_bit_rows`."""
    chosen = [bit for bit in range(len(rows)) if mask >> bit & 1]
    found: Bools = np.logical_or.reduce(rows[chosen], axis=0)
    return found


@dataclass(frozen=True, eq=False)
class Blocked:
    """The mentors each newcomer may never have under one sparse rule (an exclusion, a recorded
    conflict), as compressed rows: row r's mentor columns are `cols[starts[r]:starts[r + 1]]`.

    The exact rules (`evaluate`) and the shortlist both read it, so such a pair is ruled out
    before it can take a candidate's place.
    """

    starts: Ints
    cols: Ints

    @classmethod
    def build(cls, mentor_ids: Iterable[Iterable[str]], index: MentorIndex) -> Blocked:
        """From each newcomer's set of mentor ids; ids of mentors not in the index are ignored."""
        # Flat (row, col) lists, not a list per newcomer: most block nobody, and a list each
        # is a hundred thousand objects for the garbage collector to walk on a national queue.
        position = index.position
        owners: list[int] = []
        cols: list[int] = []
        size = 0
        for row, ids in enumerate(mentor_ids):
            size = row + 1
            for mentor_id in ids:
                if mentor_id in position:
                    owners.append(row)
                    cols.append(position[mentor_id])
        owner = np.array(owners, dtype=np.int64)
        col = np.array(cols, dtype=np.int64)
        order = np.lexsort((col, owner))
        counts = np.bincount(owner, minlength=size)
        starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
        return cls(starts=starts, cols=col[order])

    def hits(self, rows: Ints, cols: Ints, *, pairs: bool = False) -> tuple[Ints, Ints]:
        """Positions (i, j) in the rows x cols block (`cols` ascending) of blocked pairs; with
        `pairs`, positions i where rows[i] blocks cols[i] (j is then i)."""
        counts = self.starts[rows + 1] - self.starts[rows]
        hit = np.flatnonzero(counts)
        if len(hit) == 0:  # the usual case: most newcomers block nobody
            return hit, hit
        owner = np.repeat(hit, counts[hit])
        targets = self.cols[_ranges(self.starts[rows[hit]], self.starts[rows[hit] + 1])]
        if pairs:
            same: Ints = owner[targets == cols[owner]]
            return same, same
        local = np.minimum(np.searchsorted(cols, targets), max(len(cols) - 1, 0))
        keep = cols[local] == targets if len(cols) else np.zeros(len(targets), dtype=bool)
        return owner[keep], local[keep]

    def mask(self, rows: Ints, cols: Ints, *, pairs: bool = False) -> Bools:
        """True where a row's newcomer blocks the column's mentor (see `hits`)."""
        out = np.zeros((len(rows),) if pairs else (len(rows), len(cols)), dtype=bool)
        i, j = self.hits(rows, cols, pairs=pairs)
        if pairs:
            out[i] = True
        else:
            out[i, j] = True
        return out


@dataclass(frozen=True, eq=False)
class NewcomerBatch:
    """Newcomers encoded against one `MentorIndex` (same bit assignments and TF-IDF vocabulary)."""

    newcomers: tuple[Newcomer, ...]
    wanted_gender: npt.NDArray[np.int8]  # -1 = any
    languages: npt.NDArray[np.uint64]
    formats: npt.NDArray[np.int64]
    wants_in_person: Bools
    pathways: npt.NDArray[np.int64]
    strict: Bools
    excluded: Blocked  # the mentors each newcomer left, blocked or reported
    pathway_base: Floats  # pathway factor = base + scale * table value
    pathway_scale: Floats
    area: Ints  # -2 never equals a mentor's code
    tags: npt.NDArray[np.uint64]
    tag_count: Ints
    recovery: Ints
    availability: Bitmaps  # word-major: WORDS x newcomers
    hopes: sparse.csr_array | None  # newcomers x terms

    @classmethod
    def build(cls, newcomers: Sequence[Newcomer], index: MentorIndex) -> NewcomerBatch:
        """Encode newcomers with the index's vocabularies."""
        newcomers = tuple(newcomers)
        wanted = [
            -1
            if n.wanted_gender == "any"
            else GENDERS.index(n.gender if n.wanted_gender == "same" else n.wanted_gender)
            for n in newcomers
        ]
        pathways = np.array([mask_of(n.pathways, PATHWAYS) for n in newcomers], np.int64)
        open_choice = np.array([n.pathway_strictness == "open" for n in newcomers], dtype=bool)
        # An open newcomer still likes a shared pathway, but half as much; one who names none is
        # neutral about every mentor.
        base = np.where(open_choice, 0.5, 0.0)
        scale = np.where(open_choice, 0.5, 1.0)
        base = np.where(pathways == 0, NO_PATHWAY_GIVEN_FIT, base)
        scale = np.where(pathways == 0, 0.0, scale)
        formats = np.array([mask_of(n.formats, MEETING_FORMATS) for n in newcomers], np.int64)
        hopes = None
        if index.text is not None:
            hopes = index.text.transform([n.hopes for n in newcomers])
        return cls(
            newcomers=newcomers,
            wanted_gender=np.array(wanted, dtype=np.int8).reshape(len(newcomers)),
            languages=_masks([n.languages for n in newcomers], index.language_bits),
            formats=formats,
            wants_in_person=(formats & IN_PERSON_BIT) != 0,
            pathways=pathways,
            strict=np.array([n.pathway_strictness == "strict" for n in newcomers], dtype=bool),
            excluded=Blocked.build((n.excluded_mentor_ids for n in newcomers), index),
            pathway_base=base,
            pathway_scale=scale,
            area=np.array([index.area_codes.get(n.area or "", -2) for n in newcomers], np.int64),
            tags=_masks([n.lived_experience for n in newcomers], index.tag_bits),
            tag_count=np.array([len(n.lived_experience) for n in newcomers], np.int64),
            recovery=np.array([n.recovery_days_or_stage for n in newcomers], np.int64),
            availability=_word_major_availability(newcomers, index.reference_week),
            hopes=hopes,
        )

    def __len__(self) -> int:
        return len(self.newcomers)

    @cached_property
    def hours(self) -> Bitmaps:
        """Availability in whole hours (`hour_bitmaps`), made once for every shortlist pass."""
        return hour_bitmaps(self.availability.T)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Rules and factors for a block of rows (newcomers) x columns (mentors)."""

    failures: dict[HardRule, Bools]
    values: dict[Factor, Floats]
    shared_quarters: npt.NDArray[np.uint16]

    def feasible(self) -> Bools:
        """True where no hard rule fails."""
        failed = np.zeros(self.shared_quarters.shape, dtype=bool)
        for mask in self.failures.values():
            failed |= mask
        return ~failed

    def score(self, policy: Policy, first_row_at: Ints | None = None) -> Floats:
        """Weighted sum of the factor values, in FACTORS order.

        With `first_row_at`, only those positions of the first row, summed in the same order (so
        equal to the bit): `rank`'s few candidates, without summing every mentor's.
        """
        weights = policy.weights.as_tuple()
        shape = self.shared_quarters.shape if first_row_at is None else first_row_at.shape
        total = np.zeros(shape)
        for factor, weight in zip(FACTORS, weights, strict=True):
            values = self.values[factor]
            total += weight * (values if first_row_at is None else values[0, first_row_at])
        return total


@lru_cache(maxsize=8)
def _conflicts_by_newcomer(conflicts: frozenset[tuple[str, str]]) -> dict[str, frozenset[str]]:
    grouped: dict[str, set[str]] = {}
    for newcomer_id, mentor_id in conflicts:
        grouped.setdefault(newcomer_id, set()).add(mentor_id)
    return {k: frozenset(v) for k, v in grouped.items()}


@lru_cache(maxsize=2)
def conflicted(
    batch: NewcomerBatch, index: MentorIndex, conflicts: frozenset[tuple[str, str]]
) -> Blocked:
    """The recorded conflicts of interest of the batch's newcomers (cached: asked per block)."""
    by_newcomer = _conflicts_by_newcomer(conflicts)
    return Blocked.build((by_newcomer.get(n.id, ()) for n in batch.newcomers), index)


def _ranges(first: Ints, last: Ints) -> Ints:
    """Every integer of each half-open range [first[i], last[i]), concatenated."""
    lengths = last - first
    out: Ints = np.repeat(first - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    return out


def _few_rows_similarity(
    hopes: sparse.csr_array, rows: Ints, bios: sparse.csr_array, cols: Ints
) -> Floats:
    """Rows x cols, straight from the CSR arrays, for a handful of newcomers (rank, check).

    scipy's sparse products and slicing cost about a tenth of a millisecond each in overhead,
    more than the arithmetic here: each row's hopes are laid out as a dense vector over the
    terms, and every mentor's bio terms are looked up in it and summed in one bincount. The work
    is proportional to the columns asked for, so `rank` pays for its few candidates only.
    """
    spread = _ranges(bios.indptr[cols], bios.indptr[cols + 1])
    col_of = np.repeat(np.arange(len(cols)), np.diff(bios.indptr)[cols])
    terms, weights = bios.indices[spread], bios.data[spread]
    similarity = np.empty((len(rows), len(cols)))
    for i, row in enumerate(rows.tolist()):
        mine = np.zeros(bios.shape[1])
        start, end = hopes.indptr[row], hopes.indptr[row + 1]
        mine[hopes.indices[start:end]] = hopes.data[start:end]
        similarity[i] = np.bincount(col_of, weights=mine[terms] * weights, minlength=len(cols))
    return similarity


def _text_similarity(
    batch: NewcomerBatch, rows: Ints, index: MentorIndex, cols: Ints, pairs: bool
) -> Floats:
    """TF-IDF cosine of hopes and bios (both rows are L2-normalised, so a dot product)."""
    if batch.hopes is None or index.bios is None:
        return np.zeros(len(rows) if pairs else (len(rows), len(cols)))
    if pairs:
        products = batch.hopes[rows].multiply(index.bios[cols])
        return np.asarray(products.sum(axis=1), dtype=np.float64).reshape(len(rows))
    if len(rows) <= FEW_ROWS:
        return _few_rows_similarity(batch.hopes, rows, index.bios, cols)
    return np.asarray((batch.hopes[rows] @ index.bios[cols].T).toarray(), dtype=np.float64)


def with_text(
    evaluation: Evaluation, batch: NewcomerBatch, row: int, index: MentorIndex, cols: Ints, at: Ints
) -> Evaluation:
    """A one-newcomer evaluation made with `text=False` (against mentors `cols`), with the
    hopes/bio similarity filled in at positions `at` only: the candidates `rank` kept."""
    similarity = _text_similarity(batch, np.array([row]), index, cols[at], pairs=False)
    values = np.zeros(evaluation.shared_quarters.shape)
    values[0, at] = similarity[0]
    return replace(evaluation, values={**evaluation.values, "hopes_bio": values})


def evaluate(
    batch: NewcomerBatch,
    rows: Ints,
    index: MentorIndex,
    cols: Ints,
    policy: Policy,
    *,
    pairs: bool = False,
    text: bool = True,
) -> Evaluation:
    """Every hard rule and factor for newcomers `rows` against mentors `cols`.

    By default the result is rows x cols (`cols` ascending); with `pairs=True`, rows[i] is paired
    with cols[i] only (how `assign` re-scores its candidate edges exactly). With `text=False` the
    hopes/bio similarity is left at 0, for `rank` to fill in with `with_text` where it still
    matters.
    """
    index.require_week(policy)
    row_at = rows if pairs else rows[:, None]
    col_at = cols if pairs else cols[None, :]
    n = {name: getattr(batch, name)[row_at] for name in _NEWCOMER_FIELDS}
    m = {name: getattr(index, name)[col_at] for name in _MENTOR_FIELDS}
    shape = (len(rows),) if pairs else (len(rows), len(cols))
    same_area = n["area"] == m["area"]
    usable_formats = n["formats"] & m["formats"] & np.where(same_area, ALL_FORMATS, ~IN_PERSON_BIT)
    quarters = shared_quarters(batch.availability, row_at, index.availability, col_at)
    hours = quarters / 4.0
    shared_tags = np.bitwise_count(n["tags"] & m["tags"]).astype(np.float64)
    failures: dict[HardRule, Bools] = {
        "mentor_recovery_below_minimum": m["recovery"] < policy.min_mentor_recovery_days,
        "no_remaining_capacity": m["remaining"] <= 0,
        "no_shared_language": (n["languages"] & m["languages"]) == 0,
        "no_shared_format": usable_formats == 0,
        "gender_choice": (n["wanted_gender"] >= 0) & (n["wanted_gender"] != m["gender"]),
        "strict_pathway": n["strict"] & ((n["pathways"] & m["pathways"]) == 0),
        "excluded_by_newcomer": batch.excluded.mask(rows, cols, pairs=pairs),
        "conflict_of_interest": conflicted(batch, index, policy.conflicts).mask(
            rows, cols, pairs=pairs
        ),
        "too_few_shared_hours": hours < policy.min_shared_hours,
    }
    values: dict[Factor, Floats] = {
        "pathway": n["pathway_base"]
        + n["pathway_scale"] * PATHWAY_MASK_FIT[n["pathways"], m["pathways"]],
        "recovery_gap": recovery_gap_fit(m["recovery"] - n["recovery"]),
        "availability": np.minimum(hours / policy.full_shared_hours, 1.0),
        "format": FORMAT_FIT[n["formats"], usable_formats],
        "area": (n["wants_in_person"] & ((usable_formats & IN_PERSON_BIT) != 0)).astype(np.float64),
        "lived_experience": np.divide(
            shared_tags, n["tag_count"], out=np.zeros(shape), where=n["tag_count"] > 0
        ),
        "hopes_bio": _text_similarity(batch, rows, index, cols, pairs) if text else np.zeros(shape),
        "load_balance": m["load_room"],
    }
    return Evaluation(
        failures={k: _full(v, shape) for k, v in failures.items()},
        values={k: _full(v, shape) for k, v in values.items()},
        shared_quarters=quarters,
    )


def _full(values: npt.NDArray[T], shape: tuple[int, ...]) -> npt.NDArray[T]:
    """`values` broadcast to `shape`, without the cost of a new view when it has that shape."""
    return values if values.shape == shape else np.broadcast_to(values, shape)


_NEWCOMER_FIELDS = (
    "wanted_gender",
    "languages",
    "formats",
    "wants_in_person",
    "pathways",
    "strict",
    "pathway_base",
    "pathway_scale",
    "area",
    "tags",
    "tag_count",
    "recovery",
)
_MENTOR_FIELDS = (
    "gender",
    "languages",
    "formats",
    "pathways",
    "area",
    "tags",
    "recovery",
    "remaining",
    "load_room",
)
