"""The composition root: the one place that wires every slice into a Litestar app."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Litestar, Request
from litestar.config.app import AppConfig
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
from litestar.types import BeforeRequestHookHandler
from piccolo.engine.postgres import PostgresEngine

from tandem.accounts import controllers as accounts_api
from tandem.accounts import events as accounts_events
from tandem.accounts import pages as accounts_pages
from tandem.accounts.services import caller_for_request, prune_expired
from tandem.accounts.store import TandemSessionBackend, TandemSessionConfig
from tandem.cli import TandemCLIPlugin
from tandem.core import changes
from tandem.core.auth import PUBLIC_OPT_KEY, Caller
from tandem.core.database import connection_per_request, start_pool
from tandem.core.errors import document_errors, exception_handlers
from tandem.core.health import healthz, readyz
from tandem.core.hosts import AllowedHostsMiddleware
from tandem.core.pages import template_globals
from tandem.core.periodic import HOUSEKEEPING_LOOP, running_every
from tandem.core.security_headers import SecurityHeadersMiddleware
from tandem.home import pages as home_pages
from tandem.matches import controllers as matches_api
from tandem.matches import events as matches_events
from tandem.matches import pages as matches_pages
from tandem.matches import services as matches
from tandem.matches.jobs import running_loop
from tandem.notifications import controllers as notifications_api
from tandem.notifications import pages as notifications_pages
from tandem.notifications.services import register_notice_texts
from tandem.notifications.worker import running_worker
from tandem.oversight import controllers as oversight_api
from tandem.oversight import pages as oversight_pages
from tandem.privacy import controllers as privacy_api
from tandem.privacy import pages as privacy_pages
from tandem.profiles import controllers as profiles_api
from tandem.profiles import events as profiles_events
from tandem.profiles import pages as profiles_pages
from tandem.safety import controllers as safety_api
from tandem.safety import events as safety_events
from tandem.safety import pages as safety_pages
from tandem.safety import services as safety
from tandem.safety.jobs import running_loop as running_safety_loop
from tandem.settings import Settings
from tandem.training import controllers as training_api
from tandem.training import events as training_events
from tandem.training import pages as training_pages
from tandem.training import services as training

WEB = Path(__file__).parent / "web"

# Every slice's JSON API (`controllers.controllers`) and HTML pages (`pages.routes`).
API = (
    accounts_api,
    profiles_api,
    training_api,
    notifications_api,
    privacy_api,
    matches_api,
    safety_api,
    oversight_api,
)
PAGES = (
    accounts_pages,
    home_pages,
    profiles_pages,
    training_pages,
    notifications_pages,
    privacy_pages,
    matches_pages,
    safety_pages,
    oversight_pages,
)
# Every slice's event types with the sentence a person reads for each.
NOTICE_TEXTS = (
    accounts_events.NOTICE_TEXTS,
    profiles_events.NOTICE_TEXTS,
    training_events.NOTICE_TEXTS,
    matches_events.NOTICE_TEXTS,
    safety_events.NOTICE_TEXTS,
)


async def _retrieve_caller(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> Caller | None:
    membership_id = session.get("membership_id")
    if not isinstance(membership_id, int):
        return None
    return await caller_for_request(connection, membership_id)


def _database_pool(settings: Settings) -> Any:
    """Lifespan: the database connections of this process (PostgreSQL's pool, SQLite's kept
    connections). The engine is process-wide: a second app in the same process (tests, a
    restart check) shares the pool the first one opened, and only its opener closes it."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        from tandem.piccolo_conf import DB

        opened = not (isinstance(DB, PostgresEngine) and DB.pool is not None)
        if opened:
            await start_pool(DB, settings.database_pool_size)
        try:
            yield
        finally:
            if opened:
                await DB.close_connection_pool()

    return lifespan


def _outbox_worker(settings: Settings) -> Any:
    """Lifespan: the in-process webhook delivery worker (off in tests; see `notifications
    worker` for running it as its own process)."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running_worker(settings) if settings.run_outbox_worker else nullcontext():
            yield

    return lifespan


def _match_loop(settings: Settings) -> Any:
    """Lifespan: the periodic steps of the match journey (offer lapses, batch matching), every
    `TANDEM_MATCH_LOOP_SECONDS`, and retries for programs whose mentors changed, every
    `TANDEM_MATCH_RETRY_SECONDS` (0 turns each off, as in tests)."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with running_loop(settings.match_loop_seconds, settings.match_retry_seconds):
            yield

    return lifespan


