"""The outbox helper every slice calls, in-app notices, webhook endpoints and the delivery view.

`emit` writes an event inside the caller's own transaction, so the event exists exactly when the
change that caused it does: a crash before commit loses both, never just the notification. The
worker (`tandem.notifications.worker`) delivers it afterwards, at least once.

This module takes its engine from its own tables rather than importing `accounts.services`,
because accounts itself emits events and the two would import each other.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.columns import Column
from piccolo.query.functions.aggregate import Count
from piccolo.querystring import QueryString

from tandem.core import audit
from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.core.database import Prepared, engine, transaction
from tandem.core.errors import Conflict, Invalid, NotFound
from tandem.core.severity import Severity
from tandem.notifications import webhooks
from tandem.notifications.schemas import (
    DeliveryOut,
    DeliveryStatus,
    DeliveryView,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    NoticeOut,
    RetryResult,
)
from tandem.notifications.tables import Delivery, Notice, OutboxEvent, WebhookEndpoint
from tandem.settings import Settings

EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
SUBJECT_TYPE = re.compile(r"^[a-z_]+$")
OUTSTANDING = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)

# What a person reads for each event type. Each slice declares its events and their sentences in
# its `events.py`; `create_app` registers them here. Words never travel in the event itself, so
# no event carries a name or anything someone wrote.
_notice_texts: dict[str, str] = {}
DEFAULT_NOTICE_TEXT = "Something in your program needs your attention."
URGENT_NOTICE_TEXT = "Something urgent in your program needs a supervisor now."


def register_notice_texts(*slices: Mapping[str, str]) -> None:
    """Add each slice's sentences. The same sentence twice is fine (one app per test); two
    slices claiming one event type with different words is a mistake caught at start-up."""
    for texts in slices:
        for event_type, text in texts.items():
            if _notice_texts.setdefault(str(event_type), text) != text:
                raise ValueError(f"event type {event_type!r} has two different notice texts")


def registered_notice_texts() -> dict[str, str]:
    return dict(_notice_texts)


def now_ms() -> int:
    return int(time.time() * 1000)


def notice_text(event_type: str, severity: Severity | str = Severity.INFO) -> str:
    """The registered sentence; an unknown type still reads as urgent when it is S1."""
    fallback = URGENT_NOTICE_TEXT if severity == Severity.S1 else DEFAULT_NOTICE_TEXT
    return _notice_texts.get(event_type, fallback)


async def emit(
    caller: Caller | None,
    program_id: int,
    event_type: str,
    *,
    subject: tuple[str, int | str],
    recipients: Iterable[int] = (),
    severity: Severity | str = Severity.INFO,
    link: str = "/notifications",
) -> str:
    """Record an event in the current transaction; returns its key (the idempotency key).

    Call it inside your own `async with transaction():`, next to the change it announces.
    `subject` is what the event is about as (entity, id), e.g. ("membership", 12); `recipients`
    are membership ids who get an in-app notice (the caller is left out: nobody is told about
    their own action); `link` is a path in Tandem. Every active webhook endpoint of the program
    gets a delivery; S1 events also go to its on-call endpoints.
    """
    if engine().current_transaction.get() is None:
        raise RuntimeError("emit() must run inside the transaction of the change it announces")
    if caller is not None and caller.program_id != program_id:
        raise ValueError("an event belongs to the caller's own program")
    if not EVENT_TYPE.match(event_type) or len(event_type) > 64:
        raise ValueError(f"event type {event_type!r} must look like 'slice.happened'")
    subject_type, subject_id = subject
    if not SUBJECT_TYPE.match(subject_type) or len(str(subject_id)) > 64:
        raise ValueError("subject must be (entity name, id)")
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError("link must be a path inside Tandem")
    severity = Severity(severity)
    people = sorted({r for r in recipients if caller is None or r != caller.membership_id})
    key = str(uuid.uuid4())
    occurred = clock.now()
    body = {
        "id": key,
        "type": event_type,
        "program_id": program_id,
        "severity": severity.value,
        "subject": {"type": subject_type, "id": str(subject_id)},
        "recipients": people,
        "occurred_at": occurred.isoformat(),
        "link": link,
    }
    rows = await OutboxEvent.insert(
        OutboxEvent(
            key=key,
            program=program_id,
            event_type=event_type,
            severity=severity.value,
            subject_type=subject_type,
            subject_id=str(subject_id),
            body=msgspec.json.encode(body).decode(),
            created_at=occurred,
        )
    ).returning(OutboxEvent.id)
    event_id = rows[0]["id"]
    endpoints = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.on_call).where(
        (WebhookEndpoint.program == program_id) & (WebhookEndpoint.active == True)  # noqa: E712
    )
    targets = [e["id"] for e in endpoints if severity is Severity.S1 or not e["on_call"]]
    if targets:
        due = now_ms()
        await Delivery.insert(
            *(
                Delivery(event=event_id, endpoint=target, program=program_id, next_attempt_ms=due)
                for target in targets
            )
        )
    if people:
        await Notice.insert(
            *(
                Notice(
                    recipient=person,
                    program=program_id,
                    event=event_id,
                    event_type=event_type,
                    severity=severity.value,
                    link=link,
                    created_at=occurred,
                )
                for person in people
            )
        )
    return key


# In-app notices --------------------------------------------------------------------------------


def _mine(caller: Caller) -> Any:
    return (Notice.recipient == caller.membership_id) & (Notice.program == caller.program_id)


def _notices_query(unread_only: bool) -> Prepared[Any]:
    """The caller's latest 100 notices, newest first: the notifications page runs it on every
    view, so it is built and compiled once (`core.database.Prepared`)."""

    def build(recipient: Any, program: Any) -> Any:
        query = Notice.select(
            Notice.id,
            Notice.event_type,
            Notice.severity,
            Notice.link,
            Notice.created_at,
            Notice.read_at,
        ).where((Notice.recipient == recipient) & (Notice.program == program))
        if unread_only:
            query = query.where(Notice.read_at.is_null())
        return query.order_by(Notice.id, ascending=False).limit(100)

    return Prepared(build, parameters=2)


_NOTICES = {unread_only: _notices_query(unread_only) for unread_only in (False, True)}


async def list_notices(caller: Caller, *, unread_only: bool = False) -> list[NoticeOut]:
    """The caller's own notices, newest first (the latest 100)."""
    rows = await _NOTICES[unread_only].run(caller.membership_id, caller.program_id)
    return [
        msgspec.convert({**row, "text": notice_text(row["event_type"], row["severity"])}, NoticeOut)
        for row in rows
    ]


