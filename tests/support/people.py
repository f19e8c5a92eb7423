"""Two programs, each with one person of every role, for authorization and tenancy tests."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.accounts import services as accounts
from tandem.accounts.passwords import hash_password
from tandem.core.auth import Role

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Member:
    username: str
    membership_id: int
    program_id: int
    role: Role


@dataclass(frozen=True)
class People:
    """`people.a.newcomer`, `people.b.supervisor`, ... plus `a_pending_mentor`."""

    a: dict[Role, Member]
    b: dict[Role, Member]
    a_pending_mentor: Member

    def in_a(self, role: Role) -> Member:
        return self.a[role]


async def make_people() -> People:
    password_hash = await hash_password(PASSWORD)
    programs = {}
    pending: Member | None = None
    for label in ("a", "b"):
        program_id = await accounts.create_program(f"program-{label}", f"Program {label.upper()}")
        members = {}
        for role in Role:
            username = f"{role.value}-{label}"
            membership_id = await accounts.create_member(
                program_id=program_id,
                username=username,
                display_name=f"{role.value.capitalize()} {label.upper()}",
                password_hash=password_hash,
                role=role,
            )
            members[role] = Member(username, membership_id, program_id, role)
        staff = await accounts.caller_for_membership(members[Role.SUPERVISOR].membership_id)
        assert staff is not None
        await accounts.approve_mentor(staff, members[Role.MENTOR].membership_id)
        if label == "a":
            pending_id = await accounts.create_member(
                program_id=program_id,
                username="pending-mentor-a",
                display_name="Pending A",
                password_hash=password_hash,
                role=Role.MENTOR,
            )
            pending = Member("pending-mentor-a", pending_id, program_id, Role.MENTOR)
        programs[label] = members
    assert pending is not None
    return People(a=programs["a"], b=programs["b"], a_pending_mentor=pending)
