"""The delivery worker: claims due deliveries, POSTs them with httpx, records the outcome.

It runs inside the app process (when `TANDEM_OUTBOX_WORKER` is on) and as its own process
(`litestar notifications worker`); any number may run against one database.

Claiming is one conditional UPDATE that writes a fresh lease token and expiry into rows that
are due and not leased, and returns their ids. On PostgreSQL the candidate rows are also taken
`FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other instead of queueing; on SQLite
the statement runs under the database write lock. Either way the outer WHERE repeats the
"not leased" test, so a row can only ever be claimed by one worker at a time. Outcomes are
written only `WHERE lease_token = <ours>`. The lease outlasts the HTTP timeout, so a live worker
always finishes before its lease ends; a dead worker's rows are claimed again once it has:
nothing is lost, and a delivery may arrive twice (receivers deduplicate on `Tandem-Event-Id`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import msgspec

from tandem.core.clock import clock
from tandem.notifications import webhooks
from tandem.notifications.schemas import DeliveryStatus
from tandem.notifications.services import OUTSTANDING, now_ms
from tandem.notifications.tables import Delivery
from tandem.settings import Settings

log = logging.getLogger("tandem.notifications")

# The candidates are a MATERIALIZED CTE: as a plain `IN (subquery)`, PostgreSQL may run the
# subquery more than once and so claim more than LIMIT rows.
CLAIM_SQL = """
WITH due AS MATERIALIZED (
    SELECT d.id FROM outbox_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint
    WHERE d.status IN ('pending', 'failed') AND e.active
      AND d.next_attempt_ms <= {} AND (d.lease_expires_ms IS NULL OR d.lease_expires_ms < {})
    ORDER BY d.next_attempt_ms, d.id
    LIMIT {}
    %s
)
UPDATE outbox_delivery
SET lease_token = {}, lease_expires_ms = {}, attempts = attempts + 1
WHERE id IN (SELECT id FROM due)
AND status IN ('pending', 'failed') AND (lease_expires_ms IS NULL OR lease_expires_ms < {})
RETURNING id
"""

# A worker that died during the last allowed attempt leaves a row no one will finish: give up
# on it visibly rather than claim it forever.
ABANDONED_SQL = """
UPDATE outbox_delivery
SET status = 'dead', last_error = 'worker stopped during the last attempt',
    lease_token = NULL, lease_expires_ms = NULL
WHERE status IN ('pending', 'failed') AND attempts >= {}
  AND lease_expires_ms IS NOT NULL AND lease_expires_ms < {}
