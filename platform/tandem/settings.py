"""All of Tandem's configuration, read once from environment variables into one typed object.

Every knob lives here so that nothing else reads `os.environ`: tests build a `Settings` directly,
and the app refuses to start in production with a secret anyone could read in this repository.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from msgspec import Struct, ValidationError, convert

DEVELOPMENT_SECRET = "tandem-development-secret-not-for-production"  # noqa: S105 - guarded below
ENVIRONMENTS = ("development", "test", "production")
# The demo program's code; the sign-up form suggests it only in development.
DEMO_PROGRAM = "riverside"


class CrisisResource(Struct, frozen=True):
    """One way to get help right now, shown on every page (for example a crisis line)."""

    name: str
    contact: str
    detail: str = ""


DEFAULT_CRISIS_RESOURCES: tuple[CrisisResource, ...] = (
    CrisisResource("Emergency services", "911", "If you or someone else is in danger right now."),
    CrisisResource(
        "988 Suicide & Crisis Lifeline", "988", "Call or text 988, any time, free and private."
    ),
)


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(values: Iterable[str]) -> tuple[ProxyNetwork, ...]:
    """`10.0.0.5`, `10.0.0.0/8`, `::1` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{value.strip()!r} is not an IP address or network") from error
    return tuple(networks)


class SettingsError(ValueError):
    """Configuration that would make the service unsafe or unable to start."""


