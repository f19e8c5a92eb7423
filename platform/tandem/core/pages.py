"""What every page shares: the template globals (crisis help, the signed-in person)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from tandem.core.auth import Caller
from tandem.settings import CrisisResource, Settings


def caller_of(request: Any) -> Caller | None:
    """The signed-in person on any page, including public ones (where auth did not run)."""
    user = request.scope.get("user")
    return user if isinstance(user, Caller) else None


def template_globals(settings: Settings) -> Callable[[JinjaTemplateEngine], None]:
    """Give every template the crisis resources and the caller, so no page can forget them."""

    def crisis_resources(request: Any) -> tuple[CrisisResource, ...]:
        caller = caller_of(request)
        return (caller and caller.crisis_resources) or settings.crisis_resources

    def configure(engine: JinjaTemplateEngine) -> None:
        # Outside development the templates are the installed ones and never change under a
        # running process: skip Jinja's check of each file's modification time on every render.
        engine.engine.auto_reload = settings.is_development
        engine.engine.globals.update(
            crisis_resources=crisis_resources,
            caller_of=caller_of,
            environment=settings.environment,
        )

    return configure
