"""Webhook delivery against a real HTTP receiver on 127.0.0.1: signatures, retries, dead letters,
a worker killed mid-delivery, two workers at once, and events from the existing slices.

The receiver is a small threaded `http.server` that checks each signature as a program's own
receiver would. Worker processes are the real CLI (`litestar notifications worker`) on the same
database as the tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process

from tandem.core.auth import Role
from tandem.core.database import transaction
from tandem.core.errors import Conflict
from tandem.notifications import services as notifications
from tandem.notifications import webhooks
from tandem.notifications.cli import READY
from tandem.notifications.tables import Delivery
from tandem.notifications.worker import OutboxWorker
from tandem.settings import Settings
from tests.support.builders import MENTOR_PROFILE, apply_as_mentor

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Hit:
    event_id: str
    event_type: str
    verified: bool
    body: bytes


@dataclass
class Receiver:
    """A program's webhook receiver: verifies signatures, can be slow or fail on purpose."""

    secret: str = ""
    fail_first: int = 0
    status: int = 200
    delay: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    max_in_flight_per_event: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        event_id = headers.get("tandem-event-id", "")
        with self.lock:
            self.in_flight[event_id] += 1
            self.max_in_flight_per_event = max(
                self.max_in_flight_per_event, self.in_flight[event_id]
            )
        try:
            time.sleep(self.delay)
            with self.lock:
                self.hits.append(
                    Hit(
                        event_id,
                        headers.get("tandem-event-type", ""),
                        webhooks.verify(self.secret, headers, body),
                        body,
                    )
                )
                failing = len(self.hits) <= self.fail_first
            return 500 if failing else self.status
        finally:
            with self.lock:
                self.in_flight[event_id] -= 1

    @property
    def busy(self) -> int:
        with self.lock:
            return sum(self.in_flight.values())

    def ids(self, verified_only: bool = True) -> Counter[str]:
        with self.lock:
            return Counter(h.event_id for h in self.hits if h.verified or not verified_only)


