"""A realistic, deterministic demo program for trying Tandem and for the browser tests.

Same seed, same people. Every demo person shares one password, printed by the CLI. Names are
aliases; nothing here is about a real person.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from matching.vocabulary import RECOVERY_STAGES, Gender
from tandem.accounts import services as accounts
from tandem.accounts.passwords import hash_password
from tandem.core.auth import Caller, Role
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.core.errors import NotFound
from tandem.matches.demo import load_match_demo, load_outcome_history
from tandem.matches.lifecycle import EndReason, MatchStatus, RequestStatus
from tandem.matches.tables import MentorMatch, MentorRequest
from tandem.profiles import services as profiles
from tandem.profiles.schemas import MentorProfileUpdate, NewcomerIntake, Slot
from tandem.safety.care_demo import load_care_demo
from tandem.safety.demo import load_safety_demo
from tandem.settings import DEMO_PROGRAM
from tandem.training import services as training
from tandem.training.content import current_track
from tandem.training.schemas import Attempt
from tandem.training.tables import QuizAttempt

DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 - printed for people trying the demo

FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Casey", "Riley", "Morgan", "Jamie", "Avery", "Quinn",
    "Rosa", "Luis", "Maya", "Andre", "Priya", "Tomás", "Keisha", "Dmitri", "Grace", "Omar",
    "Lena", "Marcus", "Hana", "Diego", "Nia", "Eli", "Farah", "Jonah", "Ivy", "Mateo",
    "Carmen", "Wes", "Yusuf", "Bea", "Rafael", "June", "Kofi", "Sofia", "Theo", "Lupe",
)  # fmt: skip
PATHWAY_WEIGHTS = {
    "twelve_step": 40, "smart_recovery": 18, "faith_based": 12, "mindfulness": 8,
    "medication_supported": 14, "harm_reduction": 6, "secular": 6, "other": 2,
}  # fmt: skip
TIMEZONES = {
    "America/New_York": 40, "America/Chicago": 25, "America/Denver": 10,
    "America/Los_Angeles": 20, "Europe/London": 5,
}  # fmt: skip
# Genders as the demo spreads them; "prefer_not_to_say" is an answer people give, so it is seen.
GENDERS_SEEN: tuple[Gender, ...] = ("woman", "man", "nonbinary", "prefer_not_to_say")
AREAS = ("Riverside", "Eastgate", "Millbrook", "North Hills", "Harbor")
BLOCKS = (("08:00", "12:00"), ("12:00", "17:00"), ("17:00", "21:00"), ("21:00", "23:00"))
HOPES = (
    "Someone to talk to in the evenings when cravings hit.",
    "Help finding meetings and people who understand.",
    "I want to rebuild things with my kids and need support.",
    "Getting through the first months after treatment.",
    "Staying on track with my medication and work.",
    "Learning to cope with stress without using.",
    "A person who gets what it is like to be a veteran in recovery.",
    "Company on the way to meetings and someone to check in with.",
)
BIOS = (
    "In recovery for several years; I like walking, cooking and listening.",
    "Parent of two, SMART Recovery facilitator, happy to meet by video.",
    "Veteran, twelve-step, I know the early days are hard.",
    "On medication-supported recovery; I want others to know it counts.",
    "Faith is part of my recovery; I respect every path.",
)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _availability(rng: random.Random) -> list[Slot]:
    slots = {(rng.randrange(7), rng.randrange(len(BLOCKS))) for _ in range(rng.randint(2, 7))}
    return [Slot(day=d, start=BLOCKS[b][0], end=BLOCKS[b][1]) for d, b in sorted(slots)]


def _shared_traits(rng: random.Random) -> dict[str, object]:
    pathways = sorted({_weighted(rng, PATHWAY_WEIGHTS) for _ in range(rng.choice((1, 1, 2)))})
    languages = ["en"] if rng.random() < 0.78 else (["es"] if rng.random() < 0.5 else ["en", "es"])
    formats = sorted(set(rng.sample(("in_person", "video", "phone", "text"), rng.randint(1, 3))))
    return {
        "pathways": pathways,
        "languages": languages,
        "formats": formats,
        "gender": rng.choices(GENDERS_SEEN, weights=(47, 47, 4, 2))[0],
        "timezone": _weighted(rng, TIMEZONES),
        "availability": _availability(rng),
        "area": rng.choice(AREAS),
        "lived_experience": sorted(
            set(rng.sample(("parenting", "veteran", "chronic_pain", "mental_health",
                            "criminal_legal", "lgbtq", "grief"), rng.randint(0, 2)))
        ),
    }  # fmt: skip


async def _caller(membership_id: int) -> Caller:
    caller = await accounts.caller_for_membership(membership_id)
    assert caller is not None  # noqa: S101 - created just before
    return caller


def _answers(attempt: Attempt, *, well: bool) -> dict[str, int]:
    """Answer a demo quiz from the content's own key (well) or one option off (not well)."""
    module = current_track().module(attempt.module_id)
    assert module is not None  # noqa: S101 - the attempt was drawn from it
    answers = {}
    for shown in attempt.questions:
        question = module.question(shown.id)
        assert question is not None  # noqa: S101
        shift = 0 if well else 1
        best = shown.options.index(question.best.text)  # options are shuffled per attempt
        answers[shown.id] = (best + shift) % len(shown.options)
    return answers