def unread_count_column(recipient: Column, program: Column) -> QueryString:
    """A select column counting a membership's unread notices.

    `accounts.services.caller_for_membership` adds it to the one query that loads the caller on
    every request, so the count in the navigation costs no query of its own.
    """
    return QueryString(
        # Only names from the schema go into the text; no value does.
        f"(SELECT COUNT(*) FROM {Notice._meta.get_formatted_tablename()} AS unread"  # noqa: S608
        f" WHERE unread.recipient = {recipient._meta.get_full_name(with_alias=False)}"
        f" AND unread.program = {program._meta.get_full_name(with_alias=False)}"
        " AND unread.read_at IS NULL)"
    ).as_alias("unread_notices")


async def mark_read(caller: Caller, notice_id: int) -> None:
    if not await Notice.exists().where(_mine(caller) & (Notice.id == notice_id)):
        raise NotFound("No such notification.")
    await Notice.update({Notice.read_at: clock.now()}).where(
        _mine(caller) & (Notice.id == notice_id) & Notice.read_at.is_null()
    )


async def mark_all_read(caller: Caller) -> None:
    await Notice.update({Notice.read_at: clock.now()}).where(
        _mine(caller) & Notice.read_at.is_null()
    )


# Webhook endpoints (admins) ---------------------------------------------------------------------

ENDPOINT_COLUMNS = (
    WebhookEndpoint.id,
    WebhookEndpoint.label,
    WebhookEndpoint.url,
    WebhookEndpoint.on_call,
    WebhookEndpoint.active,
    WebhookEndpoint.created_at,
    WebhookEndpoint.disabled_at,
)


async def list_endpoints(caller: Caller) -> list[EndpointOut]:
    rows = (
        await WebhookEndpoint.select(*ENDPOINT_COLUMNS)
        .where(WebhookEndpoint.program == caller.program_id)
        .order_by(WebhookEndpoint.id)
    )
    return msgspec.convert(rows, list[EndpointOut])


