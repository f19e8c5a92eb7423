"""Commands under `litestar` (and the `tandem` script): migrate, demo data, staff accounts.

`litestar --app tandem.app:create_app db migrate` applies every slice's migrations; the serve
command and the compose migrate service both call it, so there is one way to build a schema.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Coroutine
from typing import Any

import anyio
import click
from litestar.plugins import CLIPluginProtocol

os.environ.setdefault("PICCOLO_CONF", "tandem.piccolo_conf")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return anyio.run(lambda: coroutine)


async def migrate() -> None:
    """Apply every pending migration of every slice, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise click.ClickException(f"Migrations failed: {result.message}")


class TandemCLIPlugin(CLIPluginProtocol):
    """Adds Tandem's commands to the `litestar` command line."""

    def on_cli_init(self, cli: click.Group) -> None:
        cli.add_command(db_group)
        cli.add_command(demo_group)
        cli.add_command(staff_group)
        cli.add_command(notifications_group)
        cli.add_command(training_group)
        cli.add_command(matches_group)


@click.group(name="db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command(name="migrate", help="Apply all pending migrations.")
def migrate_command() -> None:
    _run(migrate())
    click.echo("Migrations are up to date.")


@db_group.command(name="prune-sessions", help="Delete expired sessions and rate-limit counters.")
def prune_sessions_command() -> None:
    from tandem.accounts import store
    from tandem.core import ratelimit

    async def prune() -> tuple[int, int]:
        return await store.prune_expired(), await ratelimit.prune_expired()

    sessions, counters = _run(prune())
    click.echo(f"Deleted {sessions} expired sessions and {counters} rate-limit counters.")


@click.group(name="demo", help="Demo data.")
def demo_group() -> None:
    pass


@demo_group.command(name="load", help="Load the demo program (skipped if already loaded).")
@click.option("--seed", default=7, show_default=True, help="Random seed; same seed, same data.")
def demo_load(seed: int) -> None:
    from tandem.demo import load_demo

    logins = _run(load_demo(seed=seed))
    if logins is None:
        click.echo("The demo program is already loaded.")
        return
    click.echo("Demo program 'riverside' loaded. Sign in at http://127.0.0.1:8000/login with:")
    for role, username, password in logins:
        click.echo(f"  {role:<24} {username:<22} {password}")


@click.group(name="staff", help="Programs and staff accounts.")
def staff_group() -> None:
    pass


@staff_group.command(name="create", help="Create a supervisor or admin (and the program if new).")
@click.option("--program", "program_slug", required=True, help="Program code, e.g. riverside.")
@click.option("--program-name", default=None, help="Name for a new program.")
@click.option("--username", required=True)
@click.option("--display-name", required=True)
@click.option("--role", type=click.Choice(["supervisor", "admin"]), default="supervisor")
@click.password_option(help="At least 10 characters; asked for when not given.")
def staff_create(
    program_slug: str,
    program_name: str | None,
    username: str,
    display_name: str,
    role: str,
    password: str,
) -> None:
    from tandem.accounts import services
    from tandem.core.auth import Role
    from tandem.core.errors import DomainError

    if len(password) < 10:
        raise click.BadParameter("must be at least 10 characters", param_hint="--password")

    async def create() -> int:
        try:
            program_id = (await services.program_by_slug(program_slug))["id"]
        except DomainError:
            program_id = await services.create_program(program_slug, program_name or program_slug)
        return await services.create_member(
            program_id=program_id,
            username=username,
            display_name=display_name,
            password=password,
            role=Role(role),
        )

    try:
        membership_id = _run(create())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {role} {username!r} (membership {membership_id}) in {program_slug!r}.")


@click.group(name="training", help="The mentor training track.")
def training_group() -> None:
    pass


@training_group.command(
    name="validate", help="Check the training content; print each problem with file and line."
)
@click.option(
    "--path",
    "content_path",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="A content folder (default: the packaged training_content/).",
)
def training_validate(content_path: str | None) -> None:
    from pathlib import Path

    from tandem.training.content import CONTENT_ROOT, validate

    track, errors = validate(Path(content_path) if content_path else CONTENT_ROOT)
    if errors or track is None:
        for error in errors:
            click.echo(str(error), err=True)
        raise click.ClickException(f"{len(errors)} problem(s) in the training content.")
    click.echo(f"{track.title} (version {track.version}): {len(track.modules)} modules, valid.")
    for module in track.modules:
        critical = sum(question.critical for question in module.questions)
        click.echo(
            f"  {module.id:<28} v{module.version}  pool {len(module.questions):>3} "
            f"(critical {critical})  quiz {module.quiz_length}  renew {module.renewal_months} mo"
        )


@click.group(name="notifications", help="Webhook delivery: the worker and retries.")
def notifications_group() -> None:
    pass


async def run_outbox_worker() -> None:
    """Deliver webhooks until SIGTERM or Ctrl+C; in-flight deliveries finish first."""
    import signal

    from piccolo.engine.postgres import PostgresEngine

    from tandem.notifications.worker import OutboxWorker
    from tandem.piccolo_conf import DB
    from tandem.settings import Settings

    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool()
    worker = OutboxWorker(Settings.from_env())

    async def stop_on_signal() -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                worker.stop()
                return

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(stop_on_signal)
            await worker.run()
            group.cancel_scope.cancel()
    finally:
        await worker.aclose()
        if isinstance(DB, PostgresEngine):
            await DB.close_connection_pool()


@notifications_group.command(name="worker", help="Deliver webhooks until stopped (Ctrl+C).")
def notifications_worker() -> None:
    click.echo("Delivering webhooks. Press Ctrl+C to stop.", err=True)
    _run(run_outbox_worker())
    click.echo("Stopped.", err=True)


@notifications_group.command(name="retry", help="Queue an event's failed deliveries again.")
@click.argument("event_id", type=int)
def notifications_retry(event_id: int) -> None:
    from tandem.core.errors import DomainError
    from tandem.notifications.services import retry_event

    try:
        result = _run(retry_event(None, event_id))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Event {event_id}: {result.requeued} delivery(ies) queued again.")


def main() -> None:
    """The `tandem` script: the litestar CLI with Tandem's app preselected."""
    from litestar.cli.main import litestar_group

    os.environ.setdefault("LITESTAR_APP", "tandem.app:create_app")
    sys.exit(litestar_group())


@click.group(name="matches", help="The match journey: batch matching and offer lapses.")
def matches_group() -> None:
    pass


@matches_group.command(name="batch", help="Propose for everyone waiting in a program.")
@click.option("--program", "program_slug", required=True, help="Program code, e.g. riverside.")
def matches_batch(program_slug: str) -> None:
    from tandem.accounts import services as accounts
    from tandem.matches import services

    async def run() -> object:
        program = await accounts.program_by_slug(program_slug)
        return await services.run_batch(program["id"])

    figures = _run(run())
    if figures is None:
        click.echo("Another batch run is under way for this program; nothing was done.")
        return
    click.echo(
        f"Waiting {figures.waiting}, proposed {figures.proposed}, unmatched "
        f"{figures.unmatched or 'none'}, in {figures.seconds:.2f} s {figures.timings}."
    )


@matches_group.command(name="run", help="One round of the periodic steps (lapses, batches).")
def matches_run() -> None:
    from tandem.matches.jobs import periodic_steps

    result = _run(periodic_steps())
    click.echo(f"Offers lapsed: {result['lapsed']}; proposals made: {result['proposed']}.")