async def _take(caller: Caller, module_ids: list[str], when: datetime, *, well: bool) -> None:
    """Read each module and take its quiz at `when` (a few minutes apart), through the services."""
    # One transaction per mentor: SQLite then keeps one connection instead of one per query.
    with clock.frozen(when):
        async with transaction():
            for module_id in module_ids:
                await training.mark_read(caller, module_id)
                attempt = await training.start_attempt(caller, module_id)
                await training.submit_attempt(caller, attempt.id, _answers(attempt, well=well))
                clock.advance(timedelta(minutes=25))


# Mentors (by index) part-way through the track: how many modules each has passed.
IN_TRAINING = {26: 3, 27: 1, 28: 2, 29: 4, 30: 5}


async def _train(caller: Caller, index: int) -> None:
    """Put demo mentor `index` in one training state, so every state can be seen.

    0-5 pending review (two of them already training), 6-25 and 36-39 whole track passed and
    current (spread over the past year, two renew soon; 36-39 are paused), 26-30 part-way,
    31 locked after three tries, 32 expired 10 days ago (existing matches in their grace period),
    33 expired 55 days ago, 34-35 not started.
    """
    now = clock.now()
    modules = [module.id for module in current_track().modules]
    if index in (1, 2):
        await _take(caller, modules[:2], now - timedelta(days=5), well=True)
    elif 6 <= index <= 25 or index >= 36:
        # Passed over the past year; 10 and 18 passed 350 days ago, so their safety modules are
        # due for renewal within the month.
        days_ago = 350 if index % 8 == 2 else 20 + (index * 17) % 300
        await _take(caller, modules, now - timedelta(days=days_ago), well=True)
    elif index in IN_TRAINING:
        await _take(caller, modules[: IN_TRAINING[index]], now - timedelta(days=3), well=True)
    elif index == 31:
        await _take(caller, modules[:1], now - timedelta(days=9), well=True)
        for days_ago in (8, 7, 5):  # each after a review, the third after the day's wait
            await _take(caller, modules[1:2], now - timedelta(days=days_ago), well=False)
    elif index in (32, 33):
        await _take(caller, modules, now - timedelta(days=375 if index == 32 else 420), well=True)


LASTED_DAYS = (30, 90, 240, 240)
# How the past ended, as a program sees it: most matches run their course, some end early.
PAST_ENDINGS = {
    EndReason.COMPLETED: 70,
    EndReason.REMATCH_REQUESTED: 18,
    EndReason.MENTOR_UNAVAILABLE: 12,
}


async def insert_rows(rows: list[Any], returning: Any = None) -> list[dict[str, Any]]:
    """Insert rows of one table in statements of at most 500 rows (PostgreSQL takes at most
    32,767 parameters a statement); with `returning`, the new rows' values, in order."""
    returned: list[dict[str, Any]] = []
    for start in range(0, len(rows), 500):
        query = type(rows[0]).insert(*rows[start : start + 500])
        if returning is not None:
            returned.extend(await query.returning(returning))
        else:
            await query
    return returned


