"""The role x route matrix: every route, called by every role, does what the table says.

`EXPECTED` is the contract, written by hand: which roles may call each route. A route the app
serves that is missing here fails `test_every_route_is_in_the_matrix`, so each new route must
join the table. Allowed callers must get past authorization (any status but 401/403); everyone
else gets 403 (signed in, wrong role) or 401 / a redirect to sign-in (anonymous).
"""

from __future__ import annotations

import pytest
from litestar import Litestar

from tandem.core.auth import PUBLIC_OPT_KEY, Role
from tests.support.people import People
from tests.support.routes import declared_roles, served_routes

pytestmark = pytest.mark.anyio

N, M, S, A = Role.NEWCOMER, Role.MENTOR, Role.SUPERVISOR, Role.ADMIN
EVERYONE = frozenset(Role)
STAFF = frozenset({S, A})
PUBLIC = "public"

EXPECTED: dict[tuple[str, str], frozenset[Role] | str] = {
    # foundation
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/signup"): PUBLIC,
    ("POST", "/signup"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/api/v1/auth/signup"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/me/export"): EVERYONE,
    ("POST", "/api/v1/me/delete"): EVERYONE,
    ("GET", "/privacy"): EVERYONE,
    ("POST", "/privacy/delete"): EVERYONE,
    ("GET", "/home"): EVERYONE,
    ("GET", "/staff/overview"): STAFF,
    ("GET", "/api/v1/members"): STAFF,
    ("POST", "/api/v1/members/{membership_id:int}/approve"): STAFF,
    ("POST", "/api/v1/members/{membership_id:int}/status"): STAFF,
    ("POST", "/staff/members/{membership_id:int}/approve"): STAFF,
    ("POST", "/api/v1/members/{membership_id:int}/decline"): STAFF,
    ("POST", "/staff/members/{membership_id:int}/decline"): STAFF,
    ("GET", "/api/v1/mentors/paused"): STAFF,
    ("GET", "/staff/mentors/paused"): STAFF,
    ("GET", "/api/v1/intake"): frozenset({N}),
    ("PUT", "/api/v1/intake"): frozenset({N}),
    ("GET", "/intake"): frozenset({N}),
    ("POST", "/intake"): frozenset({N}),
    ("GET", "/api/v1/newcomers/{membership_id:int}/intake"): STAFF,
    ("GET", "/api/v1/mentor-profile"): frozenset({M}),
    ("PUT", "/api/v1/mentor-profile"): frozenset({M}),
    ("POST", "/api/v1/mentor-profile/pause"): frozenset({M}),
    ("POST", "/api/v1/mentor-profile/resume"): frozenset({M}),
    ("GET", "/mentor/profile"): frozenset({M}),
    ("POST", "/mentor/profile"): frozenset({M}),
    ("POST", "/mentor/pause"): frozenset({M}),
    ("GET", "/api/v1/mentors/{membership_id:int}/profile"): STAFF,
    ("GET", "/api/v1/mentors/{membership_id:int}/pause"): STAFF,
    # training (issue 4): add its routes below this line
    ("GET", "/api/v1/training/modules"): frozenset({M}),
    ("GET", "/api/v1/training/modules/{module_id:str}"): frozenset({M}),
    ("POST", "/api/v1/training/modules/{module_id:str}/attempts"): frozenset({M}),
    ("POST", "/api/v1/training/modules/{module_id:str}/read"): frozenset({M}),
    ("GET", "/api/v1/training/attempts/{attempt_id:int}"): frozenset({M}),
    ("POST", "/api/v1/training/attempts/{attempt_id:int}/submit"): frozenset({M}),
    ("GET", "/api/v1/training/certificate"): frozenset({M}),
    ("GET", "/api/v1/training/compliance"): STAFF,
    ("GET", "/api/v1/training/mentors/{membership_id:int}"): STAFF,
    ("POST", "/api/v1/training/mentors/{membership_id:int}/modules/{module_id:str}/unlock"): STAFF,
    ("GET", "/mentor/training"): frozenset({M}),
    ("GET", "/mentor/training/modules/{module_id:str}"): frozenset({M}),
    ("POST", "/mentor/training/modules/{module_id:str}/quiz"): frozenset({M}),
    ("POST", "/mentor/training/modules/{module_id:str}/read"): frozenset({M}),
    ("GET", "/mentor/training/attempts/{attempt_id:int}"): frozenset({M}),
    ("POST", "/mentor/training/attempts/{attempt_id:int}"): frozenset({M}),
    ("GET", "/mentor/training/certificate"): frozenset({M}),
    ("GET", "/staff/training"): STAFF,
    ("POST", "/staff/training/mentors/{membership_id:int}/modules/{module_id:str}/unlock"): STAFF,
    # notifications (issue 5): add its routes below this line
    ("GET", "/api/v1/notifications"): EVERYONE,
    ("POST", "/api/v1/notifications/{notice_id:int}/read"): EVERYONE,
    ("POST", "/api/v1/notifications/read-all"): EVERYONE,
    ("GET", "/notifications"): EVERYONE,
    ("POST", "/notifications/{notice_id:int}/read"): EVERYONE,
    ("POST", "/notifications/read-all"): EVERYONE,
    ("GET", "/api/v1/deliveries"): STAFF,
    ("POST", "/api/v1/deliveries/events/{event_id:int}/retry"): STAFF,
    ("GET", "/staff/deliveries"): STAFF,
    ("POST", "/staff/deliveries/{event_id:int}/retry"): STAFF,
    ("GET", "/api/v1/webhook-endpoints"): frozenset({A}),
    ("POST", "/api/v1/webhook-endpoints"): frozenset({A}),
    ("POST", "/api/v1/webhook-endpoints/{endpoint_id:int}/disable"): frozenset({A}),
    ("GET", "/admin/webhooks"): frozenset({A}),
    ("POST", "/admin/webhooks"): frozenset({A}),
    ("POST", "/admin/webhooks/{endpoint_id:int}/disable"): frozenset({A}),
    # matches (issue 13)
    ("POST", "/api/v1/match-requests"): frozenset({N}),
    ("GET", "/api/v1/match-requests/mine"): frozenset({N}),
    ("POST", "/api/v1/match-requests/mine/withdraw"): frozenset({N}),
    ("POST", "/api/v1/match-requests/mine/rematch"): frozenset({N}),
    ("GET", "/api/v1/match-requests/waiting"): STAFF,
    ("POST", "/api/v1/match-requests/{request_id:int}/retry"): STAFF,
    ("GET", "/api/v1/proposals"): STAFF,
    ("GET", "/api/v1/proposals/{proposal_id:int}"): STAFF,
    ("POST", "/api/v1/proposals/{proposal_id:int}/approve"): STAFF,
    ("POST", "/api/v1/proposals/{proposal_id:int}/decline"): STAFF,
    ("GET", "/api/v1/offers"): frozenset({M}),
    ("POST", "/api/v1/offers/{offer_id:int}/accept"): frozenset({M}),
    ("POST", "/api/v1/offers/{offer_id:int}/decline"): frozenset({M}),
    ("GET", "/api/v1/matches"): EVERYONE,
    ("GET", "/api/v1/matches/{match_id:int}"): EVERYONE,
    ("POST", "/api/v1/matches/{match_id:int}/end"): EVERYONE,
    ("GET", "/match"): frozenset({N}),
    ("POST", "/match/request"): frozenset({N}),
    ("POST", "/match/withdraw"): frozenset({N}),
    ("POST", "/match/rematch"): frozenset({N}),
    ("POST", "/match/{match_id:int}/end"): frozenset({N}),
    ("GET", "/mentor/matches"): frozenset({M}),
    ("POST", "/mentor/offers/{offer_id:int}/accept"): frozenset({M}),
    ("POST", "/mentor/offers/{offer_id:int}/decline"): frozenset({M}),
    ("POST", "/mentor/matches/{match_id:int}/end"): frozenset({M}),
    ("GET", "/staff/matches"): STAFF,
    ("GET", "/staff/matches/proposals/{proposal_id:int}"): STAFF,
    ("POST", "/staff/matches/proposals/{proposal_id:int}/approve"): STAFF,
    ("POST", "/staff/matches/proposals/{proposal_id:int}/decline"): STAFF,
    ("POST", "/staff/matches/requests/{request_id:int}/retry"): STAFF,
    ("POST", "/staff/matches/{match_id:int}/end"): STAFF,
    ("GET", "/staff/settings"): STAFF,
    ("POST", "/staff/settings"): STAFF,
    # safety: concerns (issue 14)
    ("GET", "/api/v1/concerns/categories"): EVERYONE,
    ("POST", "/api/v1/concerns"): EVERYONE,
    ("POST", "/api/v1/concerns/urgent"): frozenset({M}),
    ("GET", "/api/v1/concerns/mine"): EVERYONE,
    ("GET", "/api/v1/concerns"): STAFF,
    ("GET", "/api/v1/concerns/summary"): STAFF,
    ("GET", "/api/v1/concerns/settings"): STAFF,
    ("PUT", "/api/v1/concerns/settings"): STAFF,
    ("GET", "/staff/concerns/settings"): STAFF,
    ("POST", "/staff/concerns/settings"): STAFF,
    ("GET", "/api/v1/concerns/{concern_id:int}"): STAFF,
    ("POST", "/api/v1/concerns/{concern_id:int}/acknowledge"): STAFF,
    ("POST", "/api/v1/concerns/{concern_id:int}/notes"): STAFF,
    ("POST", "/api/v1/concerns/{concern_id:int}/act"): STAFF,
    ("POST", "/api/v1/concerns/{concern_id:int}/close"): STAFF,
    ("GET", "/concerns/new"): EVERYONE,
    ("POST", "/concerns/new"): EVERYONE,
    ("GET", "/concerns/mine"): EVERYONE,
    ("GET", "/mentor/escalate"): frozenset({M}),
    ("POST", "/mentor/escalate"): frozenset({M}),
    ("GET", "/staff/concerns"): STAFF,
    ("GET", "/staff/concerns/{concern_id:int}"): STAFF,
    ("POST", "/staff/concerns/{concern_id:int}/acknowledge"): STAFF,
    ("POST", "/staff/concerns/{concern_id:int}/notes"): STAFF,
    ("POST", "/staff/concerns/{concern_id:int}/act"): STAFF,
    ("POST", "/staff/concerns/{concern_id:int}/close"): STAFF,
    # safety: check-ins and self-care (issue 14)
    ("POST", "/api/v1/check-ins"): frozenset({M}),
    ("GET", "/api/v1/check-ins"): frozenset({M}),
    ("GET", "/api/v1/check-ins/quiet"): frozenset({M, S, A}),
    ("GET", "/api/v1/check-ins/flags"): STAFF,
    ("GET", "/api/v1/self-care"): frozenset({M}),
    ("PUT", "/api/v1/self-care/quiet-hours"): frozenset({M}),
    ("POST", "/api/v1/self-care/wellbeing"): frozenset({M}),
    ("POST", "/api/v1/self-care/return-to-use"): frozenset({M}),
    ("POST", "/api/v1/self-care/return-to-use/ready"): frozenset({M}),
    ("POST", "/api/v1/self-care/conversation"): frozenset({M}),
    ("GET", "/api/v1/self-care/conversations"): STAFF,
    ("POST", "/api/v1/self-care/conversations/{conversation_id:int}/held"): STAFF,
    ("GET", "/mentor/check-ins"): frozenset({M}),
    ("POST", "/mentor/check-ins"): frozenset({M}),
    ("GET", "/mentor/self-care"): frozenset({M}),
    ("POST", "/mentor/self-care/quiet-hours"): frozenset({M}),
    ("POST", "/mentor/self-care/wellbeing"): frozenset({M}),
    ("POST", "/mentor/self-care/conversation"): frozenset({M}),
    ("GET", "/mentor/self-care/return-to-use"): frozenset({M}),
    ("POST", "/mentor/self-care/return-to-use"): frozenset({M}),
    ("POST", "/mentor/self-care/ready"): frozenset({M}),
    ("GET", "/staff/check-ins/flags"): STAFF,
    ("GET", "/staff/check-ins/quiet"): STAFF,
    ("GET", "/staff/self-care/conversations"): STAFF,
    ("POST", "/staff/self-care/conversations/{conversation_id:int}/held"): STAFF,
    # oversight (issue 15)
    ("GET", "/staff/dashboard"): STAFF,
    ("GET", "/api/v1/oversight/dashboard"): STAFF,
    # the audit trail: admins and supervisors of the program alike (compliance review)
    ("GET", "/staff/audit"): STAFF,
    ("GET", "/staff/audit.csv"): STAFF,
    ("GET", "/api/v1/oversight/audit"): STAFF,
    # consent: what a newcomer shares with their mentor
    ("PUT", "/api/v1/intake/sharing"): frozenset({N}),
    ("POST", "/intake/sharing"): frozenset({N}),
    ("GET", "/staff/dashboard/waiting"): STAFF,
    ("GET", "/staff/dashboard/waiting.svg"): STAFF,
    ("GET", "/staff/dashboard/mentors"): STAFF,
    ("GET", "/staff/trends"): STAFF,
    ("GET", "/staff/trends/download"): STAFF,
    ("GET", "/api/v1/oversight/trends"): STAFF,
    ("GET", "/admin/health"): frozenset({A}),
    ("GET", "/api/v1/oversight/health"): frozenset({A}),
    ("GET", "/staff/weights"): STAFF,
    ("POST", "/staff/weights/suggest"): STAFF,
    ("POST", "/staff/weights/{weights_version:int}/adopt"): STAFF,
    ("POST", "/staff/weights/{weights_version:int}/reject"): STAFF,
    ("GET", "/api/v1/oversight/weights"): STAFF,
    ("POST", "/api/v1/oversight/weights/suggest"): STAFF,
    ("POST", "/api/v1/oversight/weights/{weights_version:int}/adopt"): STAFF,
    ("POST", "/api/v1/oversight/weights/{weights_version:int}/reject"): STAFF,
}

