"""The outcome loop: weights learned from how past matches turned out, reviewed by a supervisor.

On a history whose better weights are known (`tests.support.outcomes`), the suggestion ranks
held-out matches better and the page says so in plain words; a thin history is refused and
shown as such; adopting and rejecting are audited, once each, by the program's own staff; and
proposals made after an adoption are scored with the new version and record it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tandem.core.auth import Role
from tandem.core.clock import clock
from tandem.core.tables import AuditEvent
from tandem.matches import services
from tandem.matches.outcomes import Outcome
from tandem.matches.tables import MatchProposal, MatchWeights
from tests.support.journey import new_mentor, with_intake
from tests.support.outcomes import known_history, past_match

pytestmark = pytest.mark.anyio
HTML = {"accept": "text/html"}


async def signed_in(make_client, username: str):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(username)
    return client


async def actions(action: str) -> list[dict]:
    return await AuditEvent.select().where(AuditEvent.action == action).output(load_json=True)


async def test_the_suggestion_ranks_better_and_the_page_says_so(make_client, people) -> None:
    a = people.a
    await known_history(a[Role.SUPERVISOR].program_id)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)

    page = await supervisor.post("/staff/weights/suggest", headers=HTML)
    assert page.status_code == 200, page.text
    assert "New weights suggested" in page.text
    assert "Suggested: version 1" in page.text
    sentence = re.search(
        r"With these weights, the model ranks a lasting match above an early ending or a concern"
        r" (\d+)% of the time, against (\d+)% now, on (\d+) past matches it did not learn from"
        r" \(240 past matches in all\)\.",
        page.text,
    )
    assert sentence is not None, page.text
    suggested, now, held_out = (int(g) for g in sentence.groups())
    assert suggested > now
    assert held_out == 60

    review = (await supervisor.get("/api/v1/oversight/weights")).json()
    assert review["current"]["version"] == 0
    pending = review["pending"]
    assert pending["version"] == 1
    assert pending["auc_suggested"] > pending["auc_current"]
    # The history lasted on shared lived experience, not on a shared pathway.
    assert pending["weights"]["lived_experience"] > pending["weights"]["pathway"]
    assert len(await actions("match.weights_suggested")) == 1


async def test_a_thin_history_is_refused_and_shown(make_client, people) -> None:
    a = people.a
    program = a[Role.SUPERVISOR].program_id
    newcomer = await with_intake(a[Role.NEWCOMER].membership_id)
    mentor = await new_mentor(program, "past-mentor")
    for days_ago in range(100, 130):
        await past_match(program, newcomer.membership_id, mentor.membership_id, days_ago, None)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)

    answer = await supervisor.post("/api/v1/oversight/weights/suggest")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["suggested"] is None
    assert (body["history"], body["lasting"]) == (30, 30)
    assert body["refused"].startswith("Not enough history to learn from yet: 30 past matches")
    page = await supervisor.post("/staff/weights/suggest", headers=HTML)
    assert "Not enough history to learn from yet: 30 past matches" in page.text
    assert "at least 200, with at least 20 of each" in page.text
    assert "Adopt version" not in page.text
    assert await MatchWeights.count() == 0
    assert await actions("match.weights_suggested") == []


async def test_adopting_changes_what_new_proposals_use_and_record(make_client, people) -> None:
    a = people.a
    program = a[Role.SUPERVISOR].program_id
    await known_history(program)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    # Before any adoption, a proposal is scored with the defaults: version 0.
    first = await with_intake(a[Role.NEWCOMER].membership_id, lived_experience=["parenting"])
    await services.request_mentor(first)
    [before] = await MatchProposal.select(MatchProposal.weights_version, MatchProposal.weights)
    assert before["weights_version"] == 0
    await services.withdraw_request(first)

    suggested = (await supervisor.post("/api/v1/oversight/weights/suggest")).json()["suggested"]
    adopted = await supervisor.post("/staff/weights/1/adopt", headers=HTML)
    assert adopted.status_code in (302, 303)
    assert adopted.headers["location"] == "/staff/weights?done=adopted"
    page = await supervisor.get("/staff/weights?done=adopted", headers=HTML)
    assert "In use now: <strong>version 1</strong>" in page.text
    [event] = await actions("match.weights_adopted")
    assert event["detail"] == {"version": 1}
    again = await supervisor.post("/api/v1/oversight/weights/1/reject")
    assert again.status_code == 409
    assert "already adopted" in again.json()["detail"]

    await services.request_mentor(first)
    latest = (
        await MatchProposal.select()
        .order_by(MatchProposal.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    assert latest["weights_version"] == 1
    assert latest["weights"] == suggested["weights"]
    page = await supervisor.get(f"/staff/matches/proposals/{latest['id']}", headers=HTML)
    assert "Weights used (version 1)" in page.text
    settings = await supervisor.get("/staff/settings", headers=HTML)
    assert "version 1" in settings.text
    assert 'href="/staff/weights"' in settings.text


async def test_rejecting_keeps_the_current_weights(make_client, people) -> None:
    a = people.a
    await known_history(a[Role.ADMIN].program_id)
    admin = await signed_in(make_client, a[Role.ADMIN].username)
    await admin.post("/api/v1/oversight/weights/suggest")
    rejected = await admin.post("/staff/weights/1/reject", headers=HTML)
    assert rejected.headers["location"] == "/staff/weights?done=rejected"
    review = (await admin.get("/api/v1/oversight/weights")).json()
    assert review["current"]["version"] == 0
    assert review["pending"] is None
    assert [v["status"] for v in review["versions"]] == ["rejected"]
    assert len(await actions("match.weights_rejected")) == 1


async def test_only_the_programs_own_staff_decide(make_client, people) -> None:
    await known_history(people.a[Role.SUPERVISOR].program_id)
    owner = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    await owner.post("/api/v1/oversight/weights/suggest")
    for who in (people.a[Role.MENTOR], people.a[Role.NEWCOMER]):
        client = await signed_in(make_client, who.username)
        assert (await client.post("/api/v1/oversight/weights/1/adopt")).status_code == 403
    other = await signed_in(make_client, people.b[Role.SUPERVISOR].username)
    assert (await other.post("/api/v1/oversight/weights/1/adopt")).status_code == 404
    assert (await other.get("/api/v1/oversight/weights")).json()["pending"] is None
    assert await actions("match.weights_adopted") == []


async def test_the_outcome_of_each_past_match(people) -> None:
    program = people.a[Role.SUPERVISOR].program_id
    newcomer = await with_intake(people.a[Role.NEWCOMER].membership_id)
    mentor = await new_mentor(program, "past-mentor")
    ids = [
        await past_match(program, newcomer.membership_id, mentor.membership_id, days, lasted)
        for days, lasted in ((200, 120), (200, 30), (200, None), (40, None), (200, 150))
    ]
    history = await services.outcome_history(program, {ids[4]})
    assert [p.outcome for p in history] == [
        Outcome.LASTING.value,
        Outcome.ENDED_EARLY.value,
        Outcome.LASTING.value,  # still going after 200 days
        # 40 days and still going: no outcome yet, left out
        Outcome.CONCERN_RAISED.value,
    ]
    assert {p.newcomer.id for p in history} == {str(newcomer.membership_id)}
    # Time in recovery is counted at the match's start, not today.
    started = clock.today() - timedelta(days=200)
    assert history[0].mentor.recovery_days == (started - date(2018, 4, 1)).days


async def test_a_concern_raised_counts_against_a_match(make_client, people) -> None:
    """The oversight slice hands the safety slice's concerns down: a match a concern was raised
    about is not a lasting one, however long it ran."""
    a = people.a
    ids = await known_history(a[Role.SUPERVISOR].program_id)
    supervisor = await signed_in(make_client, a[Role.SUPERVISOR].username)
    lasted = [match_id for step, match_id in enumerate(ids) if (step % 8) % 2 != (step // 8) % 2]
    for match_id in lasted[:10]:
        filed = await supervisor.post(
            "/api/v1/concerns", json={"category": "communication", "match_id": match_id}
        )
        assert filed.status_code == 201, filed.text
    body = (await supervisor.post("/api/v1/oversight/weights/suggest")).json()
    assert (body["history"], body["lasting"]) == (240, 110)


async def test_nothing_clearly_better_keeps_the_current_weights(
    make_client, people, monkeypatch
) -> None:
    """When the fit finds nothing clearly better on held-out matches, the page says so with the
    figures and nothing is stored (the engine's own refusal, `matching.fit_weights`)."""
    from matching import WeightFit, Weights
    from tandem.matches import engine

    def no_better(history, policy):  # type: ignore[no-untyped-def]
        return WeightFit(Weights(), False, "not clearly better", 180, 60, 0.64, 0.645)

    monkeypatch.setattr(engine, "fit_weights", no_better)
    await known_history(people.a[Role.SUPERVISOR].program_id)
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    page = await supervisor.post("/staff/weights/suggest", headers=HTML)
    assert (
        "No better weights found: the best the model learned ranks a lasting match above an early"
        " ending or a concern 64% of the time, against 64% now, on 60 past matches" in page.text
    )
    assert "Adopt version" not in page.text
    assert await MatchWeights.count() == 0
