"""The composition root: the one place that wires every slice into a Litestar app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from tandem.accounts import controllers as accounts_api
from tandem.accounts import pages as accounts_pages
from tandem.accounts.services import caller_for_membership
from tandem.accounts.store import TandemSessionBackend, TandemSessionConfig
from tandem.cli import TandemCLIPlugin
from tandem.core.auth import PUBLIC_OPT_KEY, Caller
from tandem.core.errors import exception_handlers
from tandem.core.health import healthz, readyz
from tandem.core.hosts import AllowedHostsMiddleware
from tandem.core.pages import template_globals
from tandem.core.security_headers import SecurityHeadersMiddleware
from tandem.home import pages as home_pages
from tandem.matches import controllers as matches_api
from tandem.matches import pages as matches_pages
from tandem.matches.jobs import running_loop
from tandem.notifications import controllers as notifications_api
from tandem.notifications import pages as notifications_pages
from tandem.notifications.worker import running_worker
from tandem.privacy import controllers as privacy
from tandem.profiles import controllers as profiles_api
from tandem.profiles import pages as profiles_pages
from tandem.settings import Settings
from tandem.training import controllers as training_api
from tandem.training import pages as training_pages
from tandem.training import services as training

WEB = Path(__file__).parent / "web"


async def _retrieve_caller(
    session: dict[str, Any], _: ASGIConnection[Any, Any, Any, Any]
) -> Caller | None:
    membership_id = session.get("membership_id")
    return await caller_for_membership(membership_id) if isinstance(membership_id, int) else None


def _lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from tandem.piccolo_conf import DB

        # The engine is process-wide: a second app in the same process (tests, a restart
        # check) shares the pool that the first one opened, and only its opener closes it.
        opened_pool = isinstance(DB, PostgresEngine) and DB.pool is None
        if opened_pool:
            await DB.start_connection_pool()
        try:
            # The in-process webhook delivery worker (off in tests; see `notifications worker`).
            async with (
                running_worker(settings) if settings.run_outbox_worker else nullcontext(),
                running_loop(settings.match_loop_seconds)
                if settings.match_loop_seconds > 0
                else nullcontext(),
            ):
                yield
        finally:
            if opened_pool:
                await DB.close_connection_pool()

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Tandem service. The CLI calls this with no arguments (settings from the env)."""
    settings = settings or Settings.from_env()
    session_config = TandemSessionConfig(
        max_age=settings.session_max_age_seconds,
        refresh_seconds=settings.session_refresh_seconds,
        secure=settings.secure_cookies,
        samesite="lax",
        httponly=True,
        # Static files and health checks never need to know who is asking: no session read.
        exclude=["^/static/", "^/healthz$", "^/readyz$"],
    )
    session_auth = SessionAuth[Caller, TandemSessionBackend](
        retrieve_user_handler=_retrieve_caller,
        session_backend_config=session_config,
        exclude=["^/schema", "^/static"],
        exclude_opt_key=PUBLIC_OPT_KEY,
    )
    return Litestar(
        plugins=[TandemCLIPlugin()],
        route_handlers=[
            healthz,
            readyz,
            accounts_api.AuthController,
            accounts_api.MeController,
            accounts_api.MemberController,
            *accounts_pages.routes,
            profiles_api.ProfileController,
            *profiles_pages.routes,
            *home_pages.routes,
            *privacy.routes,
            training_api.TrainingController,
            training_api.TrainingComplianceController,
            *training_pages.routes,
            *notifications_api.controllers,
            *notifications_pages.routes,
            *matches_api.controllers,
            *matches_pages.routes,
            create_static_files_router(
                path="/static", directories=[WEB / "static"], opt={PUBLIC_OPT_KEY: True}
            ),
        ],
        on_app_init=[session_auth.on_app_init],
        before_request=notifications_pages.put_unread_count,
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            exclude=["/healthz", "/readyz"],
        ),
        middleware=[
            SecurityHeadersMiddleware(secure_cookies=settings.secure_cookies),
            AllowedHostsMiddleware(settings.allowed_hosts),
        ],
        template_config=TemplateConfig(
            directory=WEB / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=template_globals(settings),
        ),
        openapi_config=OpenAPIConfig(
            title="Tandem API",
            version="1.0.0",
            description="Peer mentor matching and training for recovery programs.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        exception_handlers=exception_handlers(),
        lifespan=[_lifespan(settings)],
        # After the lifespan has opened the database: the served content versions, once.
        on_startup=[training.register_content_versions],
        logging_config=LoggingConfig(
            log_exceptions="debug",
            loggers={
                "tandem": {"level": "INFO", "handlers": ["queue_listener"]},
                # httpx logs every URL at INFO; webhook URLs may carry a receiver's token.
                "httpx": {"level": "WARNING", "handlers": ["queue_listener"]},
            },
        ),
        state=State({"settings": settings}),
        debug=False,
    )