async def check_endpoint_url(url: str, settings: Settings) -> str:
    """The webhook URL rules, as a 400 that names the field."""
    try:
        return await webhooks.check_url_for(settings, url)
    except webhooks.UnsafeURL as error:
        raise Invalid(str(error), field="url") from None


async def create_endpoint(
    caller: Caller, data: EndpointCreate, settings: Settings
) -> EndpointCreated:
    """Add an endpoint with a secret generated here. The secret is returned this once only."""
    url = await check_endpoint_url(data.url, settings)
    secret = webhooks.new_secret()
    async with transaction():
        rows = await WebhookEndpoint.insert(
            WebhookEndpoint(
                program=caller.program_id,
                label=data.label.strip(),
                url=url,
                secret=secret,
                on_call=data.on_call,
                active=True,
                created_at=clock.now(),
            )
        ).returning(WebhookEndpoint.id)
        endpoint_id = rows[0]["id"]
        await audit.record(
            caller,
            "webhook_endpoint.created",
            "webhook_endpoint",
            endpoint_id,
            on_call=data.on_call,
        )
    row = (
        await WebhookEndpoint.select(*ENDPOINT_COLUMNS)
        .where(WebhookEndpoint.id == endpoint_id)
        .first()
    )
    return msgspec.convert({**row, "secret": secret}, EndpointCreated)


async def disable_endpoint(caller: Caller, endpoint_id: int) -> None:
    """Stop sending to an endpoint. What was still waiting for it is dead-lettered, visibly."""
    async with transaction():
        row = (
            await WebhookEndpoint.select(WebhookEndpoint.active)
            .where(
                (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.program == caller.program_id)
            )
            .first()
        )
        if row is None:
            raise NotFound("No such webhook endpoint in your program.")
        if not row["active"]:
            raise Conflict("This endpoint is already disabled.")
        await WebhookEndpoint.update(
            {WebhookEndpoint.active: False, WebhookEndpoint.disabled_at: clock.now()}
        ).where(WebhookEndpoint.id == endpoint_id)
        await Delivery.update(
            {
                Delivery.status: DeliveryStatus.DEAD.value,
                Delivery.last_error: "endpoint disabled",
                Delivery.lease_token: None,
                Delivery.lease_expires_ms: None,
            }
        ).where((Delivery.endpoint == endpoint_id) & Delivery.status.is_in(list(OUTSTANDING)))
        await audit.record(caller, "webhook_endpoint.disabled", "webhook_endpoint", endpoint_id)


# The delivery view (supervisors and admins) -----------------------------------------------------


def _ms_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value else None


async def delivery_counts(program_id: int) -> dict[str, int]:
    """A program's deliveries by status (every status listed, 0 when none): one GROUP BY."""
    counts = {s.value: 0 for s in DeliveryStatus}
    grouped = (
        await Delivery.select(Delivery.status, Count(Delivery.id, alias="n"))
        .where(Delivery.program == program_id)
        .group_by(Delivery.status)
    )
    counts.update({row["status"]: row["n"] for row in grouped})
    return counts


async def oldest_outstanding(program_id: int) -> datetime | None:
    """When the oldest event still waiting for delivery (pending or retrying) was written."""
    row = (
        await Delivery.select(Delivery.event.created_at.as_alias("created_at"))
        .where((Delivery.program == program_id) & Delivery.status.is_in(list(OUTSTANDING)))
        .order_by(Delivery.event.created_at)
        .first()
    )
    return row["created_at"] if row else None


async def delivery_view(caller: Caller, status: DeliveryStatus | None = None) -> DeliveryView:
    """Counts by status, and the latest 200 deliveries: by default everything not delivered."""
    counts = await delivery_counts(caller.program_id)
    query = Delivery.select(
        Delivery.id,
        Delivery.event.as_alias("event_id"),
        Delivery.event.key.as_alias("event_key"),
        Delivery.event.event_type.as_alias("event_type"),
        Delivery.event.severity.as_alias("severity"),
        Delivery.event.created_at.as_alias("created_at"),
        Delivery.endpoint.label.as_alias("endpoint_label"),
        Delivery.status,
        Delivery.attempts,
        Delivery.last_error,
        Delivery.last_status_code,
        Delivery.next_attempt_ms,
        Delivery.lease_expires_ms,
        Delivery.last_attempt_at,
        Delivery.delivered_at,
    ).where(Delivery.program == caller.program_id)
    if status is None:
        query = query.where(Delivery.status != DeliveryStatus.DELIVERED.value)
    else:
        query = query.where(Delivery.status == status.value)
    rows = await query.order_by(Delivery.id, ascending=False).limit(200)
    current = now_ms()
    deliveries = [
        msgspec.convert(
            {
                **row,
                "in_progress": row["status"] in OUTSTANDING
                and (row["lease_expires_ms"] or 0) > current,
                "next_attempt_at": _ms_to_datetime(row["next_attempt_ms"])
                if row["status"] in OUTSTANDING
                else None,
            },
            DeliveryOut,
        )
        for row in rows
    ]
    return DeliveryView(counts=counts, deliveries=deliveries)


