"""The match journey's changes, each in one transaction: load (row-locked on PostgreSQL), apply the
lifecycle, write, audit, emit. And the one answer to "who may get new matches".

Capacity is guarded twice over: every step that gives a mentor a mentee (approving, accepting)
takes the mentor's lock first (a PostgreSQL advisory lock; SQLite's IMMEDIATE transactions already
run one writer at a time) and re-reads the places left inside the transaction, so two approvals
for a mentor's last place give one offer and one clear 409.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from statistics import median
from typing import Any

import anyio
from piccolo.query import Select
from piccolo.table import Table

from tandem.accounts import services as accounts
from tandem.core import audit, buckets, changes
from tandem.core.auth import Caller, Role, program_caller
from tandem.core.clock import clock
from tandem.core.database import Prepared, for_update, transaction
from tandem.core.database import engine as database_engine
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.matches import engine, lifecycle, outcomes
from tandem.matches.events import MatchEvent
from tandem.matches.lifecycle import (
    OPEN_REQUEST,
    Action,
    CaseloadRule,
    EndReason,
    InvalidTransition,
    MatchStatus,
    OfferStatus,
    ProposalStatus,
    RequestStatus,
)
from tandem.matches.outcomes import DEFAULT_VERSION, WeightsStatus
from tandem.matches.schemas import (
    ActiveMatchOut,
    BatchRunOut,
    Candidate,
    MatchOut,
    MentorLoad,
    OfferOut,
    OpenRequestOut,
    ProposalOut,
    RequestOut,
    RetentionWeek,
    WaitingRequestOut,
    WaitOut,
    WeightsReviewOut,
    WeightsSuggestionOut,
    WeightsVersionOut,
)
from tandem.matches.tables import (
    BatchLease,
    BatchRun,
    MatchProposal,
    MatchWeights,
    MentorMatch,
    MentorOffer,
    MentorRequest,
    PlacesMarker,
    RetryMarker,
)
from tandem.notifications import services as notifications
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileOut, NewcomerIntakeOut
from tandem.training import services as training

MENTOR_LOCK = 7_301  # advisory-lock namespace: (MENTOR_LOCK, mentor membership id)
NEWCOMER_LOCK = 7_302
BATCH_LOCK = 7_303  # (BATCH_LOCK, program id): one batch run per program at a time
WEIGHTS_LOCK = 7_304  # (WEIGHTS_LOCK, program id): one weights suggestion or decision at a time

# Extra holds on who may get new matches, added by slices above this one (safety) through
# `create_app`: each returns the mentor ids of a program to hold back from new matches.
MatchGate = Callable[[int, frozenset[int]], Awaitable[set[int]]]
_gates: list[MatchGate] = []


def add_match_gate(gate: MatchGate) -> None:
    """Let another slice hold mentors back from new matches without `matches` importing it.
    Each change to what a gate reads must call `places_changed` in its transaction."""
    if gate not in _gates:
        _gates.append(gate)
        forget_places()


def remove_match_gate(gate: MatchGate) -> None:
    if gate in _gates:
        _gates.remove(gate)
        forget_places()


def _advance(kind: str, state: str, action: Action) -> str:
    try:
        return lifecycle.advance(kind, state, action).value
    except InvalidTransition as error:
        raise Conflict(str(error)) from None


def _is_postgres() -> bool:
    return database_engine().engine_type == "postgres"


async def _locked(
    table: type[Table], record_id: int, program_id: int, missing: str
) -> dict[str, Any]:
    """One row of the caller's program, locked FOR UPDATE on PostgreSQL until commit."""
    query: Select = table.select().where(
        (table._meta.primary_key == record_id) & (table.program == program_id)  # type: ignore[attr-defined]
    )
    if _is_postgres():
        query = query.lock_rows()
    rows = await query.output(load_json=True)
    if not rows:
        raise NotFound(missing)
    return rows[0]


async def _lock(namespace: int, key: int) -> None:
    """Serialise steps on one person until the transaction ends (SQLite: already serial)."""
    if _is_postgres():
        await MentorRequest.raw("SELECT pg_advisory_xact_lock({}, {})", namespace, key)


async def _step_request(
    request_id: int, program_id: int, action: Action, extra: dict[Any, Any] | None = None
) -> dict[str, Any]:
    """Lock a request, apply one lifecycle step and write its new state (with `extra` columns);
    returns the row as it now stands."""
    request = await _locked(MentorRequest, request_id, program_id, "No such request.")
    status = _advance("request", request["status"], action)
    await MentorRequest.update(
        {MentorRequest.status: status, MentorRequest.updated_at: clock.now(), **(extra or {})}
    ).where(MentorRequest.id == request_id)
    return {**request, "status": status}


# --- retrying when mentors change -------------------------------------------------------------


async def mark_retry(program_id: int) -> None:
    """Note that a program's mentors changed (a profile, a training pass, a pause, a freed
    place), in the transaction of the change: the matches worker retries the program's waiting
    requests moments later (`retry_marked`), so the change itself never waits for matching.
    Registered with `core.changes` by `create_app` for the slices below this one."""
    await RetryMarker.insert(RetryMarker(program=program_id, created_at=clock.now()))


async def marked_programs() -> dict[int, int]:
    """Programs with retry markers: program id -> the newest marker's id."""
    rows = await RetryMarker.select(RetryMarker.program, RetryMarker.id)
    newest: dict[int, int] = {}
    for row in rows:
        newest[row["program"]] = max(row["id"], newest.get(row["program"], 0))
    return newest


async def clear_markers(program_id: int, up_to: int) -> None:
    """Forget a program's markers up to `up_to` (those a retry has handled); markers written
    while it ran stay for the next round."""
    await RetryMarker.delete().where(
        (RetryMarker.program == program_id) & (RetryMarker.id <= up_to)
    )


# --- who may get new matches --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MentorPlaces:
    """A mentor's caseload now. `open` is the gate: trained, approved, not paused, no hold."""

    membership_id: int
    open: bool
    limit: int
    active: int
    offers: int
    profile_version: datetime

    @property
    def places(self) -> int:
        return lifecycle.places_left(self.limit, self.active, self.offers) if self.open else 0


async def _loads(program_id: int) -> tuple[Counter[int], Counter[int]]:
    active = await MentorMatch.select(MentorMatch.mentor).where(
        (MentorMatch.program == program_id) & (MentorMatch.status == MatchStatus.ACTIVE.value)
    )
    offers = await MentorOffer.select(MentorOffer.mentor).where(
        (MentorOffer.program == program_id) & (MentorOffer.status == OfferStatus.OPEN.value)
    )
    return Counter(r["mentor"] for r in active), Counter(r["mentor"] for r in offers)


PLACES = changes.Marker(PlacesMarker)


async def places_changed(program_id: int) -> None:
    """Call first thing in the transaction of any change to who holds a place (an offer made,
    answered, lapsed or withdrawn; a match started or ended) or to another slice's match gate:
    it redraws the program's places marker, so every process's `mentor_places` answer is worked
    out afresh once the change commits. First, before any row or advisory lock: on PostgreSQL
    the marker row stays locked until commit, and taking it first in every such transaction
    means none of them ever holds another lock while waiting for it. Changes below this slice
    (profiles, training, memberships, settings) redraw the eligibility marker instead, which
    the answer is checked against as well."""
    await PLACES.redraw(program_id)


@dataclass(frozen=True)
class _Places:
    """One program's `mentor_places` answer as this process worked it out at `at`.

    It holds while both markers (eligibility, places) and the training gate's answer are the
    same, and the time is in [`at`, `until`): `until` is the first moment a mentor moves from
    the new to the experienced caseload tier. The markers are read before anything else, so a
    change committed while the rest is read leaves markers this answer no longer matches.
    """

    markers: tuple[str | None, str | None]
    gated: frozenset[int]
    at: datetime
    until: datetime | None
    places: dict[int, MentorPlaces]

    def holds(self, markers: tuple[str | None, str | None], gated: set[int], now: datetime) -> bool:
        return (
            self.markers == markers
            and self.gated == gated
            and self.at <= now
            and (self.until is None or now < self.until)
        )


_places: dict[int, _Places] = {}


def forget_places() -> None:
    """Drop every cached places answer (tests that empty the database between them do this)."""
    _places.clear()


async def mentor_places(program_id: int) -> dict[int, MentorPlaces]:
    """THE answer to who may get new matches, and how many: the training gate
    (`training.services.eligible_mentor_ids`, which also holds pauses and approval), any gate
    another slice added, and the caseload rule (profile capacity, tier, active matches and open
    offers). Every mentor with a profile is listed; `places` is 0 for those who may not.

    Outside a transaction it answers from this process's cache while the answer holds
    (`_Places`), at the cost of two marker reads and the training gate's own cached answer.
    Inside one it is always worked out afresh and never kept: a transaction decides its writes
    on it (approving re-checks the mentor's places) and may have written already."""
    if database_engine().current_transaction.get() is not None:
        gated = await training.eligible_mentor_ids(program_id)
        return (await _work_out_places(program_id, gated, clock.now()))[0]
    markers = (await changes.eligibility_marker(program_id), await PLACES.read(program_id))
    gated, now = await training.eligible_mentor_ids(program_id), clock.now()
    cached = _places.get(program_id)
    if cached is not None and cached.holds(markers, gated, now):
        return dict(cached.places)
    places, until = await _work_out_places(program_id, gated, now)
    _places[program_id] = _Places(markers, frozenset(gated), now, until, places)
    return dict(places)


