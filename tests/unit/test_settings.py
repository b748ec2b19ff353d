from __future__ import annotations

from pathlib import Path

import pytest

from ums_find.settings import Settings, SettingsError


def test_defaults_match_the_local_stack() -> None:
    settings = Settings.from_env({})
    assert (settings.mysql_database, settings.topic, settings.dlq_topic) == (
        "glarimy",
        "user-added",
        "user-added.dlq",
    )
    assert (settings.kafka_bootstrap, settings.http_port) == ("127.0.0.1:9092", 8080)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("UMS_MYSQL_PORT", "nope"),
        ("UMS_HTTP_PORT", "70000"),
        ("UMS_MYSQL_DATABASE", "glarimy; DROP"),
        ("UMS_TOPIC", "bad topic"),
        ("UMS_MYSQL_HOST", " "),
    ],
)
def test_an_invalid_setting_is_named(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_password_file_wins_and_a_missing_one_is_named(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    env = {"UMS_MYSQL_PASSWORD": "other", "UMS_MYSQL_PASSWORD_FILE": str(secret)}
    assert Settings.from_env(env).mysql_password == "s3cret"
    with pytest.raises(SettingsError, match="UMS_MYSQL_PASSWORD_FILE"):
        Settings.from_env({"UMS_MYSQL_PASSWORD_FILE": str(tmp_path / "absent")})


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("UMS_AFTER_WAIT_S", "10.5"),
        ("UMS_AFTER_POLL_S", "0"),
        ("UMS_CACHE_MAX_AGE_S", "-1"),
        ("UMS_API_MYSQL_USER", "api'@'%"),
        ("UMS_WRITER_MYSQL_USER", "a" * 33),
        ("UMS_MYSQL_ACCOUNT_HOST", "x' OR '1"),
    ],
)
def test_api_settings_are_bounded_and_account_names_safe(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_accounts_are_off_by_default_and_their_passwords_may_come_from_files(tmp_path: Path) -> None:
    assert Settings.from_env({}).api_mysql_user == "" and Settings.from_env({}).after_wait_s == 2.0
    secret = tmp_path / "api-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    settings = Settings.from_env(
        {"UMS_API_MYSQL_USER": "ums_api", "UMS_API_MYSQL_PASSWORD_FILE": str(secret)}
    )
    assert (settings.api_mysql_user, settings.api_mysql_password) == ("ums_api", "s3cret")


def test_http_workers_default_to_one_and_are_bounded() -> None:
    assert Settings.from_env({}).http_workers == 1
    assert Settings.from_env({"UMS_HTTP_WORKERS": "4"}).http_workers == 4
    with pytest.raises(SettingsError, match="UMS_HTTP_WORKERS"):
        Settings.from_env({"UMS_HTTP_WORKERS": "0"})


def test_as_env_gives_the_same_settings_back() -> None:
    settings = Settings.from_env(
        {
            "UMS_MYSQL_PASSWORD": "s3cret",
            "UMS_BATCH_WAIT_S": "0.25",
            "UMS_TOPIC": "other",
            "UMS_HTTP_PORT": "9000",
        }
    )
    assert Settings.from_env(settings.as_env()) == settings


def test_no_password_appears_in_the_repr_and_as_env_still_gives_them_back() -> None:
    env = {
        "UMS_MYSQL_PASSWORD": "pw-main-1",
        "UMS_API_MYSQL_PASSWORD": "pw-api-2",
        "UMS_WRITER_MYSQL_PASSWORD": "pw-writer-3",
    }
    settings = Settings.from_env(env)
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "pw-" not in text
    assert {k: v for k, v in settings.as_env().items() if k in env} == env


def test_http_limits_have_safe_defaults_and_are_bounded() -> None:
    settings = Settings.from_env({})
    assert settings.http_connection_limit >= 500 and settings.http_idle_timeout_s <= 30
    assert settings.http_max_body_bytes <= 65536
    assert (settings.db_read_timeout_s, settings.api_db_timeout_s) == (30, 2)
    for var, value in [
        ("UMS_HTTP_CONNECTION_LIMIT", "5"),
        ("UMS_HTTP_IDLE_TIMEOUT_S", "0"),
        ("UMS_HTTP_MAX_BODY_BYTES", "0"),
        ("UMS_API_DB_TIMEOUT_S", "0.5"),
        ("UMS_DB_READ_TIMEOUT_S", "0"),
    ]:
        with pytest.raises(SettingsError, match=var):
            Settings.from_env({var: value})


def test_the_after_cap_is_half_the_threads_and_always_leaves_one_free() -> None:
    assert Settings.from_env({}).after_cap == 4
    assert Settings.from_env({"UMS_HTTP_THREADS": "1"}).after_cap == 0
    assert Settings.from_env({"UMS_HTTP_THREADS": "16", "UMS_AFTER_MAX_WAITING": "15"}).after_cap == 15
    # Left to its default, the cap follows the thread count of another process's settings.
    assert Settings.from_env({**Settings.from_env({}).as_env(), "UMS_HTTP_THREADS": "2"}).after_cap == 1
    with pytest.raises(SettingsError, match="UMS_AFTER_MAX_WAITING"):
        Settings.from_env({"UMS_HTTP_THREADS": "8", "UMS_AFTER_MAX_WAITING": "8"})
    settings = Settings.from_env({"UMS_AFTER_MAX_WAITING": "2"})
    assert Settings.from_env(settings.as_env()) == settings
