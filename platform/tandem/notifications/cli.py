"""`litestar notifications ...`: the webhook delivery worker and retries."""

from __future__ import annotations

import anyio
import anyio.abc
import click

from tandem.core.cli import run


@click.group(name="notifications", help="Webhook delivery: the worker and retries.")
def group() -> None:
    pass


READY = "Delivering webhooks. Press Ctrl+C to stop."


async def run_outbox_worker() -> None:
    """Deliver webhooks until SIGTERM or Ctrl+C; in-flight deliveries finish first."""
    import signal

    from piccolo.engine.postgres import PostgresEngine

    from tandem.core.database import engine, start_pool
    from tandem.notifications.worker import OutboxWorker
    from tandem.settings import Settings

    database = engine()
    if isinstance(database, PostgresEngine):
        await start_pool(database)
    worker = OutboxWorker(Settings.from_env())

    async def stop_on_signal(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            task_status.started()
            async for _ in signals:
                worker.stop()
                return

    try:
        async with anyio.create_task_group() as group:
            # Announce readiness only once a stop signal is handled: a SIGTERM before that
            # would kill the process instead of letting in-flight deliveries finish.
            await group.start(stop_on_signal)
            click.echo(READY, err=True)
            await worker.run()
            group.cancel_scope.cancel()
    finally:
        await worker.aclose()
        if isinstance(database, PostgresEngine):
            await database.close_connection_pool()


@group.command(name="worker", help="Deliver webhooks until stopped (Ctrl+C).")
def notifications_worker() -> None:
    run(run_outbox_worker())
    click.echo("Stopped.", err=True)


@group.command(name="retry", help="Queue an event's failed deliveries again.")
@click.argument("event_id", type=int)
def notifications_retry(event_id: int) -> None:
    from tandem.core.errors import DomainError
    from tandem.notifications.services import retry_event

    try:
        result = run(retry_event(None, event_id))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Event {event_id}: {result.requeued} delivery(ies) queued again.")