async def _work_out_places(
    program_id: int, gated: set[int], now: datetime
) -> tuple[dict[int, MentorPlaces], datetime | None]:
    """`mentor_places` at `now` from the records, given the training gate's answer then, and
    until when it holds (None: no time to come changes it)."""
    settings = await accounts.program_settings(program_id)
    open_ids = set(gated)
    for gate in _gates:
        open_ids -= await gate(program_id, frozenset(open_ids))
    capacities = await profiles.mentor_capacities(program_id)
    members = await accounts.list_members(program_caller(program_id), role=Role.MENTOR)
    since = {m.membership_id: m.approved_at for m in members}
    active, offers = await _loads(program_id)
    rule = CaseloadRule(
        settings.new_mentor_months,
        settings.caseload_new_mentor,
        settings.caseload_experienced_mentor,
    )
    places = {
        mentor: MentorPlaces(
            membership_id=mentor,
            open=mentor in open_ids,
            limit=lifecycle.caseload_limit(rule, capacity, since.get(mentor), now),
            active=active[mentor],
            offers=offers[mentor],
            profile_version=version,
        )
        for mentor, (capacity, version) in capacities.items()
        if mentor in since
    }
    tiers = (lifecycle.experienced_from(rule, since[mentor]) for mentor in places if since[mentor])
    return places, min((t for t in tiers if now < t), default=None)


async def may_get_new_matches(program_id: int) -> set[int]:
    """Membership ids of the mentors who may get a new mentee now."""
    return {m for m, places in (await mentor_places(program_id)).items() if places.places > 0}


# --- proposing ----------------------------------------------------------------------------


async def _excluded_mentors(newcomer_id: int, request_id: int) -> set[int]:
    """Mentors never to propose again: any the newcomer left (or a safety end), and, for this
    request, any who declined, lapsed or whom a supervisor turned down."""
    ended = await MentorMatch.select(MentorMatch.mentor).where(
        (MentorMatch.newcomer == newcomer_id)
        & (MentorMatch.status == MatchStatus.ENDED.value)
        & (
            (MentorMatch.ended_by_role == Role.NEWCOMER.value)
            | (MentorMatch.end_reason == EndReason.SAFETY.value)
            | (MentorMatch.end_reason == EndReason.REMATCH_REQUESTED.value)
        )
    )
    declined = await MentorOffer.select(MentorOffer.mentor).where(
        (MentorOffer.request == request_id)
        & MentorOffer.status.is_in(
            [OfferStatus.DECLINED.value, OfferStatus.LAPSED.value, OfferStatus.WITHDRAWN.value]
        )
    )
    turned_down = await MatchProposal.select(MatchProposal.mentor).where(
        (MatchProposal.request == request_id)
        & (MatchProposal.status == ProposalStatus.DECLINED.value)
    )
    return {r["mentor"] for r in (*ended, *declined, *turned_down)}


async def _index(program_id: int, policy: Any) -> Any:
    """The program's mentor index, rebuilt only when a gated mentor's profile, places or the
    policy changed since it was built."""
    places = {m: p for m, p in (await mentor_places(program_id)).items() if p.open}
    key = (
        policy,
        tuple(sorted((m, p.profile_version, p.places, p.active) for m, p in places.items())),
    )
    index = engine.cached_index(program_id, key)
    if index is not None:
        return index
    found = await profiles.mentor_profiles(program_caller(program_id), sorted(places))
    today = clock.today()
    mentors = [
        engine.mentor_record(found[m], today, places[m].places, places[m].active + places[m].offers)
        for m in sorted(found)
    ]
    return engine.build_index(program_id, key, mentors, policy)


async def _propose(caller: Caller | None, request: dict[str, Any]) -> str:
    """Rank the mentors for a waiting request and queue the best with its alternatives for
    review (or approve it under the program's auto-approval); with none, keep it waiting with
    the reasons counted. Returns the request's new status."""
    program_id = request["program"]
    settings = await accounts.program_settings(program_id)
    policy, version = await program_policy(program_id, settings)
    intake = await profiles.get_intake(program_caller(program_id), request["newcomer"])
    excluded = await _excluded_mentors(request["newcomer"], request["id"])
    newcomer = engine.newcomer_record(intake, clock.today(), excluded, request["created_at"].date())
    index = await _index(program_id, policy)
    ranked = engine.propose(newcomer, index, policy)
    now = clock.now()
    if not ranked:
        reasons = engine.unmatched_reasons(newcomer, index.mentors, policy)
        await MentorRequest.update(
            {MentorRequest.unmatched_reasons: reasons, MentorRequest.updated_at: now}
        ).where(MentorRequest.id == request["id"])
        await audit.record(
            caller, "match.no_mentor_fits", "match_request", request["id"], program_id=program_id
        )
        return request["status"]
    flagged = bool(excluded)  # a newcomer who left a mentor or was declined gets a person's eye
    return await _store_proposal(
        caller, request, ranked, (policy, version), settings, flagged=flagged
    )


async def _store_proposal(
    caller: Caller | None,
    request: dict[str, Any],
    ranked: list[dict[str, Any]],
    weighted: tuple[Any, int],
    settings: accounts.ProgramSettings,
    *,
    flagged: bool,
) -> str:
    """Queue the best of `ranked` with its alternatives for review, or approve it under the
    program's auto-approval; returns the request's new status. `weighted` is the policy the
    ranking used and its weights version, recorded with the proposal."""
    program_id = request["program"]
    policy, version = weighted
    status = _advance("request", request["status"], Action.PROPOSE)
    best, alternatives = ranked[0], ranked[1:]
    now = clock.now()
    rows = await MatchProposal.insert(
        MatchProposal(
            request=request["id"],
            program=program_id,
            mentor=best["mentor_id"],
            score=best["score"],
            explanation=best,
            alternatives=alternatives,
            weights=engine.weights_of(policy),
            weights_version=version,
            status=ProposalStatus.PENDING.value,
            created_at=now,
        )
    ).returning(MatchProposal.id)
    proposal_id = rows[0]["id"]
    await MentorRequest.update(
        {
            MentorRequest.status: status,
            MentorRequest.unmatched_reasons: {},
            MentorRequest.updated_at: now,
        }
    ).where(MentorRequest.id == request["id"])
    await audit.record(
        caller,
        "match.proposed",
        "match_proposal",
        proposal_id,
        program_id=program_id,
        request_id=request["id"],
        mentor_id=best["mentor_id"],
    )
    auto = settings.auto_approve_matches and best["score"] >= settings.auto_approve_min_score
    if auto and not flagged:
        proposal = {"id": proposal_id, "request": request["id"], "program": program_id}
        await _offer(caller, proposal, best["mentor_id"], auto=True)
        return RequestStatus.OFFERED.value
    await notifications.emit(
        caller,
        program_id,
        MatchEvent.PROPOSAL_WAITING,
        subject=("match_proposal", proposal_id),
        recipients=await accounts.supervisor_ids(program_id),
        link=f"/staff/matches/proposals/{proposal_id}",
    )
    return status


async def _offer(
    caller: Caller | None, proposal: dict[str, Any], mentor_id: int, *, auto: bool
) -> int:
    """Approve a proposal for `mentor_id` and put the offer to them, if they still have a place."""
    program_id = proposal["program"]
    await _lock(MENTOR_LOCK, mentor_id)
    places = (await mentor_places(program_id)).get(mentor_id)
    if places is None or places.places <= 0:
        raise Conflict(
            "This mentor has no place left for a new mentee now (or is no longer open to new "
            "matches). Choose another mentor, or decline the proposal."
        )
    request = await _step_request(proposal["request"], program_id, Action.OFFER)
    now = clock.now()
    settings = await accounts.program_settings(program_id)
    await MatchProposal.update(
        {
            MatchProposal.status: ProposalStatus.APPROVED.value,
            MatchProposal.chosen_mentor: mentor_id,
            MatchProposal.auto_approved: auto,
            MatchProposal.reviewed_by: None if auto or caller is None else caller.membership_id,
            MatchProposal.reviewed_at: now,
        }
    ).where(MatchProposal.id == proposal["id"])
    rows = await MentorOffer.insert(
        MentorOffer(
            proposal=proposal["id"],
            request=request["id"],
            program=program_id,
            mentor=mentor_id,
            status=OfferStatus.OPEN.value,
            created_at=now,
            expires_at=now + timedelta(hours=settings.offer_hours),
        )
    ).returning(MentorOffer.id)
    await audit.record(
        caller,
        "match.proposal_approved",
        "match_proposal",
        proposal["id"],
        program_id=program_id,
        mentor_id=mentor_id,
        auto_approved=auto,
    )
    await notifications.emit(
        caller,
        program_id,
        MatchEvent.OFFER_MADE,
        subject=("match_offer", rows[0]["id"]),
        recipients=[mentor_id],
        link="/mentor/matches",
    )
    return int(rows[0]["id"])


# --- the newcomer -------------------------------------------------------------------------


async def _open_request(newcomer_id: int) -> dict[str, Any] | None:
    return (
        await MentorRequest.select()
        .where(
            (MentorRequest.newcomer == newcomer_id)
            & MentorRequest.status.is_in([s.value for s in OPEN_REQUEST])
        )
        .order_by(MentorRequest.id, ascending=False)
        .output(load_json=True)
        .first()
    )


async def _new_request(caller: Caller, intake: NewcomerIntakeOut) -> None:
    now = clock.now()
    rows = await MentorRequest.insert(
        MentorRequest(
            newcomer=caller.membership_id,
            program=caller.program_id,
            status=RequestStatus.WAITING.value,
            languages=list(intake.languages),
            formats=list(intake.formats),
            created_at=now,
            updated_at=now,
        )
    ).returning(MentorRequest.id)
    request_id = rows[0]["id"]
    await audit.record(caller, "match.requested", "match_request", request_id)
    await notifications.emit(
        caller,
        caller.program_id,
        MatchEvent.REQUESTED,
        subject=("match_request", request_id),
        recipients=await accounts.supervisor_ids(caller.program_id),
        link="/staff/matches",
    )
    request = (
        await MentorRequest.select()
        .where(MentorRequest.id == request_id)
        .output(load_json=True)
        .first()
    )
    await _propose(caller, request)


async def request_mentor(caller: Caller) -> RequestOut:
    """A newcomer with a complete intake asks for a mentor; the engine proposes at once."""
    try:
        intake = await profiles.get_intake(caller)
    except NotFound:
        raise Invalid(
            "Please fill in your intake first, so we can suggest a mentor who fits you."
        ) from None
    async with transaction():
        await places_changed(caller.program_id)  # under auto-approval an offer is made at once
        await _lock(NEWCOMER_LOCK, caller.membership_id)
        existing = await _open_request(caller.membership_id)
        if existing is not None:
            state = existing["status"].replace("_", " ")
            raise Conflict(f"You already asked for a mentor; your request is {state}.")
        await _new_request(caller, intake)
    return await my_request(caller)