"""


class Outcome(msgspec.Struct, frozen=True):
    delivered: bool
    status_code: int | None = None
    error: str = ""


class OutboxWorker:
    """One delivery loop. `deliver_due()` does a single batch (tests call it directly)."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        resolver: webhooks.Resolver = webhooks.resolve,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.client = client or httpx.AsyncClient(
            # Proxies from the environment and redirects could both carry a request somewhere
            # the URL check never saw.
            trust_env=False,
            follow_redirects=False,
            timeout=settings.webhook_timeout_seconds,
            limits=httpx.Limits(max_connections=settings.outbox_batch_size),
        )
        self.stopping = anyio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def claim(self) -> tuple[str, list[int]]:
        """Lease up to a batch of due deliveries; returns the lease token and the row ids."""
        db = Delivery._meta.db
        token = str(uuid.uuid4())
        current = now_ms()
        expires = current + int(self.settings.outbox_lease_seconds * 1000)
        lock = "FOR UPDATE OF d SKIP LOCKED" if db.engine_type == "postgres" else ""
        await Delivery.raw(ABANDONED_SQL, self.settings.outbox_max_attempts, current)
        rows = await Delivery.raw(
            CLAIM_SQL % lock,
            current,
            current,
            self.settings.outbox_batch_size,
            token,
            expires,
            current,
        )
        return token, [row["id"] for row in rows]

    async def deliver_due(self) -> int:
        """Claim one batch and deliver it concurrently; returns how many were attempted."""
        token, ids = await self.claim()
        if not ids:
            return 0
        rows = await Delivery.select(
            Delivery.id,
            Delivery.attempts,
            Delivery.event.key.as_alias("key"),
            Delivery.event.event_type.as_alias("event_type"),
            Delivery.event.body.as_alias("body"),
            Delivery.endpoint.url.as_alias("url"),
            Delivery.endpoint.secret.as_alias("secret"),
        ).where(Delivery.id.is_in(ids) & (Delivery.lease_token == token))
        checked: dict[str, str] = {}
        outcomes: dict[int, Outcome] = {}

        async def deliver(row: dict[str, Any]) -> None:
            outcomes[row["id"]] = await self.post(row, checked)

        async with anyio.create_task_group() as group:
            for row in rows:
                group.start_soon(deliver, row)
        # One transaction for the batch's outcomes: on SQLite, concurrent writers would only
        # queue on the database lock; on PostgreSQL it saves a commit per row.
        async with Delivery._meta.db.transaction():
            for row in rows:
                await self.record(token, row["id"], row["attempts"], outcomes[row["id"]])
        return len(rows)

    async def _url_problem(self, url: str, checked: dict[str, str]) -> str:
        """Check the address again before sending (DNS may have changed since it was saved)."""
        if url not in checked:
            try:
                await webhooks.check_url_for(self.settings, url, resolver=self.resolver)
                checked[url] = ""
            except webhooks.UnsafeURL:
                checked[url] = "address not allowed"
        return checked[url]

    def body_for(self, stored: str | dict[str, Any]) -> bytes:
        """The bytes sent: the stored event with its link made absolute. Same on every retry."""
        body = msgspec.json.decode(stored) if isinstance(stored, str) else dict(stored)
        body["link"] = self.settings.public_url + body["link"]
        return msgspec.json.encode(body)

    async def post(self, row: dict[str, Any], checked: dict[str, str]) -> Outcome:
        body = self.body_for(row["body"])
        headers = webhooks.signed_headers(
            row["secret"], event_key=row["key"], event_type=row["event_type"], body=body
        )
        try:
            # httpx's timeout is per phase; this bounds the address check and the whole exchange
            # together, well inside the lease.
            with anyio.fail_after(self.settings.webhook_timeout_seconds):
                if problem := await self._url_problem(row["url"], checked):
                    return Outcome(False, error=problem)
                response = await self.client.post(row["url"], content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(False, error="timeout")
        except httpx.HTTPError:
            return Outcome(False, error="connection error")
        if 200 <= response.status_code < 300:
            return Outcome(True, status_code=response.status_code)
        return Outcome(
            False, status_code=response.status_code, error=f"http {response.status_code}"
        )

    async def record(self, token: str, delivery_id: int, attempts: int, outcome: Outcome) -> None:
        """Write the outcome, only while we still hold the lease; log ids, never addresses."""
        now = clock.now()
        values: dict[Any, Any] = {
            Delivery.lease_token: None,
            Delivery.lease_expires_ms: None,
            Delivery.last_attempt_at: now,
            Delivery.last_status_code: outcome.status_code,
            Delivery.last_error: outcome.error,
        }
        if outcome.delivered:
            values[Delivery.status] = DeliveryStatus.DELIVERED.value
            values[Delivery.delivered_at] = now
        elif attempts >= self.settings.outbox_max_attempts:
            values[Delivery.status] = DeliveryStatus.DEAD.value
            log.warning("delivery %s dead-lettered after %s attempts", delivery_id, attempts)
        else:
            values[Delivery.status] = DeliveryStatus.FAILED.value
            delay = webhooks.backoff_seconds(
                attempts,
                base=self.settings.outbox_backoff_seconds,
                cap=self.settings.outbox_backoff_max_seconds,
            )
            values[Delivery.next_attempt_ms] = now_ms() + int(delay * 1000)
            log.info("delivery %s failed (%s); retry in %.1fs", delivery_id, outcome.error, delay)
        await Delivery.update(values).where(
            (Delivery.id == delivery_id)
            & (Delivery.lease_token == token)
            & Delivery.status.is_in(list(OUTSTANDING))
        )

    async def run(self) -> None:
        """Deliver until `stop()`: straight on while there is work, else poll for more."""
        while not self.stopping.is_set():
            try:
                attempted = await self.deliver_due()
            except Exception:  # a database hiccup must not end the loop
                log.exception("outbox batch failed; trying again shortly")
                attempted = 0
            if attempted == 0:
                with anyio.move_on_after(self.settings.outbox_poll_seconds):
                    await self.stopping.wait()


@asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[OutboxWorker]:
    """Run a worker in the background of the app process for as long as the block lasts."""
    worker = OutboxWorker(settings)
    async with anyio.create_task_group() as group:
        group.start_soon(worker.run)
        try:
            yield worker
        finally:
            worker.stop()
    await worker.aclose()