def _safety_loop(settings: Settings) -> Any:
    """Lifespan: overdue-concern escalation and the closed-concern purge, every
    `TANDEM_SAFETY_LOOP_SECONDS` (0 turns it off, as in tests)."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        seconds = settings.safety_loop_seconds
        async with running_safety_loop(seconds) if seconds > 0 else nullcontext():
            yield

    return lifespan


_log = logging.getLogger("tandem.housekeeping")


def _housekeeping_loop(settings: Settings) -> Any:
    """Lifespan: expired sessions and rate-limit counters deleted every
    `TANDEM_HOUSEKEEPING_SECONDS` (0 turns it off, as in tests). Safe in several processes at
    once: each round is two deletes of rows past their time."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        seconds = settings.housekeeping_seconds
        loop = running_every(seconds, prune_expired, _log, name=HOUSEKEEPING_LOOP)
        async with loop if seconds > 0 else nullcontext():
            yield

    return lifespan


def _per_request_state(config: AppConfig) -> AppConfig:
    """App init hook, after the session's: the request's database connection is taken, and
    its memo of the change markers opened, around everything else, the session's own load and
    save included (`core.database`; the session's query reads the markers, `core.changes`)."""
    config.middleware[0:0] = [connection_per_request, changes.markers_per_request]
    return config


def _freeze_start_up_objects() -> None:
    """Startup hook: leave everything loaded so far (Litestar, the matching engine's NumPy,
    SciPy and OR-Tools, the templates) out of the garbage collector's full passes. Each full
    pass otherwise walks every one of those objects again, a pause of the whole process (over
    100 ms on a busy machine). Once per process: a later app in the same process (the tests
    build one per test) would otherwise keep every earlier test's garbage forever."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def _before_request(*hooks: BeforeRequestHookHandler) -> BeforeRequestHookHandler:
    """Litestar takes one `before_request` per layer: run each slice's hook in order. A hook
    that returns a response (a redirect, a refusal) ends the request there."""

    async def before_request(request: Request[Any, Any, Any]) -> Any:
        for hook in hooks:
            response = await hook(request)
            if response is not None:
                return response
        return None

    return before_request


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Tandem service. The CLI calls this with no arguments (settings from the env).

    `litestar run` builds the app to read its commands, then has uvicorn call this factory again
    in the same process: without settings, both calls get the one app, built once per process.
    """
    return _build(settings) if settings is not None else _app_from_env()


@cache
def _app_from_env() -> Litestar:
    return _build(Settings.from_env())


def _build(settings: Settings) -> Litestar:
    register_notice_texts(*NOTICE_TEXTS)
    # Safety holds mentors back from new matches through the match slice's hook (matches
    # never imports safety): an open S1/S2 concern, a supervisor's pause, a required retake.
    matches.add_match_gate(safety.mentors_held_back)
    # A mentor's confidential report of a return to use holds new matches until they are ready.
    matches.add_match_gate(safety.held_mentors)
    # Mentors changing below the match journey (profiles, training) mark their program for a
    # retry of its waiting requests.
    changes.on_mentors_changed(matches.mark_retry)
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
    app = Litestar(
        plugins=[TandemCLIPlugin()],
        route_handlers=[
            healthz,
            readyz,
            *(controller for api in API for controller in api.controllers),
            *(route for pages in PAGES for route in pages.routes),
            create_static_files_router(
                path="/static", directories=[WEB / "static"], opt={PUBLIC_OPT_KEY: True}
            ),
        ],
        on_app_init=[session_auth.on_app_init, _per_request_state],
        before_request=_before_request(notifications_pages.put_unread_count),
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
        # One lifespan per concern, started in this order and stopped in reverse.
        lifespan=[
            _database_pool(settings),
            _outbox_worker(settings),
            _match_loop(settings),
            _safety_loop(settings),
            _housekeeping_loop(settings),
        ],
        # After the lifespans have opened the database: the served content versions, once; then
        # the start-up heap is frozen.
        on_startup=[training.register_content_versions, _freeze_start_up_objects],
        logging_config=LoggingConfig(
            log_exceptions="debug",
            # No handlers of their own: their records reach the root's handler once (with a
            # handler here as well, every line, each 500 included, was written twice).
            loggers={
                "tandem": {"level": "INFO"},
                # httpx logs every URL at INFO; webhook URLs may carry a receiver's token.
                "httpx": {"level": "WARNING"},
            },
        ),
        state=State({"settings": settings}),
        debug=False,
    )
    document_errors(app)
    return app
