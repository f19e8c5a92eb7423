"""Commands under `litestar` (and the `tandem` script): the schema and demo data here, and each
slice's own group (`staff`, `training`, `notifications`) from its `cli.py`.

`litestar --app tandem.app:create_app db migrate` applies every slice's migrations; the serve
command and the compose migrate service both call it, so there is one way to build a schema.
"""

from __future__ import annotations

import os
import sys

import click
from litestar.plugins import CLIPluginProtocol

from tandem.accounts import cli as accounts_cli
from tandem.core.cli import run
from tandem.matches import cli as matches_cli
from tandem.notifications import cli as notifications_cli
from tandem.safety import cli as safety_cli
from tandem.training import cli as training_cli

os.environ.setdefault("PICCOLO_CONF", "tandem.piccolo_conf")


async def migrate() -> None:
    """Apply every pending migration of every slice, in dependency order."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from tandem.core.database import PooledSQLiteEngine, engine

    if isinstance(current := engine(), PooledSQLiteEngine):
        await current.enable_wal()
    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise click.ClickException(f"Migrations failed: {result.message}")


# Each slice's own command group (`<slice>/cli.py`), composed here.
SLICE_GROUPS = (
    accounts_cli.group,
    training_cli.group,
    notifications_cli.group,
    matches_cli.group,
    safety_cli.group,
)


class TandemCLIPlugin(CLIPluginProtocol):
    """Adds Tandem's commands to the `litestar` command line."""

    def on_cli_init(self, cli: click.Group) -> None:
        for group in (db_group, demo_group, *SLICE_GROUPS):
            cli.add_command(group)


@click.group(name="db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command(name="migrate", help="Apply all pending migrations.")
def migrate_command() -> None:
    run(migrate())
    click.echo("Migrations are up to date.")


@db_group.command(name="prune-sessions", help="Delete expired sessions and rate-limit counters.")
def prune_sessions_command() -> None:
    from tandem.accounts.services import prune_expired

    sessions, counters = run(prune_expired())
    click.echo(f"Deleted {sessions} expired sessions and {counters} rate-limit counters.")


@click.group(name="demo", help="Demo data.")
def demo_group() -> None:
    pass


@demo_group.command(name="load", help="Load the demo program (skipped if already loaded).")
@click.option("--seed", default=7, show_default=True, help="Random seed; same seed, same data.")
def demo_load(seed: int) -> None:
    from tandem.demo import load_demo

    logins = run(load_demo(seed=seed))
    if logins is None:
        click.echo("The demo program is already loaded.")
        return
    click.echo("Demo program 'riverside' loaded. Sign in on the site's /login page with:")
    width = max(len(role) for role, _, _ in logins)
    for role, username, password in logins:
        click.echo(f"  {role:<{width}}  {username:<22} {password}")


def main() -> None:
    """The `tandem` script: the litestar CLI with Tandem's app preselected."""
    from litestar.cli.main import litestar_group

    os.environ.setdefault("LITESTAR_APP", "tandem.app:create_app")
    sys.exit(litestar_group())
