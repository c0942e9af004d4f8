"""The apps the contract suite runs against, each behind a plain :class:`httpx.Client`.

A target builds one app on a given database and hands out clients with their own cookie jars.
Tests see only ``httpx`` (status, headers, JSON, cookies), so adding an app or a transport
(in-process WSGI, in-process ASGI, a real server over a socket) changes this module alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Base URL of in-process clients (no socket is opened).
IN_PROCESS_URL = "http://testserver"


@dataclass
class Target:
    """One running app under test.

    Attributes:
        name: the parameter id (``flask``).
        new_client: returns a fresh client with an empty cookie jar, talking to this app.
    """

    name: str
    new_client: Callable[[], httpx.Client]
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        """Return a new client; it is closed when the target is."""
        client = self.new_client()
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@contextmanager
def flask_target(
    config: dict[str, Any], check: Callable[[httpx.Response], None]
) -> Iterator[Target]:
    """Run ``legacy_flask`` in-process through its WSGI interface (PEP 3333)."""
    from legacy_flask import close_app, create_app

    app = create_app(config)

    def new_client() -> httpx.Client:
        return httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url=IN_PROCESS_URL,
            event_hooks={"response": [check]},
        )

    target = Target("flask", new_client)
    try:
        yield target
    finally:
        target.close()
        close_app(app)


#: name → context manager that starts the app; the ``bookstore`` fixture is parametrised by it.
TARGETS: dict[str, Callable[..., Any]] = {"flask": flask_target}