async def retry_event(caller: Caller | None, event_id: int) -> RetryResult:
    """Queue the failed and dead-lettered deliveries of one event again, from attempt one.

    Staff may retry their own program's events; the CLI (no caller) any event. Deliveries to
    disabled endpoints stay dead.
    """
    async with transaction():
        query = OutboxEvent.select(OutboxEvent.id, OutboxEvent.program).where(
            OutboxEvent.id == event_id
        )
        if caller is not None:
            query = query.where(OutboxEvent.program == caller.program_id)
        event = await query.first()
        if event is None:
            raise NotFound("No such event in your program.")
        active = WebhookEndpoint.select(WebhookEndpoint.id).where(
            WebhookEndpoint.active == True  # noqa: E712
        )
        # A failed delivery a worker is sending right now keeps its lease: re-queueing it would
        # let a second worker send the same event at the same time.
        not_leased = Delivery.lease_expires_ms.is_null() | (Delivery.lease_expires_ms < now_ms())
        retryable = (
            (Delivery.event == event_id)
            & Delivery.status.is_in([DeliveryStatus.FAILED.value, DeliveryStatus.DEAD.value])
            & Delivery.endpoint.is_in(active)
            & not_leased
        )
        count = await Delivery.count().where(retryable)
        if count == 0:
            raise Conflict(
                "Nothing to retry: every delivery of this event has arrived, is already "
                "queued, or goes to a disabled endpoint."
            )
        await Delivery.update(
            {
                Delivery.status: DeliveryStatus.PENDING.value,
                Delivery.attempts: 0,
                Delivery.next_attempt_ms: now_ms(),
                Delivery.lease_token: None,
                Delivery.lease_expires_ms: None,
            }
        ).where(retryable)
        await audit.record(
            caller,
            "outbox_event.retried",
            "outbox_event",
            event_id,
            program_id=event["program"],
            requeued=count,
        )
    return RetryResult(event_id=event_id, requeued=count)


# --- a person's own data ---------------------------------------------------------------------


async def export_notices(caller: Caller) -> dict[str, Any]:
    """The caller's in-app notices (what happened and when; the words come from the event)."""
    notices = await Notice.select(
        Notice.event_type, Notice.severity, Notice.link, Notice.created_at, Notice.read_at
    ).where(Notice.recipient == caller.membership_id)
    return {"notices": notices}


async def forget(caller: Caller) -> None:
    """When a person erases their account (inside that transaction): events about them keep
    their type and time but no longer say whom they were about or whom they told. Their own
    notices go with their membership. A delivery not yet made then sends the erased body."""
    me = str(caller.membership_id)
    rows = (
        await OutboxEvent.select(OutboxEvent.id, OutboxEvent.subject_type, OutboxEvent.body)
        .where(OutboxEvent.program == caller.program_id)
        .output(load_json=True)
    )
    for row in rows:
        body = row["body"] if isinstance(row["body"], dict) else msgspec.json.decode(row["body"])
        about_me = audit.names_a_person(row["subject_type"]) and body["subject"]["id"] == me
        told = [r for r in body.get("recipients", []) if str(r) != me]
        if not about_me and len(told) == len(body.get("recipients", [])):
            continue
        if about_me:
            body["subject"]["id"] = audit.ERASED
        body["recipients"] = told
        values: dict[Column, Any] = {OutboxEvent.body: msgspec.json.encode(body).decode()}
        if about_me:
            values[OutboxEvent.subject_id] = audit.ERASED
        await OutboxEvent.update(values).where(OutboxEvent.id == row["id"])