def serve(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            code = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: the tests read what was received, not the access log."""

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the default backlog of 5 drops concurrent connections

        def handle_error(self, request: Any, client_address: Any) -> None:
            """A worker killed mid-request leaves a broken pipe; that is the point of the test."""

    server = Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tandem"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Private targets allowed (the receiver is on 127.0.0.1); short timeouts and backoff."""
    return replace(
        settings,
        allow_private_webhooks=True,
        webhook_timeout_seconds=2,
        outbox_lease_seconds=3,
        outbox_backoff_seconds=0.05,
        outbox_backoff_max_seconds=0.2,
        outbox_max_attempts=3,
        outbox_batch_size=10,
        outbox_poll_seconds=0.05,
    )


@pytest.fixture
async def worker(settings: Settings) -> AsyncIterator[OutboxWorker]:
    outbox = OutboxWorker(settings)
    yield outbox
    await outbox.aclose()


async def add_endpoint(make_client, people, receiver: Receiver, **extra: Any) -> int:  # type: ignore[no-untyped-def]
    """An admin of program A adds the receiver; the secret from the one response is kept."""
    admin = await make_client()
    await admin.login(people.a[Role.ADMIN].username)
    response = await admin.post(
        "/api/v1/webhook-endpoints", json={"label": "Receiver", "url": receiver.url, **extra}
    )
    assert response.status_code == 201, response.text
    receiver.secret = response.json()["secret"]
    return int(response.json()["id"])


async def emit_drill(program_id: int, count: int, severity: str = "info") -> list[str]:
    keys = []
    async with transaction():
        for number in range(count):
            keys.append(
                await notifications.emit(
                    None, program_id, "drill.ping", subject=("drill", number), severity=severity
                )
            )
    return keys


async def deliver_until(worker: OutboxWorker, done: Callable[[], Any], seconds: float = 20) -> None:
    with anyio.fail_after(seconds):
        while not await done():
            if await worker.deliver_due() == 0:
                await anyio.sleep(0.05)


async def statuses() -> Counter[str]:
    return Counter(row["status"] for row in await Delivery.select(Delivery.status))


# --- events from the existing slices -----------------------------------------------------------


async def test_events_of_the_existing_slices_reach_the_receiver_signed_and_minimal(
    make_client, people, receiver, worker
) -> None:
    await add_endpoint(make_client, people, receiver)
    applicant = await make_client()
    membership_id = await apply_as_mentor(applicant, "river", "Riverstone")
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    assert (await applicant.put("/api/v1/mentor-profile", json=MENTOR_PROFILE)).status_code == 200
    approved = await supervisor.post(f"/api/v1/members/{membership_id}/approve")
    assert approved.status_code == 204
    paused = await applicant.post(
        "/api/v1/mentor-profile/pause", json={"note": "my-private-reason-xyz"}
    )
    assert paused.status_code == 200

    await deliver_until(worker, lambda: _all_delivered(3))
    types = [hit.event_type for hit in receiver.hits]
    assert sorted(types) == ["mentor.applied", "mentor.approved", "mentor.paused"]
    assert all(hit.verified for hit in receiver.hits)
    for hit in receiver.hits:
        body = json.loads(hit.body)
        assert set(body) == {"id", "type", "program_id", "severity", "subject", "recipients",
                             "occurred_at", "link"}  # fmt: skip
        assert body["subject"] == {"type": "membership", "id": str(membership_id)}
        assert body["link"].startswith("http://127.0.0.1:8000/")
        text = hit.body.decode()
        assert "my-private-reason-xyz" not in text
        assert "Riverstone" not in text
        assert "river" not in text.replace("delivered", "")

    # The people concerned see it in the app too; the delivery view shows it as delivered.
    notices = (await supervisor.get("/api/v1/notifications")).json()
    # (the third is the application of the pending mentor that `people` makes)
    assert [n["event_type"] for n in notices] == [
        "mentor.paused",
        "mentor.applied",
        "mentor.applied",
    ]
    assert (await applicant.get("/api/v1/notifications")).json()[0]["event_type"] == (
        "mentor.approved"
    )
    view = (await supervisor.get("/api/v1/deliveries?status=delivered")).json()
    assert view["counts"]["delivered"] == 3
    assert {d["event_type"] for d in view["deliveries"]} == set(types)


async def _all_delivered(count: int) -> bool:
    return (await statuses())["delivered"] == count


# --- retries, dead letters, timeouts -----------------------------------------------------------


async def test_retries_while_the_receiver_fails_then_delivers_the_same_signed_bytes(
    make_client, people, receiver, worker
) -> None:
    await add_endpoint(make_client, people, receiver)
    receiver.fail_first = 2
    [key] = await emit_drill(people.a[Role.ADMIN].program_id, 1)
    await deliver_until(worker, lambda: _all_delivered(1))
    assert [hit.event_id for hit in receiver.hits] == [key, key, key]
    assert all(hit.verified for hit in receiver.hits)
    assert len({hit.body for hit in receiver.hits}) == 1
    row = await Delivery.select(Delivery.attempts, Delivery.last_error).first()
    assert row == {"attempts": 3, "last_error": ""}


async def test_dead_letter_after_n_failures_then_retry_from_the_api_and_the_page(
    make_client, people, receiver, worker, settings
) -> None:
    await add_endpoint(make_client, people, receiver)
    receiver.status = 503
    await emit_drill(people.a[Role.ADMIN].program_id, 1)
    await deliver_until(worker, lambda: _has_status("dead"))
    assert len(receiver.hits) == settings.outbox_max_attempts
    # Once dead, the worker leaves it alone.
    assert await worker.deliver_due() == 0

    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    view = (await supervisor.get("/api/v1/deliveries")).json()
    assert view["counts"]["dead"] == 1
    [dead] = view["deliveries"]
    assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 3, "http 503")
    page = await supervisor.get("/staff/deliveries")
    assert "gave up" in page.text
    assert "http 503" in page.text

    receiver.status = 200
    retried = await supervisor.post(f"/api/v1/deliveries/events/{dead['event_id']}/retry")
    assert retried.json() == {"event_id": dead["event_id"], "requeued": 1}
    again = await supervisor.post(f"/api/v1/deliveries/events/{dead['event_id']}/retry")
    assert again.status_code == 409
    await deliver_until(worker, lambda: _all_delivered(1))

    # The same through the page, with the form's CSRF token.
    receiver.status = 500
    await emit_drill(people.a[Role.ADMIN].program_id, 1)
    await deliver_until(worker, lambda: _has_status("dead"))
    event_id = (await Delivery.select(Delivery.event).where(Delivery.status == "dead").first())[
        "event"
    ]
    receiver.status = 200
    response = await supervisor.post(f"/staff/deliveries/{event_id}/retry")
    assert response.status_code in {302, 303}
    await deliver_until(worker, lambda: _all_delivered(2))


async def _has_status(status: str) -> bool:
    return (await statuses())[status] > 0


async def test_a_slow_receiver_times_out_and_is_retried(
    make_client, people, receiver, settings
) -> None:
    await add_endpoint(make_client, people, receiver)
    receiver.delay = 0.6
    fast = OutboxWorker(replace(settings, webhook_timeout_seconds=0.2, outbox_lease_seconds=1))
    try:
        await emit_drill(people.a[Role.ADMIN].program_id, 1)
        assert await fast.deliver_due() == 1
        row = await Delivery.select(Delivery.status, Delivery.last_error).first()
        assert row == {"status": "failed", "last_error": "timeout"}
    finally:
        await fast.aclose()


