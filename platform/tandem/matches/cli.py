"""`litestar matches ...`: batch matching and the periodic steps, run by hand or from cron."""

from __future__ import annotations

import click

from tandem.core.cli import run


@click.group(name="matches", help="The match journey: batch matching and offer lapses.")
def group() -> None:
    pass


@group.command(name="batch", help="Propose for everyone waiting in a program.")
@click.option("--program", "program_slug", required=True, help="Program code, e.g. riverside.")
def matches_batch(program_slug: str) -> None:
    from tandem.accounts import services as accounts
    from tandem.matches import services

    async def batch() -> object:
        program = await accounts.program_by_slug(program_slug)
        return await services.run_batch(program["id"])

    figures = run(batch())
    if figures is None:
        click.echo("Another batch run is under way for this program; nothing was done.")
        return
    click.echo(
        f"Waiting {figures.waiting}, proposed {figures.proposed}, unmatched "
        f"{figures.unmatched or 'none'}, in {figures.seconds:.2f} s {figures.timings}."
    )


@group.command(
    name="run", help="One round of the periodic steps (lapses, batches, retention, retries)."
)
def matchesrun() -> None:
    from tandem.matches.jobs import periodic_steps, retry_marked

    async def both() -> tuple[dict[str, int], int]:
        return await periodic_steps(), await retry_marked()

    result, retried = run(both())
    click.echo(
        f"Offers lapsed: {result['lapsed']}; proposals made: {result['proposed']}; "
        f"after mentor changes: {retried}; "
        f"ended matches past retention unlinked: {result['purged']}."
    )
