"""A large program in the database for the match benches: `matching.synthetic`'s people (seed 0)
written as real rows (people, memberships, intakes, mentor profiles, passed training, waiting
requests) with bulk inserts, so a bench can time the service reading them back.

Used by `bench_match_batch.py` and `bench_match_pages.py`; run from those scripts, which set up
`DATABASE_URL` and `sys.path` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from matching.synthetic import synthetic_program
from matching.vocabulary import LIVED_EXPERIENCES
from tandem.accounts import services as accounts
from tandem.accounts.passwords import hash_password
from tandem.accounts.tables import Membership, Person
from tandem.core.auth import Role
from tandem.core.clock import clock
from tandem.core.database import transaction
from tandem.matches.tables import MentorRequest
from tandem.profiles.tables import MentorProfile, NewcomerProfile
from tandem.training.content import current_track
from tandem.training.services import register_content_versions
from tandem.training.tables import QuizAttempt

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway bench database
CHUNK = 1_000


@dataclass(frozen=True)
class BigProgram:
    program_id: int
    slug: str
    mentor_ids: list[int]
    newcomer_ids: list[int]  # newcomer{i:05d}, in order; those < `waiting` have a request
    supervisor: str


def _clock(minutes: int) -> str:
    return "24:00" if minutes >= 1440 else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _slots(availability: Any) -> list[dict[str, Any]]:
    return [{"day": d, "start": _clock(s), "end": _clock(e)} for d, s, e in availability]


def _tags(tags: frozenset[str]) -> list[str]:
    return sorted(t for t in tags if t in LIVED_EXPERIENCES)


async def _people(
    program_id: int, prefix: str, count: int, role: Role, password_hash: str
) -> list[int]:
    """`count` people with memberships, in chunks; returns the membership ids in order."""
    now = clock.now()
    ids: list[int] = []
    for first in range(0, count, CHUNK):
        names = [f"{prefix}{i:05d}" for i in range(first, min(first + CHUNK, count))]
        people = await Person.insert(
            *(
                Person(username=name, display_name=name.capitalize(), password_hash=password_hash,
                       created_at=now)
                for name in names
            )
        ).returning(Person.id)  # fmt: skip
        members = await Membership.insert(
            *(
                Membership(person=row["id"], program=program_id, role=role.value, created_at=now,
                           approved_at=now - timedelta(days=800))
                for row in people
            )
        ).returning(Membership.id)  # fmt: skip
        ids += [row["id"] for row in members]
    return ids


async def _insert(rows: list[Any]) -> None:
    for first in range(0, len(rows), CHUNK):
        await type(rows[0]).insert(*rows[first : first + CHUNK])


async def build(newcomers: int, mentors: int, *, waiting: int, slug: str = "big") -> BigProgram:
    """The program: `mentors` trained mentors, `newcomers` newcomers with an intake, the first
    `waiting` of them with a waiting request."""
    await register_content_versions()
    synthetic = synthetic_program(newcomers, mentors, seed=0)
    program_id = await accounts.create_program(slug, "Bench Recovery Program")
    password_hash = await hash_password(PASSWORD)
    supervisor = f"{slug}-supervisor"
    await accounts.create_member(
        program_id=program_id, username=supervisor, display_name="Supervisor",
        password_hash=password_hash, role=Role.SUPERVISOR,
    )  # fmt: skip
    now, today = clock.now(), clock.today()
    async with transaction():
        mentor_ids = await _people(program_id, f"{slug}-mentor", mentors, Role.MENTOR,
                                   password_hash)  # fmt: skip
        newcomer_ids = await _people(program_id, f"{slug}-newcomer", newcomers, Role.NEWCOMER,
                                     password_hash)  # fmt: skip
        await _insert(
            [
                MentorProfile(
                    membership=member, program=program_id,
                    recovery_start=today - timedelta(days=m.recovery_days or 0),
                    pathways=sorted(m.pathways), languages=sorted(m.languages),
                    formats=sorted(m.formats), gender=m.gender, timezone=m.time_zone,
                    availability=_slots(m.availability), area=m.area or "",
                    capacity=max(1, min(m.remaining_capacity, 6)), bio=m.bio,
                    lived_experience=_tags(m.lived_experience), updated_at=now,
                )
                for member, m in zip(mentor_ids, synthetic.mentors, strict=True)
            ]
        )  # fmt: skip
        passed_at = now - timedelta(days=30)
        await _insert(
            [
                QuizAttempt(
                    membership=member, program=program_id, module_id=module.id,
                    content_version=module.version, started_at=passed_at,
                    submitted_at=passed_at, correct_count=6, score=1.0, critical_missed=0,
                    passed=True,
                )
                for member in mentor_ids
                for module in current_track().modules
            ]
        )  # fmt: skip
        await _insert(
            [
                NewcomerProfile(
                    membership=member, program=program_id,
                    recovery_start=None if n.recovery_days is None
                    else today - timedelta(days=n.recovery_days),
                    recovery_stage=n.recovery_stage, pathways=sorted(n.pathways),
                    pathway_strictness=n.pathway_strictness, languages=sorted(n.languages),
                    formats=sorted(n.formats), gender=n.gender, wanted_gender=n.wanted_gender,
                    timezone=n.time_zone, availability=_slots(n.availability),
                    area=n.area or "", hopes=n.hopes, lived_experience=_tags(n.lived_experience),
                    updated_at=now,
                )
                for member, n in zip(newcomer_ids, synthetic.newcomers, strict=True)
            ]
        )  # fmt: skip
        await _insert(
            [
                MentorRequest(
                    newcomer=member, program=program_id, status="waiting",
                    languages=sorted(n.languages), formats=sorted(n.formats),
                    created_at=datetime.combine(n.waiting_since, time(), now.tzinfo),
                    updated_at=now,
                )
                for member, n in zip(
                    newcomer_ids[:waiting], synthetic.newcomers[:waiting], strict=True
                )
            ]
        )  # fmt: skip
    return BigProgram(program_id, slug, mentor_ids, newcomer_ids, supervisor)