async def withdraw_request(caller: Caller) -> None:
    """The newcomer no longer wants a mentor for now; any proposal or offer is withdrawn."""
    async with transaction():
        await places_changed(caller.program_id)  # an open offer is withdrawn
        found = await _open_request(caller.membership_id)
        if found is None:
            raise NotFound("You have no open request.")
        request = await _step_request(found["id"], caller.program_id, Action.WITHDRAW)
        now = clock.now()
        await MatchProposal.update({MatchProposal.status: ProposalStatus.WITHDRAWN.value}).where(
            (MatchProposal.request == request["id"])
            & (MatchProposal.status == ProposalStatus.PENDING.value)
        )
        await MentorOffer.update(
            {MentorOffer.status: OfferStatus.WITHDRAWN.value, MentorOffer.answered_at: now}
        ).where(
            (MentorOffer.request == request["id"]) & (MentorOffer.status == OfferStatus.OPEN.value)
        )
        await audit.record(caller, "match.request_withdrawn", "match_request", request["id"])


async def wait_estimate(
    program_id: int, languages: Iterable[str], formats: Iterable[str]
) -> lifecycle.WaitEstimate:
    """How long requests like this one (a language and a format in common) took to become an
    active match, over the program's last 90 days."""
    since = clock.now() - timedelta(days=lifecycle.HISTORY_DAYS)
    rows = (
        await MentorRequest.select(
            MentorRequest.created_at,
            MentorRequest.matched_at,
            MentorRequest.languages,
            MentorRequest.formats,
        )
        .where((MentorRequest.program == program_id) & (MentorRequest.matched_at >= since))
        .output(load_json=True)
    )
    mine_languages, mine_formats = set(languages), set(formats)
    waits = [
        row["matched_at"] - row["created_at"]
        for row in rows
        if mine_languages & set(row["languages"]) and mine_formats & set(row["formats"])
    ]
    return lifecycle.wait_estimate(waits)


def _wait_out(estimate: lifecycle.WaitEstimate) -> WaitOut:
    return WaitOut(estimate.based_on, estimate.low_days, estimate.high_days, estimate.sentence())