async def load_history(
    program_id: int,
    newcomer_ids: list[int],
    mentor_ids: list[int],
    trained_ids: list[int],
    *,
    days: int = 730,
    seed: int = 7,
) -> int:
    """Two years (`days`) of the past for the trends: each newcomer of `newcomer_ids` asked,
    waited and was matched to a mentor of `mentor_ids` one or more times, every match ended
    since; each mentor of `trained_ids` first completed the track on a day in that time.

    Written in bulk (a few INSERTs of many rows, no per-row service calls) so loading the demo
    stays quick; the rows are what the services would have written. Returns the matches made.
    """
    rng = random.Random(seed)
    now = clock.now()
    requests: list[MentorRequest] = []
    ends: list[tuple[int, datetime, datetime, EndReason]] = []
    for newcomer in newcomer_ids:
        asked = now - timedelta(days=rng.uniform(days * 0.55, days))
        while True:
            # Waits shorten as the program grows: about 12 days two years ago, 4 lately.
            age = (now - asked).days / days
            matched = asked + timedelta(days=rng.uniform(0.5, 2 + 14 * age))
            # A quarter end within a month, a quarter within three, half run longer.
            lasted = timedelta(days=rng.choice(LASTED_DAYS) * rng.uniform(0.3, 1))
            ended = matched + lasted
            if ended >= now - timedelta(days=1):
                break
            requests.append(
                MentorRequest(
                    newcomer=newcomer,
                    program=program_id,
                    status=RequestStatus.MATCHED.value,
                    languages=[],
                    formats=[],
                    unmatched_reasons={},
                    created_at=asked,
                    updated_at=matched,
                    matched_at=matched,
                )
            )
            reason = rng.choices(list(PAST_ENDINGS), weights=list(PAST_ENDINGS.values()))[0]
            ends.append((newcomer, matched, ended, reason))
            asked = ended + timedelta(days=rng.uniform(20, 200))
    if requests:
        stored = await insert_rows(requests, MentorRequest.id)
        await insert_rows(
            [
                MentorMatch(
                    request=row["id"],
                    program=program_id,
                    newcomer=newcomer,
                    mentor=rng.choice(mentor_ids),
                    status=MatchStatus.ENDED.value,
                    started_at=matched,
                    ended_at=ended,
                    end_reason=reason.value,
                    ended_by_role=Role.NEWCOMER.value,
                )
                for row, (newcomer, matched, ended, reason) in zip(stored, ends, strict=True)
            ]
        )
    modules = current_track().modules
    passes = []
    for mentor in trained_ids:
        done = now - timedelta(days=rng.uniform(365, days))
        for step, module in enumerate(modules):
            at = done + timedelta(minutes=25 * step)
            passes.append(
                QuizAttempt(
                    membership=mentor,
                    program=program_id,
                    module_id=module.id,
                    content_version=module.version,
                    question_ids=[],
                    option_orders={},
                    answers={},
                    started_at=at - timedelta(minutes=20),
                    submitted_at=at,
                    correct_count=module.quiz_length,
                    score=1.0,
                    critical_missed=0,
                    passed=True,
                )
            )
    if passes:
        await insert_rows(passes)
    return len(requests)


