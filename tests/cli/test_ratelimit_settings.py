"""The rate limits' store and the proxy hops: how the settings read, and the scale-out warning."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import quart_app.cli
from legacy_flask.settings import SettingsError
from legacy_flask.settings import load_settings
from legacy_flask.settings import ratelimit_storage


def test_unset_the_limits_count_in_each_processs_memory() -> None:
    settings = load_settings(environ={"BOOKSTORE_SECRET_KEY": "k"})
    assert ratelimit_storage(settings, asynchronous=False) == ("memory://", {})
    assert ratelimit_storage(settings, asynchronous=True) == ("async+memory://", {})
    assert settings.proxy_hops == 0


def test_a_redis_url_is_shared_under_the_prefix_by_both_kinds_of_storage() -> None:
    settings = load_settings(
        environ={
            "BOOKSTORE_SECRET_KEY": "k",
            "BOOKSTORE_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/3",
            "BOOKSTORE_RATELIMIT_KEY_PREFIX": "shop",
        }
    )
    options = {"key_prefix": "shop", "wrap_exceptions": True}
    assert ratelimit_storage(settings, asynchronous=False) == ("redis://127.0.0.1:6379/3", options)
    assert ratelimit_storage(settings, asynchronous=True) == (
        "async+redis://127.0.0.1:6379/3",
        {**options, "implementation": "redispy"},
    )


def test_proxy_hops_may_be_zero_but_not_negative() -> None:
    env = {"BOOKSTORE_SECRET_KEY": "k"}
    assert load_settings(environ={**env, "BOOKSTORE_PROXY_HOPS": "0"}).proxy_hops == 0
    assert load_settings(environ={**env, "BOOKSTORE_PROXY_HOPS": "2"}).proxy_hops == 2
    with pytest.raises(SettingsError, match="BOOKSTORE_PROXY_HOPS must be positive"):
        load_settings(environ={**env, "BOOKSTORE_PROXY_HOPS": "-1"})
    # The other numbers still may not be 0.
    with pytest.raises(SettingsError, match="BOOKSTORE_SESSION_LIFETIME"):
        load_settings(environ={**env, "BOOKSTORE_SESSION_LIFETIME": "0"})


@pytest.mark.parametrize(("store", "warned"), [(None, True), ("redis://127.0.0.1:6379/0", False)])
def test_several_workers_without_a_shared_store_are_warned_about(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    store: str | None,
    warned: bool,
) -> None:
    served: list[Any] = []
    # Hypercorn's run() is replaced: the test checks what serve() says before serving.
    monkeypatch.setattr("hypercorn.run.run", lambda config: served.append(config) or 0)
    monkeypatch.setenv("BOOKSTORE_SECRET_KEY", "k")
    if store is None:
        monkeypatch.delenv("BOOKSTORE_RATELIMIT_STORAGE_URL", raising=False)
    else:
        monkeypatch.setenv("BOOKSTORE_RATELIMIT_STORAGE_URL", store)
    with caplog.at_level(logging.WARNING, logger="quart_app.cli"):
        assert quart_app.cli.main(["serve", "--workers", "2", "--port", "0"]) == 0
    assert served[0].workers == 2
    messages = [record.getMessage() for record in caplog.records]
    assert any("BOOKSTORE_RATELIMIT_STORAGE_URL is not set" in m for m in messages) is warned


def test_the_login_limit_and_its_window_are_read_from_the_environment() -> None:
    env = {"BOOKSTORE_SECRET_KEY": "k"}
    settings = load_settings(
        environ={**env, "BOOKSTORE_LOGIN_LIMIT": "3", "BOOKSTORE_LOGIN_WINDOW": "5"}
    )
    assert (settings.login_limit, settings.login_window) == (3, 5)
    with pytest.raises(SettingsError, match="BOOKSTORE_LOGIN_LIMIT"):
        load_settings(environ={**env, "BOOKSTORE_LOGIN_LIMIT": "0"})


def test_the_servers_under_load_have_a_login_limit_no_run_reaches() -> None:
    # Concurrent right-password logins from one address count while they are checked.
    from compare.harness.scenarios import ServerConfig
    from compare.harness.servers import LOGIN_LIMIT
    from compare.harness.servers import server_env

    for app, server in (("legacy_flask", "waitress"), ("quart_app", "hypercorn")):
        config = ServerConfig("id", "label", app, server)  # type: ignore[arg-type]
        env = server_env(config, "sqlite:///x.db", "http://127.0.0.1:9")
        assert load_settings(environ=env).login_limit == LOGIN_LIMIT >= 100_000