async def test_a_target_that_now_resolves_to_a_private_address_is_not_contacted(
    make_client, people, receiver, settings
) -> None:
    await add_endpoint(make_client, people, receiver)
    strict = OutboxWorker(replace(settings, allow_private_webhooks=False))
    try:
        await emit_drill(people.a[Role.ADMIN].program_id, 1)
        assert await strict.deliver_due() == 1
    finally:
        await strict.aclose()
    assert receiver.hits == []
    row = await Delivery.select(Delivery.status, Delivery.last_error).first()
    assert row == {"status": "failed", "last_error": "address not allowed"}


# --- S1 escalations go to the on-call channel --------------------------------------------------


async def test_s1_events_also_go_to_the_on_call_endpoint_and_others_do_not(
    make_client, people, receiver, worker
) -> None:
    await add_endpoint(make_client, people, receiver)
    for on_call in serve(Receiver()):
        await add_endpoint(make_client, people, on_call, on_call=True)
        supervisor_id = people.a[Role.SUPERVISOR].membership_id
        async with transaction():
            urgent = await notifications.emit(
                None,
                people.a[Role.SUPERVISOR].program_id,
                "safety.escalation",
                subject=("concern", 41),
                recipients=[supervisor_id],
                severity="S1",
            )
            routine = await notifications.emit(
                None, people.a[Role.SUPERVISOR].program_id, "drill.ping", subject=("drill", 1)
            )
        await deliver_until(worker, lambda: _all_delivered(3))
        assert set(receiver.ids()) == {urgent, routine}
        assert set(on_call.ids()) == {urgent}
        assert json.loads(on_call.hits[0].body)["severity"] == "S1"
    supervisor = await make_client()
    await supervisor.login(people.a[Role.SUPERVISOR].username)
    notices = (await supervisor.get("/api/v1/notifications?unread=true")).json()
    assert notices[0]["severity"] == "S1"
    assert "urgent" in notices[0]["text"].lower()


# --- concurrency: claims never overlap ---------------------------------------------------------


async def test_concurrent_claims_never_share_a_delivery(make_client, people, receiver, settings):  # type: ignore[no-untyped-def]
    await add_endpoint(make_client, people, receiver)
    await emit_drill(people.a[Role.ADMIN].program_id, 40)
    workers = [OutboxWorker(replace(settings, outbox_batch_size=7)) for _ in range(6)]
    claimed: list[list[int]] = []

    async def claim(outbox: OutboxWorker) -> None:
        claimed.append((await outbox.claim())[1])

    async with anyio.create_task_group() as group:
        for outbox in workers:
            group.start_soon(claim, outbox)
    for outbox in workers:
        await outbox.aclose()
    assert all(len(batch) <= 7 for batch in claimed), "a claim never exceeds its batch size"
    every = [delivery for batch in claimed for delivery in batch]
    assert len(every) == len(set(every)) == 40


# --- worker processes: killed mid-delivery, and two at once ------------------------------------


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PICCOLO_CONF": "tandem.piccolo_conf",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        "TANDEM_ENV": "test",
        "TANDEM_ALLOW_PRIVATE_WEBHOOKS": "1",
        "TANDEM_WEBHOOK_TIMEOUT_SECONDS": "2",
        "TANDEM_OUTBOX_LEASE_SECONDS": "3",
        "TANDEM_OUTBOX_BACKOFF_SECONDS": "0.1",
        "TANDEM_OUTBOX_POLL_SECONDS": "0.1",
        **extra,
    }


async def start_worker(env: dict[str, str], log: Path) -> Process:
    with log.open("ab") as sink:
        return await anyio.open_process(
            [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app",
             "notifications", "worker"],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
        )  # fmt: skip


async def stop_worker(process: Process) -> int:
    process.send_signal(signal.SIGTERM)
    with anyio.fail_after(15):
        return await process.wait()


async def _workers_ready(log: Path, count: int) -> bool:
    return (await anyio.Path(log).read_text()).count(READY) >= count


async def wait_for(condition: Callable[[], Any], seconds: float, what: str, log: Path) -> None:
    """Poll the database or the receiver (both change outside this event loop)."""
    with anyio.move_on_after(seconds):
        while not await condition():  # noqa: ASYNC110 - nothing here to wait on but a poll
            await anyio.sleep(0.05)
        return
    output = await anyio.Path(log).read_text()
    pytest.fail(f"timed out waiting for {what}; worker log:\n{output}")


