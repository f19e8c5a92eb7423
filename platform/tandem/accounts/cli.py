"""`litestar staff ...`: programs and staff accounts from the command line."""

from __future__ import annotations

import click

from tandem.core.cli import run


@click.group(name="staff", help="Programs and staff accounts.")
def group() -> None:
    pass


@group.command(name="create", help="Create a supervisor or admin (and the program if new).")
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
        membership_id = run(create())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Created {role} {username!r} (membership {membership_id}) in {program_slug!r}.")