@dataclass(frozen=True)
class Settings:
    """The service's configuration. Build with `Settings.from_env()` or directly in tests."""

    database_url: str = "sqlite:///var/tandem.sqlite"
    secret_key: str = DEVELOPMENT_SECRET
    # PostgreSQL's pool size per app process (SQLite keeps one reader and one writer).
    database_pool_size: int = 10
    sqlite_busy_timeout_seconds: float = 10.0
    environment: str = "development"
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "testserver")
    crisis_resources: tuple[CrisisResource, ...] = DEFAULT_CRISIS_RESOURCES
    # Failed sign-ins per account a minute, and sign-in or sign-up attempts per address a minute
    # (higher: people share a shelter's or a clinic's Wi-Fi).
    login_rate_limit_per_minute: int = 10
    address_rate_limit_per_minute: int = 50
    # Proxies or load balancers whose X-Forwarded-For is believed (addresses or CIDR networks).
    # Empty: the address of the connection is the client's, whatever a header says.
    trusted_proxies: tuple[str, ...] = ()
    session_max_age_seconds: int = 60 * 60 * 8
    # An unchanged session's expiry is extended at most this often (one write per session).
    session_refresh_seconds: int = 300
    # Cookies only over HTTPS, and HSTS; on by default when TANDEM_ENV=production.
    secure_cookies: bool = False
    run_outbox_worker: bool = True
    # Webhooks (notifications slice). Loopback and private addresses are refused as webhook
    # targets unless this is on: a receiver on the same host or network must be chosen on purpose.
    allow_private_webhooks: bool = False
    public_url: str = "http://127.0.0.1:8000"
    webhook_timeout_seconds: float = 10.0
    outbox_max_attempts: int = 8
    outbox_backoff_seconds: float = 5.0
    outbox_backoff_max_seconds: float = 3600.0
    # A claimed delivery whose worker died is picked up again after this long; it must exceed
    # the webhook timeout so that a slow but live delivery is never handed to a second worker.
    outbox_lease_seconds: float = 60.0
    outbox_batch_size: int = 50
    outbox_poll_seconds: float = 1.0
    # Batch matching and offer lapses run every this many seconds in each app process (0 = off,
    # as in tests; `litestar matches run` does one round by hand).
    match_loop_seconds: float = 0.0
    # Overdue-concern escalation and the closed-concern retention purge run every this many
    # seconds in each app process (0 = off, as in tests; `litestar safety run` does one round).
    safety_loop_seconds: float = 0.0
    # How often each app process looks for programs whose mentors changed and retries their
    # waiting requests (0 = off, as in tests; `litestar matches run` does it too).
    match_retry_seconds: float = 0.0
    # Expired sessions and rate-limit counters are deleted every this many seconds in each app
    # process (0 = off, as in tests; `litestar db prune-sessions` does one round by hand).
    housekeeping_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise SettingsError(f"TANDEM_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.environment == "production" and (
            not self.secret_key or self.secret_key == DEVELOPMENT_SECRET
        ):
            raise SettingsError(
                "SECRET_KEY must be set to a long random value outside development "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if len(self.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters long")
        if self.outbox_lease_seconds <= self.webhook_timeout_seconds:
            raise SettingsError(
                "TANDEM_OUTBOX_LEASE_SECONDS must be longer than TANDEM_WEBHOOK_TIMEOUT_SECONDS"
            )
        if self.database_pool_size < 1:
            raise SettingsError("TANDEM_DATABASE_POOL_SIZE must be at least 1")
        try:
            parse_proxies(self.trusted_proxies)
        except ValueError as error:
            raise SettingsError(f"TANDEM_TRUSTED_PROXIES: {error}") from error
        if self.outbox_max_attempts < 1:
            raise SettingsError("TANDEM_OUTBOX_MAX_ATTEMPTS must be at least 1")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file named by `sqlite:///relative/path` or `sqlite:////absolute/path`."""
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def trusted_proxy_networks(self) -> tuple[ProxyNetwork, ...]:
        return parse_proxies(self.trusted_proxies)

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the configuration table documented in the README."""
        env = dict(os.environ if environ is None else environ)
        defaults = cls.__dataclass_fields__
        crisis = DEFAULT_CRISIS_RESOURCES
        if raw := env.get("TANDEM_CRISIS_RESOURCES"):
            try:
                crisis = tuple(convert(json.loads(raw), list[CrisisResource]))
            except (json.JSONDecodeError, ValidationError) as error:
                raise SettingsError(
                    "TANDEM_CRISIS_RESOURCES must be a JSON list of "
                    '{"name": ..., "contact": ..., "detail": ...}: ' + str(error)
                ) from error
        hosts = env.get("TANDEM_ALLOWED_HOSTS")
        environment = env.get("TANDEM_ENV", "development")
        secure = env.get("TANDEM_SECURE_COOKIES", "1" if environment == "production" else "0")
        return cls(
            database_url=env.get("DATABASE_URL", defaults["database_url"].default),
            secret_key=env.get("SECRET_KEY", DEVELOPMENT_SECRET),
            database_pool_size=int(
                env.get("TANDEM_DATABASE_POOL_SIZE", defaults["database_pool_size"].default)
            ),
            sqlite_busy_timeout_seconds=float(
                env.get(
                    "TANDEM_SQLITE_BUSY_TIMEOUT_SECONDS",
                    defaults["sqlite_busy_timeout_seconds"].default,
                )
            ),
            environment=environment,
            allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip())
            if hosts
            else defaults["allowed_hosts"].default,
            crisis_resources=crisis,
            login_rate_limit_per_minute=int(env.get("TANDEM_LOGIN_RATE_LIMIT", "10")),
            address_rate_limit_per_minute=int(env.get("TANDEM_ADDRESS_RATE_LIMIT", "50")),
            trusted_proxies=tuple(
                p.strip() for p in env.get("TANDEM_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            session_refresh_seconds=int(env.get("TANDEM_SESSION_REFRESH_SECONDS", "300")),
            secure_cookies=secure.lower() in {"1", "true", "yes"},
            run_outbox_worker=env.get("TANDEM_OUTBOX_WORKER", "1").lower()
            not in {"0", "false", "no"},
            allow_private_webhooks=env.get("TANDEM_ALLOW_PRIVATE_WEBHOOKS", "").lower()
            in {"1", "true", "yes"},
            public_url=env.get("TANDEM_PUBLIC_URL", defaults["public_url"].default).rstrip("/"),
            webhook_timeout_seconds=float(env.get("TANDEM_WEBHOOK_TIMEOUT_SECONDS", "10")),
            outbox_max_attempts=int(env.get("TANDEM_OUTBOX_MAX_ATTEMPTS", "8")),
            outbox_backoff_seconds=float(env.get("TANDEM_OUTBOX_BACKOFF_SECONDS", "5")),
            outbox_backoff_max_seconds=float(env.get("TANDEM_OUTBOX_BACKOFF_MAX_SECONDS", "3600")),
            outbox_lease_seconds=float(env.get("TANDEM_OUTBOX_LEASE_SECONDS", "60")),
            outbox_batch_size=int(env.get("TANDEM_OUTBOX_BATCH_SIZE", "50")),
            outbox_poll_seconds=float(env.get("TANDEM_OUTBOX_POLL_SECONDS", "1")),
            match_loop_seconds=float(env.get("TANDEM_MATCH_LOOP_SECONDS", "60")),
            match_retry_seconds=float(env.get("TANDEM_MATCH_RETRY_SECONDS", "5")),
            safety_loop_seconds=float(env.get("TANDEM_SAFETY_LOOP_SECONDS", "60")),
            housekeeping_seconds=float(env.get("TANDEM_HOUSEKEEPING_SECONDS", "3600")),
        )
