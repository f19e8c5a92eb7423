"""`litestar run` asks for the app twice in one process (to read its commands, then uvicorn):
the factory without settings must hand back the one app instead of building a second."""

from __future__ import annotations

from tandem.app import create_app


def test_the_factory_from_the_environment_builds_one_app_per_process(settings) -> None:
    assert create_app() is create_app()
    assert create_app(settings) is not create_app(settings)  # tests build their own
