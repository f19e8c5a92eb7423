"""`litestar safety ...`: the periodic safety steps, run by hand or from cron."""

from __future__ import annotations

import click

from tandem.core.cli import run


@click.group(name="safety", help="Concerns: overdue escalation and the retention purge.")
def group() -> None:
    pass


@group.command(name="run", help="One round: escalate overdue concerns, purge old closed ones.")
def safety_run() -> None:
    from tandem.safety.jobs import periodic_steps

    result = run(periodic_steps())
    click.echo(f"Overdue concerns escalated: {result['escalated']}; purged: {result['purged']}.")
