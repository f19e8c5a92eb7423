"""The webhook contract without a network: signatures, backoff, and which URLs are refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tandem.notifications import webhooks
from tandem.notifications.webhooks import UnsafeURL, check_url

SECRET = "whsec_test-secret"
BODY = b'{"id":"e1","type":"mentor.approved"}'


def test_a_receiver_can_verify_what_the_worker_signs() -> None:
    headers = webhooks.signed_headers(
        SECRET, event_key="e1", event_type="mentor.approved", body=BODY, now=1_700_000_000
    )
    assert headers["tandem-event-id"] == headers["idempotency-key"] == "e1"
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers["tandem-signature"] == f"v1={expected}"
    assert webhooks.verify(SECRET, headers, BODY, now=1_700_000_010)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", BODY, 1_700_000_000),  # wrong secret
        (SECRET, BODY + b" ", 1_700_000_000),  # body changed
        (SECRET, BODY, 1_700_000_000 + 301),  # replayed later
    ],
)
def test_tampered_or_stale_deliveries_fail_verification(secret: str, body: bytes, now: int) -> None:
    headers = webhooks.signed_headers(
        SECRET, event_key="e1", event_type="t.x", body=BODY, now=1_700_000_000
    )
    assert not webhooks.verify(secret, headers, body, now=now)
    assert not webhooks.verify(SECRET, {**headers, "tandem-timestamp": "soon"}, BODY)


def test_secrets_are_fresh_and_long() -> None:
    secrets = {webhooks.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(s) >= 40 for s in secrets)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    low = [webhooks.backoff_seconds(n, base=2, cap=60, rng=lambda: 0.0) for n in range(1, 8)]
    high = [webhooks.backoff_seconds(n, base=2, cap=60, rng=lambda: 1.0) for n in range(1, 8)]
    assert high == [2, 4, 8, 16, 32, 60, 60]
    assert low == [h / 2 for h in high]
    spread = {round(webhooks.backoff_seconds(3, base=2, cap=60), 6) for _ in range(20)}
    assert len(spread) > 1
    assert all(4 <= s <= 8 for s in spread)


def resolver_for(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
     "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "100.64.0.1", "224.0.0.1"],
)  # fmt: skip
def test_loopback_private_and_link_local_targets_are_refused(address: str) -> None:
    with pytest.raises(UnsafeURL, match="private network"):
        check_url("https://hooks.example.org/x", require_https=True, allow_private=False,
                  resolver=resolver_for(address))  # fmt: skip
    assert check_url("https://hooks.example.org/x", require_https=True, allow_private=True,
                     resolver=resolver_for(address))  # fmt: skip


def test_every_resolved_address_must_be_public() -> None:
    with pytest.raises(UnsafeURL):
        check_url("https://hooks.example.org/x", require_https=True, allow_private=False,
                  resolver=resolver_for("93.184.215.14", "10.0.0.1"))  # fmt: skip
    accepted = check_url(" https://hooks.example.org/x ", require_https=True, allow_private=False,
                         resolver=resolver_for("93.184.215.14"))  # fmt: skip
    assert accepted == "https://hooks.example.org/x"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.org/x", "https"),
        ("hooks.example.org/x", "full web address"),
        ("javascript:alert(1)", "full web address"),
        ("https://me:pw@hooks.example.org/x", "passwords"),
        ("https://hooks.example.org:99999/x", "port"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnsafeURL, match=message):
        check_url(url, require_https=True, allow_private=False,
                  resolver=resolver_for("93.184.215.14"))  # fmt: skip


def test_a_host_that_does_not_resolve_is_refused() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(UnsafeURL, match="could not be found"):
        check_url("https://nowhere.invalid/x", require_https=True, allow_private=False,
                  resolver=failing)  # fmt: skip
