"""A Litestar `Store` kept in the database, so sessions and rate limits survive restarts and are
shared by every app process (the in-memory and file stores are per process or per host)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store

from tandem.accounts.tables import SessionRecord


def _now() -> datetime:
    """Wall-clock time, not `core.clock`: cookie lifetimes are set by Litestar on the real clock,
    so a test that moves the service's clock a day ahead must not sign everyone out."""
    return datetime.now(UTC)


class DatabaseStore(Store):
    """Key/value rows in `session_record`, namespaced so sessions and rate limits never clash."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        if isinstance(expires_in, int):
            expires_in = timedelta(seconds=expires_in)
        expires_at = _now() + expires_in if expires_in else None
        full_key = self._key(key)
        # Upsert in one statement so two processes writing the same key cannot collide.
        await SessionRecord.insert(
            SessionRecord(key=full_key, value=data, expires_at=expires_at)
        ).on_conflict(
            target=SessionRecord.key,
            action="DO UPDATE",
            values=[SessionRecord.value, SessionRecord.expires_at],
        )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = (
            await SessionRecord.select(SessionRecord.value, SessionRecord.expires_at)
            .where(SessionRecord.key == self._key(key))
            .first()
        )
        if row is None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= _now():
            await self.delete(key)
            return None
        if renew_for and row["expires_at"] is not None:
            if isinstance(renew_for, int):
                renew_for = timedelta(seconds=renew_for)
            await SessionRecord.update({SessionRecord.expires_at: _now() + renew_for}).where(
                SessionRecord.key == self._key(key)
            )
        return bytes(row["value"])

    async def delete(self, key: str) -> None:
        await SessionRecord.delete().where(SessionRecord.key == self._key(key))

    async def delete_all(self) -> None:
        await SessionRecord.delete().where(SessionRecord.key.like(f"{self.namespace}:%"))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = (
            await SessionRecord.select(SessionRecord.expires_at)
            .where(SessionRecord.key == self._key(key))
            .first()
        )
        if row is None or row["expires_at"] is None:
            return None
        return max(int((row["expires_at"] - _now()).total_seconds()), 0)

    async def delete_expired(self) -> int:
        """Housekeeping for the CLI: drop every expired row of this namespace."""
        deleted = (
            await SessionRecord.delete()
            .where(
                SessionRecord.key.like(f"{self.namespace}:%") & (SessionRecord.expires_at < _now())
            )
            .returning(SessionRecord.id)
        )
        return len(deleted)
