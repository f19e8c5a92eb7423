"""In-app notices, the outbox helper's transaction rule, webhook endpoint management and the
delivery view: who sees what, what is refused, and that secrets are shown once and never logged."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from tandem.accounts.services import caller_for_membership
from tandem.core.auth import Role
from tandem.core.database import transaction
from tandem.core.errors import Invalid
from tandem.core.tables import AuditEvent
from tandem.notifications import services as notifications
from tandem.notifications.tables import Delivery, Notice, OutboxEvent, WebhookEndpoint
from tests.support.builders import MENTOR_PROFILE

pytestmark = pytest.mark.anyio
PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address literal: no DNS needed


async def signed_in(make_client, username: str):  # type: ignore[no-untyped-def]
    client = await make_client()
    await client.login(username)
    return client


async def add_endpoint(admin, url: str = PUBLIC_URL, **extra):  # type: ignore[no-untyped-def]
    return await admin.post(
        "/api/v1/webhook-endpoints", json={"label": "SMS gateway", "url": url, **extra}
    )


# --- the outbox helper -------------------------------------------------------------------------


async def test_emit_refuses_to_run_outside_a_transaction(people) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await notifications.emit(None, people.a[Role.ADMIN].program_id, "drill.ping",
                                 subject=("drill", 1))  # fmt: skip


async def test_an_event_rolls_back_with_the_change_that_caused_it(people) -> None:
    before = await OutboxEvent.count()

    async def change_that_fails() -> None:
        async with transaction():
            await notifications.emit(
                None,
                people.a[Role.ADMIN].program_id,
                "drill.ping",
                subject=("drill", 1),
                recipients=[people.a[Role.SUPERVISOR].membership_id],
            )
            raise Invalid("the change failed")

    with pytest.raises(Invalid):
        await change_that_fails()
    assert await OutboxEvent.count() == before
    assert await Notice.count().where(Notice.event_type == "drill.ping") == 0


async def test_emit_keeps_events_in_the_callers_program_and_skips_the_caller(people) -> None:
    supervisor = await caller_for_membership(people.a[Role.SUPERVISOR].membership_id)
    assert supervisor is not None
    with pytest.raises(ValueError, match="program"):
        async with transaction():
            await notifications.emit(supervisor, people.b[Role.ADMIN].program_id, "drill.ping",
                                     subject=("drill", 1))  # fmt: skip
    for bad in ({"event_type": "Drill Ping"}, {"link": "https://elsewhere.example"}):
        with pytest.raises(ValueError, match="must"):
            async with transaction():
                await notifications.emit(
                    supervisor,
                    supervisor.program_id,
                    bad.get("event_type", "drill.ping"),
                    subject=("drill", 1),
                    link=bad.get("link", "/home"),
                )
    async with transaction():
        await notifications.emit(
            supervisor,
            supervisor.program_id,
            "drill.ping",
            subject=("drill", 1),
            recipients=[supervisor.membership_id, people.a[Role.ADMIN].membership_id],
        )
    recipients = await Notice.select(Notice.recipient).where(Notice.event_type == "drill.ping")
    assert recipients == [{"recipient": people.a[Role.ADMIN].membership_id}]


# --- in-app notices ----------------------------------------------------------------------------


async def test_each_person_sees_and_marks_only_their_own_notices(make_client, people) -> None:
    # `people` approved program A's mentor and made a pending application there.
    mentor = await signed_in(make_client, people.a[Role.MENTOR].username)
    mine = (await mentor.get("/api/v1/notifications")).json()
    assert [n["event_type"] for n in mine] == ["mentor.approved"]
    assert "approved" in mine[0]["text"]
    assert mine[0]["read_at"] is None

    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    theirs = (await supervisor.get("/api/v1/notifications")).json()
    assert [n["event_type"] for n in theirs] == ["mentor.applied"]
    # Someone else's notice is simply not there.
    assert (await supervisor.post(f"/api/v1/notifications/{mine[0]['id']}/read")).status_code == 404
    other_program = await signed_in(make_client, people.b[Role.MENTOR].username)
    assert (
        await other_program.post(f"/api/v1/notifications/{mine[0]['id']}/read")
    ).status_code == 404

    assert (await mentor.post(f"/api/v1/notifications/{mine[0]['id']}/read")).status_code == 204
    assert (await mentor.get("/api/v1/notifications?unread=true")).json() == []
    assert (await mentor.get("/api/v1/notifications")).json()[0]["read_at"] is not None


async def test_the_unread_count_shows_on_every_page_until_read(make_client, people) -> None:
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    for page in ("/staff/dashboard", "/privacy", "/notifications"):
        html = (await supervisor.get(page)).text
        assert 'aria-label="1 unread"' in html, page
    page = await supervisor.get("/notifications")
    assert "A new mentor application is waiting for your review." in page.text
    response = await supervisor.post("/notifications/read-all")
    assert response.status_code in {302, 303}
    assert "unread" not in (await supervisor.get("/staff/dashboard")).text
    newcomer = await signed_in(make_client, people.a[Role.NEWCOMER].username)
    page = await newcomer.get("/notifications")
    assert "You have no notifications yet" in page.text


async def test_a_pause_tells_supervisors_that_but_never_why(make_client, people) -> None:
    mentor = await signed_in(make_client, people.a[Role.MENTOR].username)
    assert (await mentor.put("/api/v1/mentor-profile", json=MENTOR_PROFILE)).status_code == 200
    await mentor.post("/api/v1/mentor-profile/pause", json={"note": "a hard week at home"})
    await mentor.post("/api/v1/mentor-profile/resume")
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    response = await supervisor.get("/api/v1/notifications")
    assert [n["event_type"] for n in response.json()][:2] == ["mentor.resumed", "mentor.paused"]
    assert "hard week" not in response.text
    events = await OutboxEvent.select(OutboxEvent.body).where(
        OutboxEvent.event_type == "mentor.paused"
    )
    assert "hard week" not in str(events)


# --- webhook endpoints ---------------------------------------------------------------------------


async def test_the_secret_is_shown_once_and_never_listed_nor_logged(
    make_client, people, caplog
) -> None:
    # Everything at INFO, and Tandem's own loggers at DEBUG. (Database drivers log their query
    # parameters at DEBUG, password hashes included: never run production at that level.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="tandem")
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    response = await add_endpoint(admin)
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    listed = await admin.get("/api/v1/webhook-endpoints")
    assert [e["label"] for e in listed.json()] == ["SMS gateway"]
    assert "secret" not in listed.json()[0]
    assert secret not in listed.text
    assert secret not in (await admin.get("/admin/webhooks")).text
    audit = await AuditEvent.select(AuditEvent.detail).where(
        AuditEvent.action == "webhook_endpoint.created"
    )
    assert audit
    assert secret not in str(audit)
    assert secret not in caplog.text
    # Another program's admin sees none of it.
    other = await signed_in(make_client, people.b[Role.ADMIN].username)
    assert (await other.get("/api/v1/webhook-endpoints")).json() == []


async def test_the_create_page_shows_the_secret_in_its_response_only(make_client, people) -> None:
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    page = await admin.post(
        "/admin/webhooks", data={"label": "Chat", "url": PUBLIC_URL, "on_call": "on"}
    )
    assert page.status_code == 200
    secret = (await WebhookEndpoint.select(WebhookEndpoint.secret).first())["secret"]
    assert secret in page.text
    assert "shown only this once" in page.text
    assert secret not in (await admin.get("/admin/webhooks")).text
    assert "on call" in (await admin.get("/admin/webhooks")).text
    refused = await admin.post(
        "/admin/webhooks", data={"label": "Local", "url": "http://127.0.0.1/x"}
    )
    assert refused.status_code == 400
    assert "private network" in refused.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
    ],
)
async def test_unsafe_addresses_are_refused_with_the_field_named(
    make_client, people, url: str
) -> None:
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    response = await add_endpoint(admin, url)
    assert response.status_code == 400
    assert response.json()["extra"] == {"field": "url"}
    assert await WebhookEndpoint.count() == 0


async def test_https_is_required_outside_development_and_test(settings) -> None:
    production = replace(settings, environment="production", secret_key="p" * 48)
    with pytest.raises(Invalid, match="https"):
        await notifications.check_endpoint_url("http://93.184.215.14/hook", production)
    assert await notifications.check_endpoint_url(PUBLIC_URL, production) == PUBLIC_URL
    assert await notifications.check_endpoint_url("http://93.184.215.14/h", settings)


async def test_disabling_an_endpoint_dead_letters_what_waited_for_it(make_client, people) -> None:
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    endpoint_id = (await add_endpoint(admin)).json()["id"]
    async with transaction():
        await notifications.emit(None, people.a[Role.ADMIN].program_id, "drill.ping",
                                 subject=("drill", 1))  # fmt: skip
    assert await Delivery.count().where(Delivery.status == "pending") == 1
    other = await signed_in(make_client, people.b[Role.ADMIN].username)
    assert (await other.post(f"/api/v1/webhook-endpoints/{endpoint_id}/disable")).status_code == 404
    assert (await admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/disable")).status_code == 204
    assert (await admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/disable")).status_code == 409
    row = await Delivery.select(Delivery.status, Delivery.last_error).first()
    assert row == {"status": "dead", "last_error": "endpoint disabled"}
    event_id = (await Delivery.select(Delivery.event).first())["event"]
    # A retry cannot revive a delivery to a disabled endpoint.
    assert (await admin.post(f"/api/v1/deliveries/events/{event_id}/retry")).status_code == 409
    # New events no longer go there.
    async with transaction():
        await notifications.emit(None, people.a[Role.ADMIN].program_id, "drill.ping",
                                 subject=("drill", 2))  # fmt: skip
    assert await Delivery.count() == 1


# --- the delivery view -------------------------------------------------------------------------


async def test_the_delivery_view_is_per_program(make_client, people) -> None:
    admin = await signed_in(make_client, people.a[Role.ADMIN].username)
    await add_endpoint(admin)
    async with transaction():
        await notifications.emit(None, people.a[Role.ADMIN].program_id, "drill.ping",
                                 subject=("drill", 1))  # fmt: skip
    supervisor = await signed_in(make_client, people.a[Role.SUPERVISOR].username)
    view = (await supervisor.get("/api/v1/deliveries")).json()
    assert view["counts"]["pending"] == 1
    [delivery] = view["deliveries"]
    assert (delivery["status"], delivery["endpoint_label"]) == ("pending", "SMS gateway")
    assert "url" not in delivery
    assert "secret" not in delivery
    page = await supervisor.get("/staff/deliveries")
    assert "drill.ping" in page.text
    assert "SMS gateway" in page.text
    assert "Manage webhook endpoints" not in page.text

    other = await signed_in(make_client, people.b[Role.SUPERVISOR].username)
    assert (await other.get("/api/v1/deliveries")).json()["deliveries"] == []
    retry = await other.post(f"/api/v1/deliveries/events/{delivery['event_id']}/retry")
    assert retry.status_code == 404
    bad = await supervisor.get("/api/v1/deliveries?status=lost")
    assert bad.status_code == 400
