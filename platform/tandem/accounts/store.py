"""Browser sessions kept in the database: they survive restarts and every app process shares them.

What this layer promises (issue 10 items 1, 2 and 6):
- **Only ids the server issued.** A cookie names a session only if its row exists and is live;
  anything else (made up, expired, signed out) is ignored, and a new random id is issued when
  there is something to keep. So nobody can fix a session id in someone else's browser.
- **A new id at every sign-in and sign-up** (`sign_in`), and whenever who is signed in changes;
  signing out deletes the row. The old id stops working.
- **No row until there is something to keep**: a cookie-less request that leaves the session
  empty (health checks, the sign-in page, static files, the OpenAPI document) writes nothing.
- **One write per change**: an unchanged session is not written back; its expiry is extended at
  most every `refresh_seconds`, by an UPDATE that cannot bring back a row deleted meanwhile.
- **Sessions end with their person**: a row belongs to a membership, so deleting the person
  deletes it (ON DELETE CASCADE) and deactivation deletes it explicitly (`end_sessions`).

The cookie holds a random token; the row is keyed by its SHA-256, so the table alone does not let
anyone sign in.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty
from litestar.utils.dataclass import extract_dataclass_items

from tandem.accounts.tables import WebSession
from tandem.core import changes
from tandem.core.database import Prepared
from tandem.notifications import services as notifications

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.types import Message, ScopeSession

# Where the loaded session waits in the request scope for the response to decide what to write.
_LOADED = "tandem.session"
# The session key that says who is signed in; a change of its value is a change of identity.
IDENTITY_KEY = "membership_id"
_CLEARED = "null"
# Set by `sign_in`: the response stores the session under a new id even for the same person.
_ROTATE = "tandem.session.rotate"


def sign_in(connection: ASGIConnection[Any, Any, Any, Any], membership_id: int) -> None:
    """Sign this membership in on this browser, always under a new session id (the old one, if
    any, stops working), so an id known to anyone before the sign-in is worth nothing after."""
    connection.set_session({IDENTITY_KEY: membership_id})
    connection.scope[_ROTATE] = True  # type: ignore[literal-required]


def _now() -> datetime:
    """Wall-clock time, not `core.clock`: cookie lifetimes are set by the browser on the real
    clock, so a test that moves the service's clock a day ahead must not sign everyone out."""
    return datetime.now(UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoadedSession:
    token: str
    data: dict[str, Any]
    expires_at: datetime
    caller_row: dict[str, Any] = field(default_factory=dict)  # see `caller_columns`


def caller_columns(membership: Any) -> list[Any]:
    """What a caller is built from (`services.caller_for_membership`): the membership, its
    person and program and the unread-notice count, given `Membership` or a foreign key to it.
    The session's query selects them too, so a signed-in request loads both in one query."""
    return [
        membership.id.as_alias("id"),
        membership.role.as_alias("role"),
        membership.status.as_alias("status"),
        membership.program.as_alias("program"),
        membership.person.as_alias("person"),
        membership.person.display_name.as_alias("display_name"),
        membership.person.active.as_alias("active"),
        membership.program.name.as_alias("program_name"),
        membership.program.settings.as_alias("program_settings"),
        notifications.unread_count_column(membership.id, membership.program),
    ]


# Built and compiled once (`core.database.Prepared`): it runs on every request with a cookie,
# and reads the program's change markers too (`core.changes`), which most pages consult.
_LIVE_SESSION = Prepared(
    lambda token_hash, now: (
        WebSession.select(
            WebSession.data,
            WebSession.membership,
            WebSession.expires_at,
            *caller_columns(WebSession.membership),
            *changes.marker_columns(WebSession.membership.program),
        )
        .where((WebSession.token_hash == token_hash) & (WebSession.expires_at > now))
        .first()
    ),
    parameters=2,
)


async def load(token: str) -> LoadedSession | None:
    """The live session a cookie names, or None (unknown, expired, or not valid JSON)."""
    row = await _LIVE_SESSION.run(_hash(token), _now())
    if row is None:
        return None
    try:
        data = json.loads(bytes(row["data"]))
    except ValueError:
        return None
    # A row always belongs to the membership its data names; anything else is not a session.
    if not isinstance(data, dict) or data.get(IDENTITY_KEY) != row["membership"]:
        return None
    changes.remember_markers(row["program"], row)
    return LoadedSession(token, data, row["expires_at"], row)


def caller_row(connection: ASGIConnection[Any, Any, Any, Any], membership_id: int) -> Any:
    """The caller's row loaded with this request's session, if the session is this person's."""
    loaded: LoadedSession | None = connection.scope.get(_LOADED)  # type: ignore[assignment]
    if loaded is None or loaded.data.get(IDENTITY_KEY) != membership_id:
        return None
    return loaded.caller_row


async def create(data: dict[str, Any], max_age: int) -> str:
    """Store a new session under a fresh random token and return the token."""
    token = secrets.token_urlsafe(32)
    membership = data.get(IDENTITY_KEY)
    await WebSession.insert(
        WebSession(
            token_hash=_hash(token),
            data=_encode(data),
            membership=membership if isinstance(membership, int) else None,
            expires_at=_now() + timedelta(seconds=max_age),
        )
    )
    return token


async def update(token: str, data: dict[str, Any] | None, max_age: int) -> bool:
    """Rewrite a live session's data (or only its expiry); False if it ended meanwhile."""
    values: dict[Any, Any] = {WebSession.expires_at: _now() + timedelta(seconds=max_age)}
    if data is not None:
        values[WebSession.data] = _encode(data)
    changed = (
        await WebSession.update(values)
        .where((WebSession.token_hash == _hash(token)) & (WebSession.expires_at > _now()))
        .returning(WebSession.id)
    )
    return bool(changed)


async def delete(token: str) -> None:
    await WebSession.delete().where(WebSession.token_hash == _hash(token))


async def end_sessions(membership_ids: list[int]) -> None:
    """Sign these memberships out everywhere (call inside the transaction that deactivates)."""
    if membership_ids:
        await WebSession.delete().where(WebSession.membership.is_in(membership_ids))


async def prune_expired() -> int:
    """Delete expired sessions; for the periodic loop and `litestar db prune-sessions`."""
    deleted = (
        await WebSession.delete().where(WebSession.expires_at <= _now()).returning(WebSession.id)
    )
    return len(deleted)


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


class TandemSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side session backend with the promises of this module."""

    config: TandemSessionConfig

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Any:
        token = connection.cookies.get(self.config.key)
        # "null" is what a signed-out browser may still send (the cleared cookie's value).
        loaded = await load(token) if token and token != _CLEARED else None
        connection.scope[_LOADED] = loaded  # type: ignore[literal-required]
        # A copy: handlers may change the session in place, and the response compares the two.
        return json.loads(json.dumps(loaded.data)) if loaded else {}

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        """Only an id this server issued and still holds; never one taken from a cookie as is."""
        loaded: LoadedSession | None = connection.scope.get(_LOADED)  # type: ignore[assignment]
        return loaded.token if loaded else ""

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        loaded: LoadedSession | None = connection.scope.get(_LOADED)  # type: ignore[assignment]
        data = None if scope_session is Empty or not scope_session else dict(scope_session)  # type: ignore[call-overload]
        max_age = int(self.config.max_age)
        headers = MutableScopeHeaders.from_message(message)
        if data is None:
            # Signed out, or nothing to keep: no row, and tell the browser to forget its cookie.
            if loaded is not None:
                await delete(loaded.token)
            if self.config.key in connection.cookies:
                headers.add("Set-Cookie", self._cookie(_CLEARED, max_age=0, expires=0))
            return
        same_person = loaded is not None and loaded.data.get(IDENTITY_KEY) == data.get(IDENTITY_KEY)
        if loaded is not None and same_person and not connection.scope.get(_ROTATE):
            if data == loaded.data:
                if not self._due_for_refresh(loaded):
                    return
                changed = await update(loaded.token, None, max_age)
            else:
                changed = await update(loaded.token, data, max_age)
            if changed:
                headers.add("Set-Cookie", self._cookie(loaded.token))
            return
        # A sign-in, someone new, or a first session: a fresh id, and the old one is gone.
        if loaded is not None:
            await delete(loaded.token)
        token = await create(data, max_age)
        headers.add("Set-Cookie", self._cookie(token))

    def _due_for_refresh(self, loaded: LoadedSession) -> bool:
        refreshed_at = loaded.expires_at - timedelta(seconds=self.config.max_age)
        return _now() - refreshed_at >= timedelta(seconds=self.config.refresh_seconds)

    def _cookie(self, value: str, **overrides: Any) -> str:
        params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )
        params.update(overrides)
        return Cookie(value=value, key=self.config.key, **params).to_header(header="")


@dataclass
class TandemSessionConfig(ServerSideSessionConfig):
    """Session cookie settings; `refresh_seconds` is how often an unchanged session's expiry
    (and its cookie) is extended: at most one write per session in that time."""

    _backend_class = TandemSessionBackend  # type: ignore[assignment]
    refresh_seconds: int = field(default=300)
