"""The outbox (events written with the change that causes them), their webhook deliveries, the
program's webhook endpoints, and each person's in-app notices.

Scheduling columns (`next_attempt_ms`, `lease_expires_ms`) are epoch milliseconds rather than
timestamps: the delivery claim is one raw SQL statement that must compare them the same way on
SQLite (which stores timestamps as text) and PostgreSQL.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from tandem.accounts.tables import Membership, Program


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """Where a program wants its events sent (an SMS gateway, a chat, an email service).

    `on_call` endpoints are the on-call supervisor's channel: they receive S1 escalations only.
    Endpoints are disabled, never deleted, so the delivery history keeps its target.
    """

    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    label = Varchar(length=80)
    url = Varchar(length=500)
    # The HMAC key: needed in clear to sign, so it is stored, but never selected for display.
    secret = Varchar(length=100, secret=True)
    on_call = Boolean(default=False)
    active = Boolean(default=True, index=True)
    created_at = Timestamptz()
    disabled_at = Timestamptz(null=True, default=None)


class OutboxEvent(Table, tablename="outbox_event"):
    """Something happened that people or systems must hear about. `body` is the exact JSON sent
    to webhooks (ids, type, link; never names or health details), fixed at emit time so every
    retry sends the same bytes under the same idempotency key `key`."""

    key = Varchar(length=36, unique=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    event_type = Varchar(length=64, index=True)
    severity = Varchar(length=8, default="info")
    subject_type = Varchar(length=32)
    subject_id = Varchar(length=64)
    body = JSON(default="{}")
    created_at = Timestamptz(index=True)


class Delivery(Table, tablename="outbox_delivery"):
    """One event to one endpoint. Status: pending -> (failed -> ...) -> delivered | dead.

    A worker claims a row by writing its own `lease_token` and a `lease_expires_ms` in one
    conditional UPDATE; only the lease holder may record the outcome. A worker that dies leaves
    its lease to expire, and the row is claimed again: delivery is at least once.
    """

    event = ForeignKey(references=OutboxEvent, on_delete=OnDelete.cascade, index=True)
    endpoint = ForeignKey(references=WebhookEndpoint, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_ms = BigInt(default=0, index=True)
    lease_token = Varchar(length=36, null=True, default=None)
    lease_expires_ms = BigInt(null=True, default=None)
    # A short classification ("http 503", "timeout", "connection error"), never a response body.
    last_error = Varchar(length=100, default="")
    last_status_code = Integer(null=True, default=None)
    last_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


class Notice(Table, tablename="notice"):
    """An in-app notification for one person. The words are chosen from the event type when
    shown, so nothing a person wrote is ever copied here."""

    recipient = ForeignKey(references=Membership, on_delete=OnDelete.cascade, index=True)
    program = ForeignKey(references=Program, on_delete=OnDelete.cascade, index=True)
    event = ForeignKey(references=OutboxEvent, on_delete=OnDelete.cascade)
    event_type = Varchar(length=64)
    severity = Varchar(length=8, default="info")
    link = Varchar(length=200, default="")
    created_at = Timestamptz(index=True)
    read_at = Timestamptz(null=True, default=None, index=True)