# Routes that change the caller's own session or data in ways that would spoil later calls in the
# same matrix run are exercised by their own tests instead of being called here.
NOT_CALLED = {("POST", "/logout"), ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/me/delete"),
              ("POST", "/privacy/delete")}  # fmt: skip


def test_every_route_is_in_the_matrix(app: Litestar) -> None:
    served = set(served_routes(app))
    assert served - set(EXPECTED) == set(), "add these routes to EXPECTED"
    assert set(EXPECTED) - served == set(), "these routes are no longer served"


def test_declared_guards_match_the_matrix(app: Litestar) -> None:
    for key, handler in served_routes(app).items():
        expected = EXPECTED[key]
        if expected == PUBLIC:
            assert handler.opt.get(PUBLIC_OPT_KEY), f"{key} should be public"
            continue
        declared = declared_roles(handler)
        assert declared == expected, f"{key}: guards allow {declared}, matrix says {expected}"


def _fill(path: str, people: People) -> str:
    """Path parameters point at a real record of the caller's own program (program A)."""
    # Notices and outbox events: id 1 is the first one `people` makes in program A (the mentor's
    # approval); endpoints: none exist, so the allowed roles get a 404, past authorization.
    return (
        path.replace("{membership_id:int}", str(people.a[N].membership_id))
        .replace("{notice_id:int}", "1")
        .replace("{event_id:int}", "1")
        .replace("{endpoint_id:int}", "1")
        # Training: a real module; attempt 1 is the quiz the mentor starts earlier in the run.
        .replace("{module_id:str}", "mentor-role")
        .replace("{attempt_id:int}", "1")
        # Matches: none exist in the run, so allowed roles get a 404 (or a 400 for a missing
        # intake), past authorization.
        .replace("{request_id:int}", "1")
        .replace("{proposal_id:int}", "1")
        .replace("{offer_id:int}", "1")
        .replace("{match_id:int}", "1")
        # Concerns: none exist in the run, so staff get a 404, past authorization.
        .replace("{concern_id:int}", "1")
        # Conversation requests: none exist in the run, so staff get a 404.
        .replace("{conversation_id:int}", "1")
        # Weights versions: none exist in the run, so allowed roles get a 404.
        .replace("{weights_version:int}", "1")
    )


async def test_every_role_gets_exactly_its_routes(app: Litestar, make_client, people) -> None:
    clients = {}
    for role in Role:
        client = await make_client()
        await client.login(people.a[role].username)
        clients[role] = client
    anonymous = await make_client()
    failures = []
    for (method, path), expected in EXPECTED.items():
        if (method, path) in NOT_CALLED:
            continue
        url = _fill(path, people)
        for role, client in clients.items():
            response = await client.request(method, url, headers={"accept": "application/json"})
            allowed = expected == PUBLIC or role in expected
            if allowed and response.status_code in {401, 403}:
                failures.append(f"{role} {method} {path}: refused with {response.status_code}")
            if not allowed and response.status_code != 403:
                failures.append(f"{role} {method} {path}: got {response.status_code}, not 403")
        if expected != PUBLIC:
            response = await anonymous.request(method, url, headers={"accept": "application/json"})
            if response.status_code != 401:
                failures.append(f"anonymous {method} {path}: got {response.status_code}, not 401")
    assert failures == []
