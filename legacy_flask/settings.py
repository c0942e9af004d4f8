"""Bookstore settings read from ``BOOKSTORE_*`` environment variables.

Framework-free: both ``legacy_flask`` and ``quart_app`` read their configuration through
:func:`load_settings`, so the two apps agree on every default (see the contract's
"Configuration" table).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import Any

log = logging.getLogger(__name__)

#: Database used when ``BOOKSTORE_DATABASE_URL`` is unset: a SQLite file in the working directory.
DEFAULT_DATABASE_URL = "sqlite:///bookstore.db"

#: Largest JSON request body, in bytes (the contract: above 1 MiB → 413).
MAX_JSON_BYTES = 1024 * 1024
#: Largest cover image, in bytes (the contract: above 5 MiB → 413).
MAX_COVER_BYTES = 5 * 1024 * 1024
#: The detail of the 429 a client gets past the registration limit.
REGISTER_LIMIT_MESSAGE = "too many registrations from this address; try again later"
#: Room for the multipart framing around a cover upload, in bytes.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class SettingsError(ValueError):
    """A ``BOOKSTORE_*`` variable or a config key has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Everything the bookstore apps read from their environment.

    Attributes:
        database_url: SQLAlchemy-style URL, ``sqlite:///path`` or ``postgresql://…``.
        secret_key: key that signs session cookies.
        inventory_url: base URL of the inventory service, or ``None`` when not configured
            (availability then answers 503).
        inventory_timeout: seconds to wait for the inventory service before answering 504.
        secure_cookies: set ``Secure`` on the session cookie.
        admin_username, admin_password: create this admin at start-up when both are set.
        password_hash_method: a :func:`werkzeug.security.generate_password_hash` method string;
            tests lower its cost, production keeps werkzeug's default (scrypt).
        session_lifetime: seconds a session cookie is accepted after the login that issued it.
        login_limit: failed logins allowed per client address in ``login_window`` seconds.
        login_window: the rate limit's window, in seconds.
        register_limit: registrations allowed per client address in ``register_window`` seconds.
        register_window: that limit's (moving) window, in seconds.
        data_layer: ``quart_app`` only: ``tortoise`` (native async ORM, the default) or
            ``threaded`` (the legacy SQLAlchemy layer in worker threads: the halfway step).
        worker_threads: ``quart_app`` only: size of the worker pool for blocking calls
            (password hashing, the threaded data layer).
        ratelimit_storage_url: where the rate limits count, a ``limits`` storage URL
            (``redis://host:6379/0``) shared by every process; ``None``: each process's memory.
        ratelimit_key_prefix: prefix of the rate limits' keys in that storage.
        proxy_hops: proxies in front of the app that append to ``X-Forwarded-For``; the client
            address (which the rate limits count by) is taken from that header, this many
            entries from its end. 0: the peer address.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    inventory_url: str | None = None
    inventory_timeout: float = 2.0
    secure_cookies: bool = False
    admin_username: str | None = None
    admin_password: str | None = None
    password_hash_method: str = "scrypt"
    session_lifetime: int = 12 * 60 * 60
    login_limit: int = 10
    login_window: int = 60
    register_limit: int = 10
    register_window: int = 60
    data_layer: str = "tortoise"
    worker_threads: int = 16
    ratelimit_storage_url: str | None = None
    ratelimit_key_prefix: str = "bookstore"
    proxy_hops: int = 0


_ENV = {
    "database_url": "BOOKSTORE_DATABASE_URL",
    "secret_key": "BOOKSTORE_SECRET_KEY",
    "inventory_url": "BOOKSTORE_INVENTORY_URL",
    "inventory_timeout": "BOOKSTORE_INVENTORY_TIMEOUT",
    "secure_cookies": "BOOKSTORE_SECURE_COOKIES",
    "admin_username": "BOOKSTORE_ADMIN_USERNAME",
    "admin_password": "BOOKSTORE_ADMIN_PASSWORD",
    "password_hash_method": "BOOKSTORE_PASSWORD_HASH_METHOD",
    "session_lifetime": "BOOKSTORE_SESSION_LIFETIME",
    "data_layer": "BOOKSTORE_DATA_LAYER",
    "worker_threads": "BOOKSTORE_WORKER_THREADS",
    "ratelimit_storage_url": "BOOKSTORE_RATELIMIT_STORAGE_URL",
    "ratelimit_key_prefix": "BOOKSTORE_RATELIMIT_KEY_PREFIX",
    "proxy_hops": "BOOKSTORE_PROXY_HOPS",
    "login_limit": "BOOKSTORE_LOGIN_LIMIT",
    "login_window": "BOOKSTORE_LOGIN_WINDOW",
}

#: Values of ``BOOKSTORE_DATA_LAYER``.
DATA_LAYERS = ("tortoise", "threaded")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Convert ``value`` to the type of the field whose default is ``default``."""
    if isinstance(default, bool):
        text = str(value).strip().lower()
        if text not in _TRUE | _FALSE:
            raise SettingsError(f"{name} must be true or false, not {value!r}")
        return text in _TRUE
    if isinstance(default, int | float):
        try:
            number = type(default)(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a number, not {value!r}") from None
        # A setting whose default is 0 may be 0 (proxy_hops); the others must be positive.
        if number < 0 or (number == 0 and default != 0):
            raise SettingsError(f"{name} must be positive, not {value!r}")
        return number
    if value is None:
        return None
    return str(value) or (None if default is None else "")


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build :class:`Settings` from the environment, then apply ``overrides``.

    :param overrides: field names of :class:`Settings` (``{"database_url": …}``); keys that are
        not fields are ignored so an app's own config keys can share the mapping.
    :param environ: the environment to read (default :data:`os.environ`).

    :returns: the settings. When no secret key is given, a random one is made for this process
        and a warning is logged: cookies signed by one process are then not accepted by another.

    :raises SettingsError: a value has the wrong form (``BOOKSTORE_INVENTORY_TIMEOUT=abc``).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    defaults = Settings()
    for field in fields(Settings):
        default = getattr(defaults, field.name)
        if overrides is not None and field.name in overrides:
            values[field.name] = _coerce(field.name, overrides[field.name], default)
        elif field.name in _ENV and _ENV[field.name] in env:
            values[field.name] = _coerce(_ENV[field.name], env[_ENV[field.name]], default)
    settings = replace(defaults, **values)
    if settings.data_layer not in DATA_LAYERS:
        raise SettingsError(
            f"BOOKSTORE_DATA_LAYER must be one of {', '.join(DATA_LAYERS)}, not {settings.data_layer!r}"
        )
    if not settings.secret_key:
        log.warning(
            "BOOKSTORE_SECRET_KEY is not set: using a random key, so sessions end when this "
            "process stops and are not shared with other processes"
        )
        settings = replace(settings, secret_key=secrets.token_hex(32))
    return settings


def ratelimit_storage(settings: Settings, *, asynchronous: bool) -> tuple[str, dict[str, Any]]:
    """Return the ``limits`` storage URL and options the rate limits of ``settings`` use.

    :param asynchronous: ``quart_app``'s ``limits.aio`` storages (``async+redis://``, on
        redis-py's asyncio client) rather than the synchronous ones.
    :returns: ``(url, options)`` for ``limits.storage.storage_from_string(url, **options)``:
        each process's memory when no storage URL is set; otherwise the named storage, its
        keys under ``ratelimit_key_prefix``, its errors raised as
        ``limits.errors.StorageError``.
    """
    url = settings.ratelimit_storage_url
    if not url or url.startswith("memory://"):
        return ("async+memory://" if asynchronous else "memory://"), {}
    options: dict[str, Any] = {"key_prefix": settings.ratelimit_key_prefix, "wrap_exceptions": True}
    if asynchronous:
        if url.startswith(("redis://", "rediss://", "redis+unix://")):
            options["implementation"] = "redispy"
        if not url.startswith("async+"):
            url = f"async+{url}"
    return url, options
