import pytest

from tandem.settings import DEVELOPMENT_SECRET, Settings, SettingsError


def test_production_refuses_default_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env({"TANDEM_ENV": "production"})


def test_production_refuses_short_secret() -> None:
    with pytest.raises(SettingsError, match="32 characters"):
        Settings.from_env({"TANDEM_ENV": "production", "SECRET_KEY": "short"})


def test_production_accepts_a_real_secret() -> None:
    settings = Settings.from_env({"TANDEM_ENV": "production", "SECRET_KEY": "x" * 48})
    assert settings.secret_key != DEVELOPMENT_SECRET


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(SettingsError, match="TANDEM_ENV"):
        Settings.from_env({"TANDEM_ENV": "staging"})


def test_defaults_are_sqlite_and_us_crisis_lines() -> None:
    settings = Settings.from_env({})
    assert settings.is_sqlite
    assert str(settings.sqlite_path) == "var/tandem.sqlite"
    assert [r.contact for r in settings.crisis_resources] == ["911", "988"]


def test_crisis_resources_from_json() -> None:
    settings = Settings.from_env(
        {"TANDEM_CRISIS_RESOURCES": '[{"name": "Samaritans", "contact": "116 123"}]'}
    )
    assert settings.crisis_resources[0].contact == "116 123"


def test_bad_crisis_resources_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="TANDEM_CRISIS_RESOURCES"):
        Settings.from_env({"TANDEM_CRISIS_RESOURCES": '[{"name": 1}]'})


def test_allowed_hosts_from_comma_list() -> None:
    settings = Settings.from_env({"TANDEM_ALLOWED_HOSTS": "tandem.example.org, *.example.net"})
    assert settings.allowed_hosts == ("tandem.example.org", "*.example.net")


def test_production_has_secure_cookies_unless_told_otherwise() -> None:
    """Before: cookies were sent over plain HTTP in production unless someone remembered."""
    production = {"TANDEM_ENV": "production", "SECRET_KEY": "x" * 48}
    assert Settings.from_env(production).secure_cookies
    assert not Settings.from_env({**production, "TANDEM_SECURE_COOKIES": "0"}).secure_cookies
    assert not Settings.from_env({}).secure_cookies
    assert Settings.from_env({"TANDEM_SECURE_COOKIES": "1"}).secure_cookies


def test_trusted_proxies_are_addresses_or_networks() -> None:
    settings = Settings.from_env({"TANDEM_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,::1"})
    assert [str(n) for n in settings.trusted_proxy_networks] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "::1/128",
    ]
    with pytest.raises(SettingsError, match=r"TANDEM_TRUSTED_PROXIES: 'lb\.internal'"):
        Settings.from_env({"TANDEM_TRUSTED_PROXIES": "lb.internal"})
