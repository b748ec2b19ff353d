from __future__ import annotations

from pathlib import Path

import pytest

from ums_find.settings import Secret, Settings, SettingsError


def test_defaults_match_the_local_stack() -> None:
    settings = Settings.from_env({})
    assert (settings.mysql.database, settings.kafka.topic, settings.kafka.dlq_topic) == (
        "glarimy",
        "user-added",
        "user-added.dlq",
    )
    assert (settings.kafka.bootstrap, settings.http.port) == ("127.0.0.1:9092", 8080)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("UMS_MYSQL_PORT", "nope"),
        ("UMS_HTTP_PORT", "70000"),
        ("UMS_HTTP_PORT", "0"),
        ("UMS_CONSUMER_HTTP_PORT", "65536"),
        ("UMS_MYSQL_DATABASE", "glarimy; DROP"),
        ("UMS_TOPIC", "bad topic"),
        ("UMS_MYSQL_HOST", " "),
    ],
)
def test_an_invalid_setting_is_named(var: str, value: str) -> None:
    with pytest.raises(SettingsError, match=var):
        Settings.from_env({var: value})


def test_the_consumer_probes_may_be_turned_off_with_port_zero() -> None:
    assert Settings.from_env({"UMS_CONSUMER_HTTP_PORT": "0"}).consumer.http_port == 0
    assert Settings.from_env({}).consumer.http_port == 8081


def test_password_file_wins_and_a_missing_one_is_named(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    env = {"UMS_MYSQL_PASSWORD": "other", "UMS_MYSQL_PASSWORD_FILE": str(secret)}
    assert Settings.from_env(env).mysql.password.reveal() == "s3cret"
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
    assert Settings.from_env({}).accounts.api_user == "" and Settings.from_env({}).http.after_wait_s == 2.0
    secret = tmp_path / "api-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    settings = Settings.from_env(
        {"UMS_API_MYSQL_USER": "ums_api", "UMS_API_MYSQL_PASSWORD_FILE": str(secret)}
    )
    assert (settings.accounts.api_user, settings.accounts.api_password.reveal()) == ("ums_api", "s3cret")


def test_http_workers_default_to_one_and_are_bounded() -> None:
    assert Settings.from_env({}).http.workers == 1
    assert Settings.from_env({"UMS_HTTP_WORKERS": "4"}).http.workers == 4
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


def test_no_password_shows_in_a_repr_and_each_section_is_its_own_object() -> None:
    settings = Settings.from_env(
        {
            "UMS_MYSQL_PASSWORD": "pw-main-1",
            "UMS_API_MYSQL_PASSWORD": "pw-api-2",
            "UMS_WRITER_MYSQL_PASSWORD": "pw-w-3",
        }
    )
    for shown in (repr(settings), str(settings), repr(settings.mysql), f"{settings.accounts}"):
        assert "pw-" not in shown
    assert settings.mysql.password.reveal() == "pw-main-1"
    assert settings.mysql.password == Secret("pw-main-1") != Secret("other")


def test_override_names_fields_by_their_variable_and_refuses_unknown_ones() -> None:
    settings = Settings.from_env({}).override(mysql_database="other_db", topic="t1", mysql_password="pw")
    assert (settings.mysql.database, settings.kafka.topic) == ("other_db", "t1")
    assert settings.mysql.password.reveal() == "pw" and settings.kafka.dlq_topic == "user-added.dlq"
    with pytest.raises(SettingsError, match="no_such_thing"):
        Settings.from_env({}).override(no_such_thing=1)


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
    assert settings.http.connection_limit >= 500 and settings.http.idle_timeout_s <= 30
    assert settings.http.max_body_bytes <= 65536
    assert (settings.mysql.read_timeout_s, settings.http.db_timeout_s) == (30, 2)
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
    assert Settings.from_env({}).http.after_cap == 4
    assert Settings.from_env({"UMS_HTTP_THREADS": "1"}).http.after_cap == 0
    assert Settings.from_env({"UMS_HTTP_THREADS": "16", "UMS_AFTER_MAX_WAITING": "15"}).http.after_cap == 15
    # Left to its default, the cap follows the thread count of another process's settings.
    assert Settings.from_env({**Settings.from_env({}).as_env(), "UMS_HTTP_THREADS": "2"}).http.after_cap == 1
    with pytest.raises(SettingsError, match="UMS_AFTER_MAX_WAITING"):
        Settings.from_env({"UMS_HTTP_THREADS": "8", "UMS_AFTER_MAX_WAITING": "8"})
    settings = Settings.from_env({"UMS_AFTER_MAX_WAITING": "2"})
    assert Settings.from_env(settings.as_env()) == settings
