"""`litestar training ...`: checking the training content."""

from __future__ import annotations

import click


@click.group(name="training", help="The mentor training track.")
def group() -> None:
    pass


@group.command(
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
