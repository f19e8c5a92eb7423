"""Webhook delivery throughput: events per second from the outbox to a real local receiver.

Emits N events (in transactions of 100, as slices do), then runs 1 or 2 delivery workers in this
process until every delivery is recorded as delivered. The receiver is the tests' threaded HTTP
server on 127.0.0.1, in its own process (so it does not share this one's GIL), checking every
signature; its count of verified events must match. Prints one table row per (batch, workers).

    .venv/bin/python bench/bench_outbox.py                    # SQLite in a temp file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tandem_bench \
        .venv/bin/python bench/bench_outbox.py                # PostgreSQL (a scratch database)

Each run makes its own program (`bench-<random>`) and touches only that program's rows.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault(
    "DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp(prefix='tandem-bench-')) / 'bench.sqlite'}"
)
os.environ["PICCOLO_CONF"] = "tandem.piccolo_conf"
os.environ.setdefault("TANDEM_ENV", "test")

import anyio  # noqa: E402

from tandem.accounts import services as accounts  # noqa: E402
from tandem.cli import migrate  # noqa: E402
from tandem.core.auth import Role  # noqa: E402
from tandem.core.database import transaction  # noqa: E402
from tandem.notifications import services as notifications  # noqa: E402
from tandem.notifications.schemas import EndpointCreate  # noqa: E402
from tandem.notifications.tables import Delivery, OutboxEvent  # noqa: E402
from tandem.notifications.worker import OutboxWorker  # noqa: E402
from tandem.piccolo_conf import DB  # noqa: E402
from tandem.settings import Settings  # noqa: E402
from tests.integration.test_notifications_delivery import Receiver, serve  # noqa: E402


async def emit_events(program_id: int, count: int) -> float:
    started = time.perf_counter()
    for first in range(0, count, 100):
        async with transaction():
            for number in range(first, min(first + 100, count)):
                await notifications.emit(None, program_id, "bench.ping", subject=("bench", number))
    return time.perf_counter() - started


async def deliver_all(settings: Settings, workers: int, program_id: int, count: int) -> float:
    outboxes = [OutboxWorker(settings) for _ in range(workers)]
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for outbox in outboxes:
            group.start_soon(outbox.run)
        delivered = (Delivery.program == program_id) & (Delivery.status == "delivered")
        while await Delivery.count().where(delivered) < count:  # noqa: ASYNC110
            await anyio.sleep(0.02)
        elapsed = time.perf_counter() - started
        for outbox in outboxes:
            outbox.stop()
    for outbox in outboxes:
        await outbox.aclose()
    return elapsed


def receive(commands: multiprocessing.Queue, answers: multiprocessing.Queue) -> None:
    """The receiver process: says its URL, takes the secret, reports and resets on request."""
    for receiver in serve(Receiver()):
        answers.put(receiver.url)
        receiver.secret = commands.get()
        while commands.get() == "count":
            answers.put(receiver.ids())
            with receiver.lock:
                receiver.hits.clear()


async def main(
    events: int, commands: multiprocessing.Queue, answers: multiprocessing.Queue
) -> None:
    if DB.engine_type == "postgres":
        await DB.start_connection_pool()
    await migrate()
    base = Settings.from_env()
    settings = Settings(
        database_url=base.database_url,
        environment="test",
        allow_private_webhooks=True,
        outbox_poll_seconds=0.01,
    )
    name = f"bench-{uuid.uuid4().hex[:8]}"
    program_id = await accounts.create_program(name, "Bench")
    admin_id = await accounts.create_member(
        program_id=program_id,
        username=name,
        display_name="Admin",
        password="bench-password-long",  # noqa: S106 - a throwaway bench database
        role=Role.ADMIN,
    )
    admin = await accounts.caller_for_membership(admin_id)
    assert admin is not None  # noqa: S101 - just created
    rows = []
    url = answers.get()
    created = await notifications.create_endpoint(
        admin, EndpointCreate(label="bench", url=url), settings
    )
    commands.put(created.secret)
    for batch in (10, 50, 100):
        for workers in (1, 2):
            await Delivery.delete().where(Delivery.program == program_id)
            await OutboxEvent.delete().where(OutboxEvent.program == program_id)
            emit_seconds = await emit_events(program_id, events)
            run = Settings(**{**settings.__dict__, "outbox_batch_size": batch})
            seconds = await deliver_all(run, workers, program_id, events)
            commands.put("count")
            ids = answers.get()
            assert len(ids) == events, "every event arrived, signed"  # noqa: S101
            rows.append((batch, workers, events, emit_seconds, seconds, sum(ids.values())))
    commands.put("stop")
    if DB.engine_type == "postgres":
        await DB.close_connection_pool()
    print(f"\nOutbox delivery to a local receiver ({DB.engine_type}, {events} events per run)\n")
    print(
        "| batch | workers | events | emit events/s | delivery s | delivered events/s | requests |"
    )
    print(
        "|------:|--------:|-------:|--------------:|-----------:|-------------------:|---------:|"
    )
    for batch, workers, count, emit_seconds, seconds, requests in rows:
        print(
            f"| {batch:>5} | {workers:>7} | {count:>6} | {count / emit_seconds:>13.0f} "
            f"| {seconds:>10.2f} | {count / seconds:>18.0f} | {requests:>8} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="events per run")
    spawn = multiprocessing.get_context("spawn")
    commands, answers = spawn.Queue(), spawn.Queue()
    receiver_process = spawn.Process(target=receive, args=(commands, answers), daemon=True)
    receiver_process.start()
    try:
        anyio.run(main, parser.parse_args().events, commands, answers)
    finally:
        receiver_process.join(timeout=5)