async def load_demo(seed: int = 7) -> list[tuple[str, str, str]] | None:
    """Create the demo program. Returns the logins to print, or None if it already exists."""
    try:
        await accounts.program_by_slug(DEMO_PROGRAM)
    except NotFound:
        pass
    else:
        return None
    rng = random.Random(seed)
    password_hash = await hash_password(DEMO_PASSWORD)
    program_id = await accounts.create_program(DEMO_PROGRAM, "Riverside Recovery Community")
    logins: list[tuple[str, str, str]] = []

    async def member(username: str, name: str, role: Role) -> int:
        return await accounts.create_member(
            program_id=program_id,
            username=username,
            display_name=name,
            password_hash=password_hash,
            role=role,
        )

    admin = await member("admin", "Pat", Role.ADMIN)
    logins.append(("admin", "admin", DEMO_PASSWORD))
    for index, name in enumerate(("Dana", "Chris"), start=1):
        await member(f"supervisor{index}", name, Role.SUPERVISOR)
        logins.append(("supervisor", f"supervisor{index}", DEMO_PASSWORD))
    staff = await _caller(admin)

    # 40 mentors: 6 pending review, 4 paused, the rest approved; training states in `_train`.
    today = clock.today()
    mentors: dict[int, Caller] = {}
    for index in range(40):
        membership_id = await member(
            f"mentor{index + 1:02d}", FIRST_NAMES[index % len(FIRST_NAMES)], Role.MENTOR
        )
        traits = _shared_traits(rng)
        recovery = today - timedelta(days=rng.randint(300, 5000))
        caller = await _caller(membership_id)
        await profiles.save_mentor_profile(
            caller,
            MentorProfileUpdate(
                recovery_start=recovery,
                capacity=rng.choice((1, 2, 2, 3, 4)),
                bio=rng.choice(BIOS),
                **traits,  # type: ignore[arg-type]
            ),
        )
        if index >= 6:
            await accounts.approve_mentor(staff, membership_id)
        if index >= 36:
            await profiles.set_paused(await _caller(membership_id), True)
        await _train(await _caller(membership_id), index)
        mentors[membership_id] = await _caller(membership_id)
    logins.append(("mentor (trained)", "mentor07", DEMO_PASSWORD))
    logins.append(("mentor (in training)", "mentor27", DEMO_PASSWORD))
    logins.append(("mentor (pending review)", "mentor01", DEMO_PASSWORD))

    # 100 newcomers; the last 10 have not filled in their intake yet.
    newcomers: list[Caller] = []
    for index in range(100):
        name = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        membership_id = await member(f"newcomer{index + 1:03d}", name, Role.NEWCOMER)
        newcomers.append(await _caller(membership_id))
        if index >= 90:
            continue
        traits = _shared_traits(rng)
        await profiles.save_intake(
            await _caller(membership_id),
            NewcomerIntake(
                # The four earliest stages, named as the engine names them.
                recovery_stage=rng.choice(RECOVERY_STAGES[:4]),
                pathway_strictness=rng.choices(("preferred", "strict", "open"), weights=(6, 2, 2))[
                    0
                ],  # type: ignore[arg-type]
                wanted_gender=rng.choices(("same", "any"), weights=(7, 3))[0],  # type: ignore[arg-type]
                hopes=rng.choice(HOPES),
                barriers=rng.sample(("transport", "childcare", "cost"), rng.randint(0, 1)),  # type: ignore[arg-type]
                share_with_mentor=["pathways", "hopes"],
                **traits,  # type: ignore[arg-type]
            ),
        )
    logins.append(("newcomer (ready to ask)", "newcomer001", DEMO_PASSWORD))
    # Older ended matches with their outcomes, for the weights review (before today's journey).
    await load_outcome_history(program_id, newcomers, mentors, seed)
    # The match journey: a history for the wait estimate and one person at each step today.
    steps = await load_match_demo(staff, newcomers, mentors, seed)
    # Check-ins for the active matches, one of them gone quiet.
    steps |= await load_care_demo(mentors)
    # Two years of the past for the trends, for those the journey left without a history.
    await load_history(
        program_id,
        [n.membership_id for n in newcomers[34:90]],
        list(mentors)[6:36],
        sorted(await training.trained_mentor_ids(program_id)),
        seed=seed,
    )
    usernames = await accounts.usernames_of(staff, list(steps.values()))
    logins.extend((label, usernames[m], DEMO_PASSWORD) for label, m in steps.items())
    # Concerns in every state, none about the people the logins above name.
    trained = list(mentors)[6]  # mentor07, "trained and can be matched"
    await load_safety_demo(staff, newcomers, {*steps.values(), trained})
    logins.append(("newcomer (new)", "newcomer100", DEMO_PASSWORD))
    count = len(await accounts.list_members(staff))
    logins.append(("", f"({count} people in all)", ""))
    return logins