async def test_a_worker_killed_mid_delivery_loses_nothing(
    make_client, people, receiver, settings, tmp_path
) -> None:
    await add_endpoint(make_client, people, receiver)
    keys = await emit_drill(people.a[Role.ADMIN].program_id, 20)
    receiver.delay = 0.5
    env = worker_env(settings, TANDEM_OUTBOX_BATCH_SIZE="5")
    log = tmp_path / "worker.log"

    first = await start_worker(env, log)
    try:
        await wait_for(lambda: _busy_after(receiver, 5), 30, "the first deliveries", log)
        in_flight_at_kill = receiver.busy
        first.kill()  # SIGKILL: no clean-up, leases left behind
    finally:
        with anyio.fail_after(10):
            await first.wait()
    assert in_flight_at_kill > 0, "the kill should land while requests are in flight"
    leased = await Delivery.count().where(Delivery.lease_token.is_not_null())
    assert 0 < leased <= 5, "the dead worker left its one claimed batch behind"

    second = await start_worker(env, log)
    try:
        await wait_for(lambda: _all_delivered(20), 60, "every delivery", log)
    finally:
        code = await stop_worker(second)
    assert code == 0, log.read_text()
    received = receiver.ids()
    assert set(keys) <= set(received), "every event arrived at least once"
    duplicates = sum(n - 1 for n in received.values())
    print(f"\nkill test: {len(keys)} events, {in_flight_at_kill} in flight at SIGKILL, "
          f"{leased} leased rows recovered, {duplicates} duplicate(s) delivered")  # fmt: skip
    assert await Delivery.count().where(Delivery.status != "delivered") == 0


async def _busy_after(receiver: Receiver, received: int) -> bool:
    return len(receiver.hits) >= received and receiver.busy > 0


async def test_two_workers_never_deliver_the_same_event_at_once(
    make_client, people, receiver, settings, tmp_path
) -> None:
    await add_endpoint(make_client, people, receiver)
    keys = await emit_drill(people.a[Role.ADMIN].program_id, 30)
    receiver.delay = 0.1
    env = worker_env(settings, TANDEM_OUTBOX_BATCH_SIZE="3")
    log = tmp_path / "workers.log"
    processes = [await start_worker(env, log) for _ in range(2)]
    try:
        await wait_for(lambda: _all_delivered(30), 60, "every delivery", log)
        # Under load the second worker may still be starting after the first delivered all.
        await wait_for(lambda: _workers_ready(log, 2), 60, "both workers to start", log)
    finally:
        codes = [await stop_worker(process) for process in processes]
    assert codes == [0, 0], log.read_text()
    assert receiver.max_in_flight_per_event == 1
    assert receiver.ids() == Counter({key: 1 for key in keys})


async def test_cli_retry_queues_a_dead_letter_again(
    make_client, people, receiver, worker, settings
) -> None:
    await add_endpoint(make_client, people, receiver)
    receiver.status = 500
    await emit_drill(people.a[Role.ADMIN].program_id, 1)
    await deliver_until(worker, lambda: _has_status("dead"))
    event_id = (await Delivery.select(Delivery.event).first())["event"]
    result = await anyio.run_process(
        [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app",
         "notifications", "retry", str(event_id)],
        env=worker_env(settings), cwd=ROOT, check=False,
    )  # fmt: skip
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 0, output
    assert "1 delivery(ies) queued again" in output
    assert (await statuses())["pending"] == 1
    receiver.status = 200
    await deliver_until(worker, lambda: _all_delivered(1))
    missing = await anyio.run_process(
        [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app",
         "notifications", "retry", "999999"],
        env=worker_env(settings), cwd=ROOT, check=False,
    )  # fmt: skip
    assert missing.returncode != 0


async def test_the_app_process_runs_its_own_worker_when_configured(
    make_client, people, receiver, settings
) -> None:
    from tandem.app import create_app

    await add_endpoint(make_client, people, receiver)
    [key] = await emit_drill(people.a[Role.ADMIN].program_id, 1)
    application = create_app(replace(settings, run_outbox_worker=True))
    async with application.lifespan():
        with anyio.fail_after(10):
            while not await _all_delivered(1):  # noqa: ASYNC110 - the worker runs in the app
                await anyio.sleep(0.05)
    assert receiver.ids() == Counter({key: 1})


async def test_a_retry_never_takes_a_delivery_away_from_the_worker_sending_it(
    make_client, people, receiver, worker
) -> None:
    await add_endpoint(make_client, people, receiver)
    await emit_drill(people.a[Role.ADMIN].program_id, 1)
    await Delivery.update({Delivery.status: "failed"}, force=True)
    token, claimed = await worker.claim()
    assert len(claimed) == 1
    event_id = (await Delivery.select(Delivery.event).first())["event"]
    with pytest.raises(Conflict):
        await notifications.retry_event(None, event_id)
    assert (await Delivery.select(Delivery.lease_token).first())["lease_token"] == token
