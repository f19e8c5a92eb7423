"""Shapes at the HTTP edge for notices, webhook endpoints and the delivery view."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from msgspec import Meta, Struct

from tandem.core.edge import NoNul
from tandem.core.severity import Severity


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not tried yet, or queued again by a retry
    FAILED = "failed"  # tried, will be tried again after a backoff
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the last attempt; a person may retry it


class NoticeOut(Struct):
    id: int
    event_type: str
    severity: Severity
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class EndpointCreate(Struct, forbid_unknown_fields=True):
    label: Annotated[
        str,
        NoNul,
        Meta(min_length=1, max_length=80, description="What this is, e.g. 'SMS gateway'."),
    ]
    url: Annotated[str, NoNul, Meta(min_length=8, max_length=500, description="https:// address.")]
    on_call: Annotated[
        bool, Meta(description="The on-call supervisor's channel: receives S1 escalations only.")
    ] = False


class EndpointOut(Struct):
    """An endpoint as admins see it. The secret is never part of this shape."""

    id: int
    label: str
    url: str
    on_call: bool
    active: bool
    created_at: datetime
    disabled_at: datetime | None


class EndpointCreated(EndpointOut):
    """Returned once, at creation: the only time the signing secret is ever shown."""

    secret: str


class DeliveryOut(Struct):
    id: int
    event_id: int
    event_key: str
    event_type: str
    severity: Severity
    endpoint_label: str
    status: DeliveryStatus
    in_progress: bool
    attempts: int
    last_error: str
    last_status_code: int | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryView(Struct):
    counts: dict[str, int]
    deliveries: list[DeliveryOut]


class RetryResult(Struct):
    event_id: int
    requeued: int
