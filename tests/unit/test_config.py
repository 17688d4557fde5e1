from __future__ import annotations

import pytest

from backoffice.config import ConfigError, load_config, normalise_database_url


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"BACKOFFICE_ENV": "production"}, None, tmp_path)


def test_a_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = load_config({}, None, tmp_path)["SECRET_KEY"]
    second = load_config({}, None, tmp_path)["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    config = load_config({}, None, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'backoffice.sqlite3'}"


def test_production_sends_cookies_only_over_https(tmp_path):
    config = load_config({"BACKOFFICE_ENV": "production", "SECRET_KEY": "k"}, None, tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True and config["FORCE_HTTPS"] is True
    assert load_config({}, None, tmp_path)["SESSION_COOKIE_SECURE"] is False


def test_settings_are_read_from_the_environment(tmp_path):
    config = load_config({"IDLE_TIMEOUT_MINUTES": "5", "LOCKOUT_ATTEMPTS": "3",
                          "SESSION_COOKIE_SECURE": "yes"}, None, tmp_path)
    assert (config["IDLE_TIMEOUT_MINUTES"], config["LOCKOUT_ATTEMPTS"]) == (5, 3)
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("env", [{"IDLE_TIMEOUT_MINUTES": "soon"}, {"LOCKOUT_ATTEMPTS": "0"},
                                 {"FORCE_HTTPS": "maybe"}])
def test_a_bad_setting_is_named_in_the_error(tmp_path, env):
    with pytest.raises(ConfigError, match=next(iter(env))):
        load_config(env, None, tmp_path)


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_postgresql_urls_use_psycopg_3(url, expected):
    assert normalise_database_url(url) == expected


def test_pooled_postgresql_connections_are_tested_before_use_and_sqlite_ones_are_not(tmp_path):
    postgres = load_config({"DATABASE_URL": "postgresql://u:p@db/backoffice"}, None, tmp_path)
    assert postgres["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True, "pool_pre_ping": True}
    sqlite = load_config({}, None, tmp_path)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"hide_parameters": True}
