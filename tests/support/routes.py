"""The routes the app serves, read from the app itself, for the role and tenancy matrices."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from tandem.core.auth import Role

SKIPPED_PATHS = re.compile(r"^/(schema|static)")


def served_routes(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    """(method, path template) -> handler, for every route but the docs and static files."""
    routes = {}
    for route in app.routes:
        if SKIPPED_PATHS.match(route.path):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods:
                if method in {"HEAD", "OPTIONS"}:
                    continue
                routes[(method, route.path)] = handler
    return routes


def declared_roles(handler: HTTPRouteHandler) -> set[Role]:
    """The roles the handler's `allow(...)` guards admit, on every layer."""
    return {
        role
        for layer in handler.ownership_layers
        for guard in layer.guards or ()
        for role in getattr(guard, "allowed_roles", ())
    }