async def my_request(caller: Caller) -> RequestOut:
    """Where the newcomer's latest request stands (never who declined or lapsed)."""
    request = (
        await MentorRequest.select()
        .where(MentorRequest.newcomer == caller.membership_id)
        .order_by(MentorRequest.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if request is None:
        raise NotFound("You have not asked for a mentor yet.")
    estimate = await wait_estimate(caller.program_id, request["languages"], request["formats"])
    match = None
    if request["status"] == RequestStatus.MATCHED.value:
        found = (
            await MentorMatch.select(MentorMatch.id)
            .where(MentorMatch.request == request["id"])
            .first()
        )
        if found is not None:
            match = await get_match(caller, found["id"])
    return RequestOut(
        id=request["id"],
        status=request["status"],
        created_at=request["created_at"],
        wait=_wait_out(estimate),
        no_mentor_fits_yet=request["status"] == RequestStatus.WAITING.value
        and bool(request["unmatched_reasons"]),
        match=match,
    )


# --- supervisors ----------------------------------------------------------------------------


async def _names(program_id: int, membership_ids: Iterable[int]) -> dict[int, str]:
    """The names of the people on the page only (the program may have thousands)."""
    return await accounts.display_names(program_caller(program_id), membership_ids)


def _candidate(
    explained: dict[str, Any], names: dict[int, str], places: dict[int, MentorPlaces]
) -> Candidate:
    mentor_id = explained["mentor_id"]
    load = places.get(mentor_id)
    return Candidate(
        mentor_id=mentor_id,
        mentor_name=names.get(mentor_id, "A former mentor"),
        score=explained["score"],
        reasons=explained["reasons"],
        contributions=explained["contributions"],
        shared_hours=explained["shared_hours"],
        shared_grid=explained["shared_grid"],
        rules_held=explained["rules_held"],
        load=None
        if load is None
        else MentorLoad(load.active, load.offers, load.limit, load.places),
    )


async def _proposal_views(caller: Caller, rows: list[dict[str, Any]]) -> list[ProposalOut]:
    if not rows:
        return []
    names = await _names(
        caller.program_id,
        [row["request.newcomer"] for row in rows]
        + [
            candidate["mentor_id"]
            for row in rows
            for candidate in (row["explanation"], *row["alternatives"])
        ],
    )
    places = await mentor_places(caller.program_id)
    now = clock.now()
    views = []
    for row in rows:
        views.append(
            ProposalOut(
                id=row["id"],
                request_id=row["request"],
                newcomer_id=row["request.newcomer"],
                newcomer_name=names.get(row["request.newcomer"], ""),
                newcomer_time_zone=row["explanation"]["time_zone"],
                requested_at=row["request.created_at"],
                waited_days=round((now - row["request.created_at"]).total_seconds() / 86400, 1),
                status=row["status"],
                auto_approved=row["auto_approved"],
                best=_candidate(row["explanation"], names, places),
                alternatives=[_candidate(a, names, places) for a in row["alternatives"]],
                weights=row["weights"],
                staff_note=row["staff_note"],
                weights_version=row["weights_version"],
            )
        )
    return views


def _proposal_query(program_id: int) -> Select:
    return MatchProposal.select(
        *MatchProposal.all_columns(),
        MatchProposal.request.newcomer,
        MatchProposal.request.created_at,
    ).where(MatchProposal.program == program_id)


# The review queue's reads, built and compiled once (`core.database.Prepared`): a supervisor
# may keep the queue open and reload it.
_PENDING_PROPOSALS = Prepared(
    lambda program_id, status: (
        _proposal_query(program_id)
        .where(MatchProposal.status == status)
        .order_by(MatchProposal.request.created_at)
        .output(load_json=True)
    ),
    parameters=2,
)
_REQUESTS_BY_STATUS = Prepared(
    lambda program_id, status: (
        MentorRequest.select(
            MentorRequest.id,
            MentorRequest.newcomer,
            MentorRequest.created_at,
            MentorRequest.unmatched_reasons,
            MentorRequest.newcomer.person.display_name.as_alias("newcomer_name"),
        )
        .where((MentorRequest.program == program_id) & (MentorRequest.status == status))
        .order_by(MentorRequest.created_at)
        .output(load_json=True)
    ),
    parameters=2,
)
_LATEST_BATCH_RUN = Prepared(
    lambda program_id: (
        BatchRun.select()
        .where(BatchRun.program == program_id)
        .order_by(BatchRun.id, ascending=False)
        .output(load_json=True)
        .first()
    ),
    parameters=1,
)


async def review_queue(caller: Caller) -> list[ProposalOut]:
    """Proposals waiting for a supervisor, the longest-waiting request first."""
    rows = await _PENDING_PROPOSALS.run(caller.program_id, ProposalStatus.PENDING.value)
    return await _proposal_views(caller, rows)


async def get_proposal(caller: Caller, proposal_id: int) -> ProposalOut:
    rows = (
        await _proposal_query(caller.program_id)
        .where(MatchProposal.id == proposal_id)
        .output(load_json=True)
    )
    if not rows:
        raise NotFound("No such proposal in your program.")
    return (await _proposal_views(caller, rows))[0]


async def waiting_requests(caller: Caller) -> list[WaitingRequestOut]:
    """Requests no mentor fits yet, oldest first, with the reasons counted over all mentors."""
    rows = await _REQUESTS_BY_STATUS.run(caller.program_id, RequestStatus.WAITING.value)
    now = clock.now()
    return [
        WaitingRequestOut(
            id=row["id"],
            newcomer_id=row["newcomer"],
            newcomer_name=row["newcomer_name"] or "",
            requested_at=row["created_at"],
            waited_days=round((now - row["created_at"]).total_seconds() / 86400, 1),
            mentors_considered=row["unmatched_reasons"].get("mentors", 0),
            reasons=[
                (engine.rule_label(rule), count)
                for rule, count in row["unmatched_reasons"].items()
                if rule != "mentors"
            ],
        )
        for row in rows
    ]


async def approve_proposal(
    caller: Caller, proposal_id: int, mentor_id: int | None = None
) -> ProposalOut:
    """Approve the proposed mentor (or one of the alternatives): the mentor gets an offer.
    Capacity and eligibility are checked again inside the transaction."""
    async with transaction():
        await places_changed(caller.program_id)
        proposal = await _locked(
            MatchProposal, proposal_id, caller.program_id, "No such proposal in your program."
        )
        _advance("proposal", proposal["status"], Action.APPROVE)
        allowed = [
            proposal["explanation"]["mentor_id"],
            *(a["mentor_id"] for a in proposal["alternatives"]),
        ]
        chosen = proposal["mentor"] if mentor_id is None else mentor_id
        if chosen not in allowed:
            raise Invalid(
                "Choose the proposed mentor or one of its alternatives.", field="mentor_id"
            )
        await _offer(caller, proposal, chosen, auto=False)
    return await get_proposal(caller, proposal_id)


async def decline_proposal(caller: Caller, proposal_id: int, note: str = "") -> ProposalOut:
    """Turn a proposal down with a note only staff see; the request goes back to the queue and
    the declined mentor is not proposed for it again."""
    async with transaction():
        proposal = await _locked(
            MatchProposal, proposal_id, caller.program_id, "No such proposal in your program."
        )
        status = _advance("proposal", proposal["status"], Action.DECLINE)
        await _step_request(proposal["request"], caller.program_id, Action.REQUEUE)
        now = clock.now()
        await MatchProposal.update(
            {
                MatchProposal.status: status,
                MatchProposal.staff_note: note.strip(),
                MatchProposal.reviewed_by: caller.membership_id,
                MatchProposal.reviewed_at: now,
            }
        ).where(MatchProposal.id == proposal_id)
        await audit.record(
            caller,
            "match.proposal_declined",
            "match_proposal",
            proposal_id,
            changed=["staff_note"] if note.strip() else [],
        )
    return await get_proposal(caller, proposal_id)


async def retry_request(caller: Caller | None, program_id: int, request_id: int) -> str:
    """Propose again for a waiting request (after mentors changed, or from batch matching)."""
    async with transaction():
        await places_changed(program_id)  # under auto-approval an offer is made at once
        request = await _locked(
            MentorRequest, request_id, program_id, "No such request in your program."
        )
        if request["status"] != RequestStatus.WAITING.value:
            _advance("request", request["status"], Action.PROPOSE)
        return await _propose(caller, request)


# --- the mentor -----------------------------------------------------------------------------


def _shared_with_mentor(intake: NewcomerIntakeOut) -> dict[str, Any]:
    """Only the parts of the intake the newcomer ticked to share."""
    return {field: getattr(intake, field) for field in intake.share_with_mentor}


def _grid(
    intake: NewcomerIntakeOut, mentor: MentorProfileOut, view_zone: str
) -> tuple[list[list[int]], float]:
    grid = engine.shared_grid(
        (engine.slots(intake.availability), intake.timezone),
        (engine.slots(mentor.availability), mentor.timezone),
        view_zone,
        engine.week_of(clock.today()),
    )
    return grid, float(sum(len(hours) for hours in grid))


async def my_offers(caller: Caller) -> list[OfferOut]:
    """The mentor's open offers: the newcomer's first name or alias, and only what they agreed
    to share."""
    rows = (
        await MentorOffer.select(
            MentorOffer.id,
            MentorOffer.status,
            MentorOffer.created_at,
            MentorOffer.expires_at,
            MentorOffer.request.newcomer,
        )
        .where(
            (MentorOffer.mentor == caller.membership_id)
            & (MentorOffer.program == caller.program_id)
            & (MentorOffer.status == OfferStatus.OPEN.value)
        )
        .order_by(MentorOffer.created_at)
    )
    if not rows:
        return []
    names = await _names(caller.program_id, [row["request.newcomer"] for row in rows])
    mentor = await profiles.get_mentor_profile(caller)
    offers = []
    for row in rows:
        intake = await profiles.get_intake(
            program_caller(caller.program_id), row["request.newcomer"]
        )
        grid, hours = _grid(intake, mentor, mentor.timezone)
        await profiles.record_intake_read(caller, intake.membership_id, intake.share_with_mentor)
        offers.append(
            OfferOut(
                id=row["id"],
                status=row["status"],
                newcomer_name=names.get(row["request.newcomer"], ""),
                created_at=row["created_at"],
                expires_at=row["expires_at"],
                shared_grid=grid,
                shared_hours=hours,
                time_zone=mentor.timezone,
                ways_to_meet=engine.ways_to_meet(intake, mentor),
                shared=_shared_with_mentor(intake),
            )
        )
    return offers


async def _my_offer(caller: Caller, offer_id: int) -> dict[str, Any]:
    offer = await _locked(MentorOffer, offer_id, caller.program_id, "No such offer.")
    if offer["mentor"] != caller.membership_id:
        raise NotFound("No such offer.")
    return offer


async def accept_offer(caller: Caller, offer_id: int) -> MatchOut:
    """The mentor says yes: the match is active and the newcomer is told who and how to meet."""
    async with transaction():
        await places_changed(caller.program_id)
        offer = await _my_offer(caller, offer_id)
        status = _advance("offer", offer["status"], Action.ACCEPT)
        now = clock.now()
        request = await _step_request(
            offer["request"], caller.program_id, Action.ACCEPT, {MentorRequest.matched_at: now}
        )
        await _lock(MENTOR_LOCK, caller.membership_id)
        places = (await mentor_places(caller.program_id)).get(caller.membership_id)
        # This offer holds one of the places counted as taken.
        if (
            places is None
            or lifecycle.places_left(places.limit, places.active, places.offers - 1) <= 0
        ):
            raise Conflict("Your caseload is full, so this offer cannot be accepted now.")
        await MentorOffer.update({MentorOffer.status: status, MentorOffer.answered_at: now}).where(
            MentorOffer.id == offer_id
        )
        rows = await MentorMatch.insert(
            MentorMatch(
                request=request["id"],
                program=caller.program_id,
                newcomer=request["newcomer"],
                mentor=caller.membership_id,
                status=MatchStatus.ACTIVE.value,
                started_at=now,
            )
        ).returning(MentorMatch.id)
        match_id = rows[0]["id"]
        await audit.record(
            caller, "match.offer_accepted", "match_offer", offer_id, match_id=match_id
        )
        await notifications.emit(
            caller,
            caller.program_id,
            MatchEvent.MATCH_ACTIVE,
            subject=("mentor_match", match_id),
            recipients=[request["newcomer"]],
            link="/match",
        )
        await notifications.emit(
            caller,
            caller.program_id,
            MatchEvent.OFFER_ACCEPTED,
            subject=("mentor_match", match_id),
            recipients=await accounts.supervisor_ids(caller.program_id),
            link="/staff/matches",
        )
    return await get_match(caller, match_id)


async def _close_offer(
    caller: Caller | None, offer: dict[str, Any], action: Action, reason: str = ""
) -> None:
    """A declined or lapsed offer: the request goes to the next mentor (or back to the queue).
    The newcomer is never told who declined or lapsed."""
    status = _advance("offer", offer["status"], action)
    request = await _step_request(offer["request"], offer["program"], Action.REQUEUE)
    now = clock.now()
    await MentorOffer.update(
        {
            MentorOffer.status: status,
            MentorOffer.answered_at: now,
            MentorOffer.decline_reason: reason.strip(),
        }
    ).where(MentorOffer.id == offer["id"])
    await audit.record(
        caller,
        f"match.offer_{status}",
        "match_offer",
        offer["id"],
        program_id=offer["program"],
        changed=["decline_reason"] if reason.strip() else [],
    )
    await mark_retry(offer["program"])  # the mentor's held place is free again
    await _propose(caller, request)


async def decline_offer(caller: Caller, offer_id: int, reason: str = "") -> None:
    """The mentor says no, without penalty; the optional reason is for staff only."""
    async with transaction():
        await places_changed(caller.program_id)
        offer = await _my_offer(caller, offer_id)
        await _close_offer(caller, offer, Action.DECLINE, reason)


async def lapse_offers() -> int:
    """Offers unanswered past their time lapse and the next mentor is proposed; returns how many.
    Safe to run in several processes at once: each offer is re-read locked and lapses once."""
    due = await MentorOffer.select(MentorOffer.id, MentorOffer.program).where(
        (MentorOffer.status == OfferStatus.OPEN.value) & (MentorOffer.expires_at <= clock.now())
    )
    lapsed = 0
    for row in due:
        async with transaction():
            await places_changed(row["program"])
            offer = await _locked(MentorOffer, row["id"], row["program"], "No such offer.")
            if offer["status"] != OfferStatus.OPEN.value:
                continue
            await _close_offer(None, offer, Action.LAPSE)
            lapsed += 1
    return lapsed


# --- matches ----------------------------------------------------------------------------------


async def _match_row(caller: Caller, match_id: int, *, lock: bool = False) -> dict[str, Any]:
    """A match of the caller's program that the caller is part of (or staff), else NotFound."""
    if lock:
        row = await _locked(MentorMatch, match_id, caller.program_id, "No such match.")
    else:
        row = (
            await MentorMatch.select()
            .where((MentorMatch.id == match_id) & (MentorMatch.program == caller.program_id))
            .first()
        )
    if row is None or (
        not caller.is_staff and caller.membership_id not in (row["newcomer"], row["mentor"])
    ):
        raise NotFound("No such match.")
    return row


async def match_people(caller: Caller, match_id: int) -> tuple[int, int]:
    """(newcomer, mentor) of a match the caller is part of (or staff), else NotFound: for
    slices above this one (safety) that act on a match's people."""
    row = await _match_row(caller, match_id)
    return row["newcomer"], row["mentor"]


async def get_match(caller: Caller, match_id: int, *, shown: bool = True) -> MatchOut:
    """The match as the caller sees it: the other's first name or alias, the shared hours in the
    caller's own time zone and the ways to meet; a mentor also sees what the newcomer shared,
    and that read is recorded (`shown=False`: a page that only lists names, not recorded)."""
    return (await _match_views(caller, [await _match_row(caller, match_id)], shown=shown))[0]


async def _match_views(
    caller: Caller, rows: list[dict[str, Any]], *, shown: bool
) -> list[MatchOut]:
    """`get_match` for several match rows of the caller's program at once: the intakes, the
    mentors' profiles and the names in one query each, whatever the number of matches."""
    reader = program_caller(caller.program_id)
    intakes = await profiles.intakes(reader, [row["newcomer"] for row in rows])
    mentors = await profiles.mentor_profiles(reader, [row["mentor"] for row in rows])
    names = await _names(
        caller.program_id, [p for row in rows for p in (row["newcomer"], row["mentor"])]
    )
    views = []
    for row in rows:
        intake, mentor = intakes.get(row["newcomer"]), mentors.get(row["mentor"])
        if intake is None:
            raise NotFound("No intake has been filled in yet.")
        if mentor is None:
            raise NotFound("No mentor profile has been filled in yet.")
        views.append(await _match_view(caller, row, intake, mentor, names, shown=shown))
    return views


async def _match_view(
    caller: Caller,
    row: dict[str, Any],
    intake: NewcomerIntakeOut,
    mentor: MentorProfileOut,
    names: dict[int, str],
    *,
    shown: bool,
) -> MatchOut:
    as_mentor = caller.membership_id == row["mentor"]
    zone = mentor.timezone if as_mentor else intake.timezone
    partner = row["newcomer"] if as_mentor else row["mentor"]
    grid, hours = _grid(intake, mentor, zone)
    shared = _shared_with_mentor(intake) if as_mentor or caller.is_staff else {}
    if shown:
        await profiles.record_intake_read(caller, row["newcomer"], list(shared))
    return MatchOut(
        id=row["id"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        partner_membership_id=partner,
        partner_name=names.get(partner, ""),
        partner_role=Role.NEWCOMER.value if as_mentor else Role.MENTOR.value,
        shared_grid=grid,
        shared_hours=hours,
        time_zone=zone,
        ways_to_meet=engine.ways_to_meet(intake, mentor),
        shared=shared,
        # Why a match ended is told to staff and to whoever ended it, never to the other one.
        end_reason=row["end_reason"]
        if caller.is_staff or row["ended_by_role"] == caller.role.value
        else None,
    )


def _program_matches(*columns: Any) -> Prepared[Any]:
    """A program's matches in one status, oldest first (`columns`: all when none are named),
    built and compiled once (`core.database.Prepared`)."""
    return Prepared(
        lambda program_id, status: (
            MentorMatch.select(*columns)
            .where((MentorMatch.program == program_id) & (MentorMatch.status == status))
            .order_by(MentorMatch.started_at)
        ),
        parameters=2,
    )


# The staff home's and the queue's reads: the whole rows for `my_matches`, and for the queue
# and the staff overview who with whom since when, with both names.
_PROGRAM_MATCHES = _program_matches()
_PROGRAM_MATCH_NAMES = _program_matches(
    MentorMatch.id,
    MentorMatch.started_at,
    MentorMatch.newcomer.person.display_name.as_alias("newcomer_name"),
    MentorMatch.mentor.person.display_name.as_alias("mentor_name"),
)
_PROPOSALS_WAITING = Prepared(
    lambda program_id, status: MatchProposal.count().where(
        (MatchProposal.program == program_id) & (MatchProposal.status == status)
    ),
    parameters=2,
)


async def active_matches(caller: Caller) -> list[ActiveMatchOut]:
    """The program's active matches for staff: who with whom since when, in one query."""
    rows = await _PROGRAM_MATCH_NAMES.run(caller.program_id, MatchStatus.ACTIVE.value)
    return [
        ActiveMatchOut(
            id=row["id"],
            newcomer_name=row["newcomer_name"] or "",
            mentor_name=row["mentor_name"] or "",
            started_at=row["started_at"],
        )
        for row in rows
    ]


_MY_MATCHES = Prepared(
    lambda program_id, status, me, also_me: (
        MentorMatch.select()
        .where(
            (MentorMatch.program == program_id)
            & (MentorMatch.status == status)
            & ((MentorMatch.newcomer == me) | (MentorMatch.mentor == also_me))
        )
        .order_by(MentorMatch.started_at)
    ),
    parameters=4,
)
_MY_MENTEES = Prepared(
    lambda program_id, status, mentor: (
        MentorMatch.select(MentorMatch.newcomer.person.display_name.as_alias("name"))
        .where(
            (MentorMatch.program == program_id)
            & (MentorMatch.status == status)
            & (MentorMatch.mentor == mentor)
        )
        .order_by(MentorMatch.started_at)
    ),
    parameters=3,
)
_OPEN_OFFERS = Prepared(
    lambda mentor, status: MentorOffer.count().where(
        (MentorOffer.mentor == mentor) & (MentorOffer.status == status)
    ),
    parameters=2,
)


async def my_matches(caller: Caller, *, shown: bool = True) -> list[MatchOut]:
    """Active matches the caller is part of (staff: all active matches of the program)."""
    active = MatchStatus.ACTIVE.value
    if caller.is_staff:
        rows = await _PROGRAM_MATCHES.run(caller.program_id, active)
    else:
        me = caller.membership_id
        rows = await _MY_MATCHES.run(caller.program_id, active, me, me)
    return await _match_views(caller, rows, shown=shown) if rows else []


ALLOWED_END_REASONS: dict[Role, tuple[EndReason, ...]] = {
    Role.NEWCOMER: (EndReason.COMPLETED, EndReason.REMATCH_REQUESTED),
    Role.MENTOR: (EndReason.COMPLETED, EndReason.MENTOR_UNAVAILABLE),
    Role.SUPERVISOR: tuple(EndReason),
    Role.ADMIN: tuple(EndReason),
}


async def end_match(caller: Caller, match_id: int, reason: EndReason) -> MatchOut:
    """End a match: the place frees at once and the other person is told kindly, never why.
    A newcomer asking for another mentor gets a new request straight away."""
    if reason not in ALLOWED_END_REASONS[caller.role]:
        raise Invalid(f"You cannot end a match with the reason {reason.value!r}.", field="reason")
    async with transaction():
        await places_changed(caller.program_id)
        match = await _match_row(caller, match_id, lock=True)
        status = _advance("match", match["status"], Action.END)
        await _step_request(match["request"], caller.program_id, Action.END)
        now = clock.now()
        await MentorMatch.update(
            {
                MentorMatch.status: status,
                MentorMatch.ended_at: now,
                MentorMatch.end_reason: reason.value,
                MentorMatch.ended_by_role: caller.role.value,
            }
        ).where(MentorMatch.id == match_id)
        await audit.record(caller, "match.ended", "mentor_match", match_id, reason=reason.value)
        await mark_retry(caller.program_id)  # the place is free for someone waiting
        told = [m for m in (match["newcomer"], match["mentor"]) if m != caller.membership_id]
        await notifications.emit(
            caller,
            caller.program_id,
            MatchEvent.MATCH_ENDED,
            subject=("mentor_match", match_id),
            recipients=told,
            link="/home",
        )
        if reason is EndReason.REMATCH_REQUESTED:
            newcomer = await accounts.caller_for_membership(match["newcomer"])
            if newcomer is not None:
                await _new_request(newcomer, await profiles.get_intake(newcomer))
    return await get_match(caller, match_id)


async def ask_for_another_mentor(caller: Caller) -> RequestOut:
    """The newcomer leaves their mentor without giving a reason and asks for someone else; that
    mentor is never proposed to them again."""
    active = (
        await MentorMatch.select(MentorMatch.id)
        .where(
            (MentorMatch.newcomer == caller.membership_id)
            & (MentorMatch.status == MatchStatus.ACTIVE.value)
        )
        .first()
    )
    if active is None:
        raise NotFound("You have no active match.")
    await end_match(caller, active["id"], EndReason.REMATCH_REQUESTED)
    return await my_request(caller)


async def home_summary(caller: Caller) -> dict[str, Any]:
    """What each role's home page shows of the journey: active matches, offers, the queue."""
    if caller.is_staff:
        return {
            "matches": await active_matches(caller),
            "review_count": await _PROPOSALS_WAITING.run(
                caller.program_id, ProposalStatus.PENDING.value
            ),
        }
    if caller.role is Role.MENTOR:
        # A mentor's home names their mentees only: what a newcomer shares is read (and the
        # read recorded) on the mentees page, so none of it is loaded here.
        mentees = await _MY_MENTEES.run(
            caller.program_id, MatchStatus.ACTIVE.value, caller.membership_id
        )
        return {
            "mentee_names": [row["name"] or "" for row in mentees],
            "open_offers": await _OPEN_OFFERS.run(caller.membership_id, OfferStatus.OPEN.value),
        }
    # A newcomer's names their mentor and the ways to meet they share (never the intake's words).
    return {"matches": await my_matches(caller, shown=False)}


# --- batch matching ---------------------------------------------------------------------------

BATCH_LEASE_SECONDS = 900  # a run outliving this is presumed dead and its lease taken over
STORE_CHUNK = 500  # proposals stored per transaction: other writers get in between on SQLite


def _holder() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take_batch_lease(program_id: int, holder: str) -> bool:
    """Take the program's batch lease, or take it over once it has expired, in one atomic
    upsert: whoever's statement writes the row holds it, and nobody else can until it expires
    or is released."""
    now = clock.now()
    rows = await (
        BatchLease.insert(
            BatchLease(
                program=program_id,
                holder=holder,
                expires_at=now + timedelta(seconds=BATCH_LEASE_SECONDS),
            )
        )
        .on_conflict(
            target=BatchLease.program,
            action="DO UPDATE",
            values=[BatchLease.holder, BatchLease.expires_at],
            where=BatchLease.expires_at <= now,
        )
        .returning(BatchLease.holder)
    )
    return bool(rows) and rows[0]["holder"] == holder


async def release_batch_lease(program_id: int, holder: str) -> None:
    await BatchLease.delete().where(
        (BatchLease.program == program_id) & (BatchLease.holder == holder)
    )


@asynccontextmanager
async def _one_batch_at_a_time(program_id: int) -> AsyncIterator[bool]:
    """Whether this run may go ahead, for the whole run, across every process: on PostgreSQL a
    transaction-level advisory lock (the run is one transaction there, so a crash releases it);
    on SQLite a lease row, taken before the run and released after it, so the reads and the
    engine run outside any write lock and other writers get in between the stored chunks."""
    if _is_postgres():
        async with transaction():
            rows = await MentorRequest.raw(
                "SELECT pg_try_advisory_xact_lock({}, {}) AS locked", BATCH_LOCK, program_id
            )
            yield bool(rows[0]["locked"])
        return
    holder = _holder()
    if not await take_batch_lease(program_id, holder):
        yield False
        return
    try:
        yield True
    finally:
        await release_batch_lease(program_id, holder)


async def _excluded_by_request(requests: list[dict[str, Any]]) -> dict[int, set[int]]:
    """`_excluded_mentors` for a whole queue in three queries: request id -> mentor ids."""
    by_newcomer: dict[int, set[int]] = {}
    request_ids = [r["id"] for r in requests]
    newcomer_ids = sorted({r["newcomer"] for r in requests})
    excluded: dict[int, set[int]] = {r["id"]: set() for r in requests}
    if not requests:
        return excluded
    for chunk in _chunks(newcomer_ids):
        ended = await MentorMatch.select(MentorMatch.newcomer, MentorMatch.mentor).where(
            MentorMatch.newcomer.is_in(chunk)
            & (MentorMatch.status == MatchStatus.ENDED.value)
            & (
                (MentorMatch.ended_by_role == Role.NEWCOMER.value)
                | (MentorMatch.end_reason == EndReason.SAFETY.value)
                | (MentorMatch.end_reason == EndReason.REMATCH_REQUESTED.value)
            )
        )
        for row in ended:
            by_newcomer.setdefault(row["newcomer"], set()).add(row["mentor"])
    for chunk in _chunks(request_ids):
        declined = await MentorOffer.select(MentorOffer.request, MentorOffer.mentor).where(
            MentorOffer.request.is_in(chunk)
            & MentorOffer.status.is_in(
                [OfferStatus.DECLINED.value, OfferStatus.LAPSED.value, OfferStatus.WITHDRAWN.value]
            )
        )
        turned_down = await MatchProposal.select(MatchProposal.request, MatchProposal.mentor).where(
            MatchProposal.request.is_in(chunk)
            & (MatchProposal.status == ProposalStatus.DECLINED.value)
        )
        for row in (*declined, *turned_down):
            excluded[row["request"]].add(row["mentor"])
    for request in requests:
        excluded[request["id"]] |= by_newcomer.get(request["newcomer"], set())
    return excluded


def _chunks(ids: list[int], size: int = 5_000) -> Iterator[list[int]]:
    """Id lists short enough for one `IN (...)` on either database."""
    for first in range(0, len(ids), size):
        yield ids[first : first + size]


async def _store_batch(
    program_id: int,
    pairs: list[tuple[dict[str, Any], list[dict[str, Any]], bool]],
    weighted: tuple[Any, int],
    settings: accounts.ProgramSettings,
) -> list[int]:
    """Store a chunk of the run's proposals in one transaction: requests still waiting (one
    may have been withdrawn or retried since the run read it) get their proposal, the rows and
    audit events written in a few statements. Auto-approval goes one by one (it makes offers,
    which take the mentor's lock). Returns the new proposal ids."""
    async with transaction():
        if settings.auto_approve_matches:
            await places_changed(program_id)
        query = MentorRequest.select(MentorRequest.id).where(
            MentorRequest.id.is_in([request["id"] for request, _, _ in pairs])
            & (MentorRequest.status == RequestStatus.WAITING.value)
        )
        still = {row["id"] for row in await (query.lock_rows() if _is_postgres() else query)}
        pairs = [pair for pair in pairs if pair[0]["id"] in still]
        reviewed = []
        for request, ranked, flagged in pairs:
            if (
                settings.auto_approve_matches
                and not flagged
                and ranked[0]["score"] >= settings.auto_approve_min_score
            ):
                await _store_proposal(None, request, ranked, weighted, settings, flagged=flagged)
            else:
                reviewed.append((request, ranked, flagged))
        if not reviewed:
            return []
        now = clock.now()
        policy, version = weighted
        weights = engine.weights_of(policy)
        rows = await MatchProposal.insert(
            *(
                MatchProposal(
                    request=request["id"],
                    program=program_id,
                    mentor=ranked[0]["mentor_id"],
                    score=ranked[0]["score"],
                    explanation=ranked[0],
                    alternatives=ranked[1:],
                    weights=weights,
                    weights_version=version,
                    status=ProposalStatus.PENDING.value,
                    created_at=now,
                )
                for request, ranked, _ in reviewed
            )
        ).returning(MatchProposal.id)
        proposal_ids = [row["id"] for row in rows]
        status = _advance("request", RequestStatus.WAITING.value, Action.PROPOSE)
        await MentorRequest.update(
            {
                MentorRequest.status: status,
                MentorRequest.unmatched_reasons: {},
                MentorRequest.updated_at: now,
            }
        ).where(MentorRequest.id.is_in([request["id"] for request, _, _ in reviewed]))
        await audit.record_many(
            None,
            "match.proposed",
            "match_proposal",
            [
                (proposal_id, {"request_id": request["id"], "mentor_id": ranked[0]["mentor_id"]})
                for proposal_id, (request, ranked, _) in zip(proposal_ids, reviewed, strict=True)
            ],
            program_id=program_id,
        )
    return proposal_ids


async def run_batch(program_id: int) -> BatchRunOut | None:
    """Match everyone waiting in a program at once (`matching.assign`) and turn the result
    into proposals for review; the run's figures, with where the time went, are stored. None
    when another run (in any process) holds the program's lock or lease."""
    started, clock_start = clock.now(), time.perf_counter()
    marks: dict[str, float] = {}

    def mark(step: str) -> None:
        marks[step] = time.perf_counter()

    async with _one_batch_at_a_time(program_id) as may_run:
        if not may_run:
            return None
        rows = (
            await MentorRequest.select()
            .where(
                (MentorRequest.program == program_id)
                & (MentorRequest.status == RequestStatus.WAITING.value)
            )
            .order_by(MentorRequest.created_at)
            .output(load_json=True)
        )
        settings = await accounts.program_settings(program_id)
        policy, version = await program_policy(program_id, settings)
        today = clock.today()
        reader = program_caller(program_id)
        found: dict[int, NewcomerIntakeOut] = {}
        for chunk in _chunks([row["newcomer"] for row in rows]):
            found |= await profiles.intakes(reader, chunk)
        rows = [row for row in rows if row["newcomer"] in found]  # an intake deleted since
        excluded = await _excluded_by_request(rows)
        mark("load_requests")
        newcomers = [
            engine.newcomer_record(
                found[row["newcomer"]], today, excluded[row["id"]], row["created_at"].date()
            )
            for row in rows
        ]
        requests = {str(row["newcomer"]): row for row in rows}
        index = await _index(program_id, policy)
        mark("load_mentors")
        result = await anyio.to_thread.run_sync(engine.assign, newcomers, index, policy)
        mark("assign")
        by_id = {n.id: n for n in newcomers}
        explained = engine.propose_many(
            [by_id[pair.newcomer_id] for pair in result.matches],
            index,
            policy,
            [pair.mentor_id for pair in result.matches],
        )
        pairs = [
            (
                requests[pair.newcomer_id],
                ranked,
                bool(excluded[requests[pair.newcomer_id]["id"]]),
            )
            for pair, ranked in zip(result.matches, explained, strict=True)
        ]
        mark("explain")
        proposal_ids: list[int] = []
        for first in range(0, len(pairs), STORE_CHUNK):
            chunk = pairs[first : first + STORE_CHUNK]
            proposal_ids += await _store_batch(program_id, chunk, (policy, version), settings)
        unmatched = dict(Counter(u.reason for u in result.unmatched))
        async with transaction():
            done = time.perf_counter()
            timings = _timings(clock_start, marks, done)
            run = BatchRun(
                program=program_id,
                started_at=started,
                seconds=round(done - clock_start, 3),
                waiting=len(newcomers),
                proposed=len(result.matches),
                unmatched=unmatched,
                timings=timings,
            )
            stored = await BatchRun.insert(run).returning(BatchRun.id)
            await audit.record(
                None,
                "match.batch_run",
                "match_batch_run",
                stored[0]["id"],
                program_id=program_id,
                waiting=len(newcomers),
                proposed=len(result.matches),
            )
            if proposal_ids:
                # One notice for the run, not one per proposal: the queue page lists them.
                await notifications.emit(
                    None,
                    program_id,
                    MatchEvent.BATCH_PROPOSED,
                    subject=("match_batch_run", stored[0]["id"]),
                    recipients=await accounts.supervisor_ids(program_id),
                    link="/staff/matches",
                )
    return BatchRunOut(
        started_at=started,
        seconds=run.seconds,
        waiting=run.waiting,
        proposed=run.proposed,
        unmatched=unmatched,
        timings=timings,
    )


def _timings(start: float, marks: dict[str, float], done: float) -> dict[str, float]:
    """Seconds per step of a run, in order: loading the queue (requests, intakes, exclusions),
    loading the mentors (gate, places, index), assign, explaining the pairs, storing them."""
    steps, previous = {}, start
    for step, at in (*marks.items(), ("store", done)):
        steps[step] = round(at - previous, 3)
        previous = at
    return steps


async def latest_batch_run(caller: Caller) -> BatchRunOut | None:
    row = await _LATEST_BATCH_RUN.run(caller.program_id)
    if row is None:
        return None
    return BatchRunOut(
        started_at=row["started_at"],
        seconds=row["seconds"],
        waiting=row["waiting"],
        proposed=row["proposed"],
        unmatched=row["unmatched"],
        timings=row["timings"],
    )


async def programs_due_for_batch() -> list[int]:
    """Programs with anyone waiting whose batch interval (`batch_interval_minutes`, 0 = off)
    has passed since their last run."""
    now, due = clock.now(), []
    for program_id in await programs_with_waiting():
        minutes = (await accounts.program_settings(program_id)).batch_interval_minutes
        if minutes <= 0:
            continue
        previous = (
            await BatchRun.select(BatchRun.started_at)
            .where(BatchRun.program == program_id)
            .order_by(BatchRun.started_at, ascending=False)
            .first()
        )
        if previous is None or now - previous["started_at"] >= timedelta(minutes=minutes):
            due.append(program_id)
    return due


async def programs_with_waiting() -> list[int]:
    """Programs with anyone waiting: where a batch run has work."""
    waiting = await MentorRequest.select(MentorRequest.program).where(
        MentorRequest.status == RequestStatus.WAITING.value
    )
    return sorted({row["program"] for row in waiting})


# --- figures for oversight (aggregates in SQL: one row per band or week, never per record) ----

# Asked for a mentor and not matched yet: what "waiting" means on the dashboard.
WAITING_FOR_MENTOR = (RequestStatus.WAITING, RequestStatus.UNDER_REVIEW, RequestStatus.OFFERED)


def _waiting_filter() -> str:
    statuses = ", ".join(f"'{status.value}'" for status in WAITING_FOR_MENTOR)
    return f"program = {{}} AND status IN ({statuses})"


@cache
def _waiting_by_age_query(bands: int) -> Prepared[Any]:
    """The GROUP BY behind `waiting_by_age` for this many bounds, built and compiled once
    (the supervisor's home runs it on every view)."""
    cases = " ".join(f"WHEN created_at > {{}} THEN {band}" for band in range(bands))
    sql = (
        f"SELECT CASE {cases} ELSE {bands} END AS band, COUNT(*) AS n "  # noqa: S608
        f"FROM match_request WHERE {_waiting_filter()} GROUP BY band"
    )
    return Prepared(lambda *values: MentorRequest.raw(sql, *values), parameters=bands + 1)


async def waiting_by_age(program_id: int, bounds_days: Sequence[int]) -> list[int]:
    """Newcomers waiting for a mentor, counted in age bands: bounds [3, 7] give the counts
    waiting under 3 days, 3 to 7 days, and 7 days or more. One GROUP BY over the open requests."""
    now = clock.now()
    query = _waiting_by_age_query(len(bounds_days))
    rows = await query.run(*(now - timedelta(days=days) for days in bounds_days), program_id)
    counts = [0] * (len(bounds_days) + 1)
    for row in rows:
        counts[row["band"]] = row["n"]
    return counts


async def open_requests(caller: Caller) -> list[OpenRequestOut]:
    """Everyone waiting for a mentor in the caller's program, longest wait first."""
    rows = (
        await MentorRequest.select(
            MentorRequest.id, MentorRequest.newcomer, MentorRequest.status, MentorRequest.created_at
        )
        .where(
            (MentorRequest.program == caller.program_id)
            & MentorRequest.status.is_in([status.value for status in WAITING_FOR_MENTOR])
        )
        .order_by(MentorRequest.created_at)
    )
    names = await _names(caller.program_id, [row["newcomer"] for row in rows])
    now = clock.now()
    return [
        OpenRequestOut(
            id=row["id"],
            newcomer_id=row["newcomer"],
            newcomer_name=names.get(row["newcomer"], ""),
            status=row["status"],
            requested_at=row["created_at"],
            waited_days=round((now - row["created_at"]).total_seconds() / 86400, 1),
        )
        for row in rows
    ]


async def weekly_time_to_match(
    program_id: int, since: datetime, until: datetime
) -> list[tuple[date, float, int]]:
    """(week, median days from asking to an active match, matches) for each week in
    [since, until) with any match. The database buckets and measures; medians need the
    week's waits, so only the matched requests of the period are read (over the index)."""
    rows = await MentorRequest.raw(
        f"SELECT {buckets.week_start('matched_at')} AS week, "  # noqa: S608
        f"{buckets.days_between('created_at', 'matched_at')} AS days FROM match_request "
        "WHERE program = {} AND matched_at >= {} AND matched_at < {} ORDER BY week",
        program_id,
        since,
        until,
    )
    by_week: dict[date, list[float]] = {}
    for row in rows:
        by_week.setdefault(buckets.as_date(row["week"]), []).append(float(row["days"]))
    return [(week, round(median(days), 1), len(days)) for week, days in by_week.items()]


async def weekly_match_retention(
    program_id: int, since: datetime, until: datetime
) -> list[RetentionWeek]:
    """Matches by the week they started in [since, until): how many, and how many were
    still active 30 and 90 days after they started (of those old enough to tell)."""
    now = clock.now()
    lasted = buckets.days_between("started_at", "ended_at")
    rows = await MentorMatch.raw(
        f"SELECT {buckets.week_start('started_at')} AS week, COUNT(*) AS started, "  # noqa: S608
        "SUM(CASE WHEN started_at <= {} THEN 1 ELSE 0 END) AS known_30, "
        "SUM(CASE WHEN started_at <= {} AND (ended_at IS NULL OR "
        f"{lasted} >= 30) THEN 1 ELSE 0 END) AS lasted_30, "
        "SUM(CASE WHEN started_at <= {} THEN 1 ELSE 0 END) AS known_90, "
        "SUM(CASE WHEN started_at <= {} AND (ended_at IS NULL OR "
        f"{lasted} >= 90) THEN 1 ELSE 0 END) AS lasted_90 "
        "FROM mentor_match WHERE program = {} AND started_at >= {} AND started_at < {} "
        "GROUP BY week ORDER BY week",
        *(now - timedelta(days=30),) * 2,
        *(now - timedelta(days=90),) * 2,
        program_id,
        since,
        until,
    )
    return [
        RetentionWeek(
            week=buckets.as_date(row["week"]),
            **{key: int(row[key] or 0) for key in RetentionWeek.__struct_fields__[1:]},
        )
        for row in rows
    ]


# --- a person's own data -----------------------------------------------------------------------


async def export_matches(caller: Caller) -> dict[str, Any]:
    """The caller's own requests, the proposals that named them, offers (with their own decline
    reasons) and matches. Staff notes on proposals are staff's own words and stay out."""
    me = caller.membership_id
    requests = await MentorRequest.select(
        MentorRequest.id, MentorRequest.status, MentorRequest.created_at, MentorRequest.matched_at
    ).where(MentorRequest.newcomer == me)
    proposals = await MatchProposal.select(
        MatchProposal.id,
        MatchProposal.request,
        MatchProposal.status,
        MatchProposal.score,
        MatchProposal.created_at,
        MatchProposal.reviewed_at,
    ).where((MatchProposal.mentor == me) | (MatchProposal.request.newcomer == me))
    offers = await MentorOffer.select(
        MentorOffer.id,
        MentorOffer.status,
        MentorOffer.created_at,
        MentorOffer.answered_at,
        MentorOffer.decline_reason,
    ).where(MentorOffer.mentor == me)
    matches = await MentorMatch.select(
        MentorMatch.id,
        MentorMatch.status,
        MentorMatch.started_at,
        MentorMatch.ended_at,
        MentorMatch.ended_by_role,
    ).where((MentorMatch.newcomer == me) | (MentorMatch.mentor == me))
    return {
        "match_requests": requests,
        "match_proposals": proposals,
        "match_offers": offers,
        "matches": matches,
    }


def _without(explained: dict[str, Any], people: set[int]) -> dict[str, Any]:
    """An explanation with a named mentor taken out (scores and reasons stay)."""
    if explained.get("mentor_id") in people:
        return {**explained, "mentor_id": None}
    return explained


async def _unlink_requests(request_ids: list[int]) -> None:
    """Take every person off these requests and all that came of them: the statuses, times,
    scores, reasons and outcomes stay for the program's figures and the outcome loop; who
    asked, who was proposed, who reviewed, and anything anyone wrote about it go."""
    if not request_ids:
        return
    await MentorRequest.update({MentorRequest.newcomer: None}).where(
        MentorRequest.id.is_in(request_ids)
    )
    await MentorMatch.update({MentorMatch.newcomer: None, MentorMatch.mentor: None}).where(
        MentorMatch.request.is_in(request_ids)
    )
    await MentorOffer.update({MentorOffer.mentor: None, MentorOffer.decline_reason: ""}).where(
        MentorOffer.request.is_in(request_ids)
    )
    proposals = (
        await MatchProposal.select(
            MatchProposal.id, MatchProposal.explanation, MatchProposal.alternatives
        )
        .where(MatchProposal.request.is_in(request_ids))
        .output(load_json=True)
    )
    for row in proposals:
        await MatchProposal.update(
            {
                MatchProposal.mentor: None,
                MatchProposal.chosen_mentor: None,
                MatchProposal.reviewed_by: None,
                MatchProposal.staff_note: "",
                MatchProposal.explanation: {**row["explanation"], "mentor_id": None},
                MatchProposal.alternatives: [{**a, "mentor_id": None} for a in row["alternatives"]],
            }
        ).where(MatchProposal.id == row["id"])


async def forget(caller: Caller) -> None:
    """When a person erases their account (inside that transaction, after `leave`): their
    requests lose every link to anyone, and wherever else they appear (as a mentor, a
    reviewer, an alternative) their id and their words go. Match history stays, anonymous."""
    me = caller.membership_id
    mine = await MentorRequest.select(MentorRequest.id).where(MentorRequest.newcomer == me)
    await _unlink_requests([row["id"] for row in mine])
    await MentorMatch.update({MentorMatch.mentor: None}).where(MentorMatch.mentor == me)
    await MentorOffer.update({MentorOffer.mentor: None, MentorOffer.decline_reason: ""}).where(
        MentorOffer.mentor == me
    )
    await MatchProposal.update(
        {MatchProposal.reviewed_by: None, MatchProposal.staff_note: ""}
    ).where(MatchProposal.reviewed_by == me)
    await MatchProposal.update({MatchProposal.chosen_mentor: None}).where(
        MatchProposal.chosen_mentor == me
    )
    await MatchProposal.update({MatchProposal.mentor: None}).where(MatchProposal.mentor == me)
    await MatchWeights.update({MatchWeights.suggested_by: None}).where(
        MatchWeights.suggested_by == me
    )
    await MatchWeights.update({MatchWeights.decided_by: None}).where(MatchWeights.decided_by == me)
    # A mentor may be named inside any proposal's explanation or alternatives.
    rows = (
        await MatchProposal.select(
            MatchProposal.id, MatchProposal.explanation, MatchProposal.alternatives
        )
        .where(MatchProposal.program == caller.program_id)
        .output(load_json=True)
    )
    for row in rows:
        named = [row["explanation"], *row["alternatives"]]
        if all(item.get("mentor_id") != me for item in named):
            continue
        await MatchProposal.update(
            {
                MatchProposal.explanation: _without(row["explanation"], {me}),
                MatchProposal.alternatives: [_without(a, {me}) for a in row["alternatives"]],
            }
        ).where(MatchProposal.id == row["id"])


async def purge_ended_matches() -> int:
    """Retention: matches that ended longer ago than their program's
    `ended_match_retention_days` lose who was in them (their requests, proposals and offers
    too); the anonymous outcome stays. Returns how many matches were unlinked. Safe to run in
    several processes at once (each update is idempotent)."""
    purged = 0
    for program in await accounts.program_ids():
        settings = await accounts.program_settings(program)
        cutoff = clock.now() - timedelta(days=settings.ended_match_retention_days)
        async with transaction():
            rows = await MentorMatch.select(MentorMatch.request).where(
                (MentorMatch.program == program)
                & (MentorMatch.ended_at.is_not_null())
                & (MentorMatch.ended_at < cutoff)
                & (MentorMatch.newcomer.is_not_null() | MentorMatch.mentor.is_not_null())
            )
            requests = sorted({row["request"] for row in rows})
            await _unlink_requests(requests)
            if requests:
                await audit.record(
                    None,
                    "match.retention_purged",
                    "mentor_match",
                    "retention",
                    program_id=program,
                    matches=len(rows),
                )
        purged += len(rows)
    return purged


async def leave(caller: Caller) -> None:
    """Before an account is deleted: end its active matches (the other person is told kindly),
    withdraw its open request, and hand a departing mentor's open offers to the next mentor."""
    for match in await my_matches(caller, shown=False):
        reason = EndReason.MENTOR_UNAVAILABLE if caller.role is Role.MENTOR else EndReason.COMPLETED
        await end_match(caller, match.id, reason)
    if caller.role is Role.NEWCOMER and await _open_request(caller.membership_id) is not None:
        await withdraw_request(caller)
    if caller.role is Role.MENTOR:
        offers = await MentorOffer.select(MentorOffer.id).where(
            (MentorOffer.mentor == caller.membership_id)
            & (MentorOffer.status == OfferStatus.OPEN.value)
        )
        for offer in offers:
            async with transaction():
                await places_changed(caller.program_id)
                await _close_offer(caller, await _my_offer(caller, offer["id"]), Action.WITHDRAW)


# --- the outcome loop: weights learned from how past matches turned out ------------------------


async def _adopted_weights(program_id: int) -> dict[str, Any] | None:
    """The program's adopted weights with the highest version, or None (the defaults)."""
    return (
        await MatchWeights.select()
        .where(
            (MatchWeights.program == program_id)
            & (MatchWeights.status == WeightsStatus.ADOPTED.value)
        )
        .order_by(MatchWeights.version, ascending=False)
        .output(load_json=True)
        .first()
    )


async def program_policy(
    program_id: int, settings: accounts.ProgramSettings | None = None
) -> tuple[Any, int]:
    """The engine's `Policy` for a program, built from its current adopted weights, and that
    version's number (0: the engine's defaults)."""
    if settings is None:
        settings = await accounts.program_settings(program_id)
    adopted = await _adopted_weights(program_id)
    weights = None if adopted is None else adopted["weights"]
    version = DEFAULT_VERSION if adopted is None else adopted["version"]
    return engine.policy_for(settings, clock.today(), weights), version


async def outcome_history(program_id: int, concern_match_ids: set[int]) -> list[Any]:
    """The program's past matches with a known outcome, as the engine's `PastMatch` records:
    lasting (active at 90 days), ended early, or a concern raised (`concern_match_ids`, from
    the caller: `matches` cannot ask the safety slice). Each profile is read as saved now, with
    time in recovery counted at the match's start; a match whose newcomer or mentor has no
    profile any more is left out."""
    now = clock.now()
    rows = (
        await MentorMatch.select(
            MentorMatch.id,
            MentorMatch.newcomer,
            MentorMatch.mentor,
            MentorMatch.started_at,
            MentorMatch.ended_at,
            MentorMatch.request.created_at,
        )
        .where(MentorMatch.program == program_id)
        .order_by(MentorMatch.id)
    )
    known = []
    for row in rows:
        outcome = outcomes.outcome_of(
            row["started_at"], row["ended_at"], now, concern=row["id"] in concern_match_ids
        )
        if outcome is not None:
            known.append((row, outcome))
    reader = program_caller(program_id)
    mentors = await profiles.mentor_profiles(reader, sorted({row["mentor"] for row, _ in known}))
    intakes: dict[int, NewcomerIntakeOut] = {}
    for chunk in _chunks(sorted({row["newcomer"] for row, _ in known})):
        intakes |= await profiles.intakes(reader, chunk)
    history = []
    for row, outcome in known:
        intake, mentor = intakes.get(row["newcomer"]), mentors.get(row["mentor"])
        if intake is None or mentor is None:
            continue
        then = row["started_at"].date()
        history.append(
            engine.past_match(
                engine.newcomer_record(intake, then, (), row["request.created_at"].date()),
                engine.mentor_record(mentor, then, 1, 0),
                outcome.value,
            )
        )
    return history


def _weights_out(row: dict[str, Any]) -> WeightsVersionOut:
    evaluation = row["evaluation"]
    return WeightsVersionOut(
        version=row["version"],
        status=row["status"],
        weights=row["weights"],
        summary=outcomes.evaluation_sentence(
            evaluation["auc_suggested"],
            evaluation["auc_current"],
            evaluation["held_out"],
            evaluation["history"],
        ),
        history=evaluation["history"],
        held_out=evaluation["held_out"],
        auc_current=evaluation["auc_current"],
        auc_suggested=evaluation["auc_suggested"],
        based_on_version=evaluation["based_on_version"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )


def _default_weights_out() -> WeightsVersionOut:
    return WeightsVersionOut(
        version=DEFAULT_VERSION,
        status=WeightsStatus.ADOPTED.value,
        weights=engine.default_weights(),
        summary="The engine's own weights: nothing learned from this program's outcomes yet.",
        history=0,
        held_out=0,
        auc_current=None,
        auc_suggested=None,
        based_on_version=DEFAULT_VERSION,
        created_at=None,
        decided_at=None,
    )


async def weights_review(caller: Caller) -> WeightsReviewOut:
    """The weights in use, the latest suggestion waiting for a decision, and every version."""
    rows = (
        await MatchWeights.select()
        .where(MatchWeights.program == caller.program_id)
        .order_by(MatchWeights.version, ascending=False)
        .output(load_json=True)
    )
    versions = [_weights_out(row) for row in rows]
    adopted = [v for v in versions if v.status == WeightsStatus.ADOPTED.value]
    pending = [v for v in versions if v.status == WeightsStatus.SUGGESTED.value]
    return WeightsReviewOut(
        current=adopted[0] if adopted else _default_weights_out(),
        pending=pending[0] if pending else None,
        versions=versions,
    )


async def suggest_weights(caller: Caller, concern_match_ids: set[int]) -> WeightsSuggestionOut:
    """Learn weights from the program's outcomes (`matching.fit_weights`, through the engine)
    and store them as a suggestion for a supervisor to adopt or reject; with too little history,
    or nothing clearly better, say so in plain words and store nothing."""
    policy, version = await program_policy(caller.program_id)
    history = await outcome_history(caller.program_id, concern_match_ids)
    lasting = sum(p.outcome == outcomes.Outcome.LASTING.value for p in history)
    need, need_each = engine.history_needed(policy)
    if len(history) < need or min(lasting, len(history) - lasting) < need_each:
        refused = outcomes.thin_history_sentence(len(history), lasting, need, need_each)
        return WeightsSuggestionOut(
            suggested=None, refused=refused, history=len(history), lasting=lasting
        )
    fit = await anyio.to_thread.run_sync(engine.fit_weights, history, policy)
    if not fit.changed:
        refused = outcomes.not_better_sentence(
            fit.held_out_auc_learned, fit.held_out_auc_current, fit.held_out_size, len(history)
        )
        return WeightsSuggestionOut(
            suggested=None, refused=refused, history=len(history), lasting=lasting
        )
    async with transaction():
        await _lock(WEIGHTS_LOCK, caller.program_id)
        latest = (
            await MatchWeights.select(MatchWeights.version)
            .where(MatchWeights.program == caller.program_id)
            .order_by(MatchWeights.version, ascending=False)
            .first()
        )
        row = {
            "program": caller.program_id,
            "version": (latest["version"] if latest else DEFAULT_VERSION) + 1,
            "weights": {
                name: round(float(getattr(fit.weights, name)), 4)
                for name in engine.default_weights()
            },
            "status": WeightsStatus.SUGGESTED.value,
            "evaluation": {
                "history": len(history),
                "lasting": lasting,
                "held_out": fit.held_out_size,
                "auc_current": round(fit.held_out_auc_current or 0.0, 4),
                "auc_suggested": round(fit.held_out_auc_learned or 0.0, 4),
                "based_on_version": version,
            },
            "suggested_by": caller.membership_id,
            "created_at": clock.now(),
        }
        stored = await MatchWeights.insert(MatchWeights(**row)).returning(MatchWeights.id)
        await audit.record(
            caller,
            "match.weights_suggested",
            "match_weights",
            stored[0]["id"],
            version=row["version"],
            based_on_version=version,
        )
    return WeightsSuggestionOut(
        suggested=_weights_out({**row, "decided_at": None}),
        refused=None,
        history=len(history),
        lasting=lasting,
    )


async def _decide_weights(caller: Caller, version: int, *, adopt: bool) -> WeightsVersionOut:
    async with transaction():
        await _lock(WEIGHTS_LOCK, caller.program_id)
        query: Select = MatchWeights.select().where(
            (MatchWeights.program == caller.program_id) & (MatchWeights.version == version)
        )
        rows = await for_update(query).output(load_json=True)
        if not rows:
            raise NotFound("No such weights version in your program.", field="version")
        row = rows[0]
        status = outcomes.decide(row["status"], adopt)
        if status is None:
            raise Conflict(
                f"Version {version} of the weights was already {row['status']}; look for new"
                " weights to decide again."
            )
        now = clock.now()
        await MatchWeights.update(
            {
                MatchWeights.status: status.value,
                MatchWeights.decided_by: caller.membership_id,
                MatchWeights.decided_at: now,
            }
        ).where(MatchWeights.id == row["id"])
        await audit.record(
            caller,
            "match.weights_adopted" if adopt else "match.weights_rejected",
            "match_weights",
            row["id"],
            version=version,
        )
    if adopt:
        engine.forget(caller.program_id)  # the next request builds the index with these weights
    return _weights_out({**row, "status": status.value, "decided_at": now})


async def adopt_weights(caller: Caller, version: int) -> WeightsVersionOut:
    """Adopt a suggested version: every proposal from now on is scored with it and records it."""
    return await _decide_weights(caller, version, adopt=True)


async def reject_weights(caller: Caller, version: int) -> WeightsVersionOut:
    """Turn a suggestion down: the current weights stay."""
    return await _decide_weights(caller, version, adopt=False)
