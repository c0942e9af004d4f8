"""Waitress, configured as a production deployment needs it (``python -m legacy_flask serve``)."""

from __future__ import annotations

import json
import logging
from typing import Any

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.parser import ParsingError
from waitress.utilities import Error

from legacy_flask.problems import PROBLEM_JSON
from legacy_flask.settings import MAX_COVER_BYTES
from legacy_flask.settings import MULTIPART_OVERHEAD_BYTES

#: The limits ``serve`` gives Waitress (``waitress.adjustments.Adjustments``), in place of
#: defaults that let a few clients starve everyone: 100 connections, idle ones included
#: (``connection_limit``); 120 s before an idle connection is closed, checked every 30 s
#: (``channel_timeout``, ``cleanup_interval``); request bodies up to 1 GiB spooled to disk
#: before the app can answer 413 (``max_request_body_size``). More connections than
#: ``select()`` can watch (1024 descriptors) need ``poll()``. What these cannot bound (slow
#: senders that keep a connection busy, bodies buffered before the app sees them) needs a
#: buffering proxy in front: see docs/reliability.md.
WAITRESS_LIMITS: dict[str, int | bool] = {
    "connection_limit": 1000,
    "asyncore_use_poll": True,
    "channel_timeout": 15,
    "cleanup_interval": 5,
    # The largest body the contract takes is a cover upload; larger ones get Waitress' 413.
    "max_request_body_size": MAX_COVER_BYTES + MULTIPART_OVERHEAD_BYTES,
}


class ProblemError(Error):  # type: ignore[misc]
    """One of Waitress' own error answers (400, 413, 431 …), as a problem document.

    Waitress answers a request it cannot parse before the app sees it; this keeps its status,
    reason and detail, and gives the contract's ``application/problem+json`` body.

    :param error: the error Waitress' parser found.
    """

    def __init__(self, error: Any) -> None:
        super().__init__(error.body)
        self.code = error.code
        self.reason = error.reason

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        body = {"type": "about:blank", "title": self.reason, "status": self.code}
        body["detail"] = str(self.body)
        return (
            f"{self.code} {self.reason}",
            [("Content-Type", PROBLEM_JSON)],
            json.dumps(body).encode(),
        )


class StrictFramingParser(HTTPRequestParser):  # type: ignore[misc]
    """Waitress' request parser, refusing a request with both framings of its body, and
    answering what it refuses with a problem document (:class:`ProblemError`).

    RFC 9112 §6.3: a request with both ``Transfer-Encoding`` and ``Content-Length`` may be an
    attempt at request smuggling, and a server that answers it must close the connection.
    Waitress frames such a body by ``Transfer-Encoding`` and keeps the connection open, and it
    removes the header before the app sees the request, so the app cannot refuse it: the
    parser does, and Waitress answers 400 (its own ``text/plain``) and closes.
    """

    def received(self, data: bytes) -> int:
        consumed: int = super().received(data)
        error: Any = getattr(self, "error", None)
        if error is not None and not isinstance(error, ProblemError):
            self.error = ProblemError(error)
        return consumed

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("a request may not have both Transfer-Encoding and Content-Length")


class StrictFramingChannel(HTTPChannel):  # type: ignore[misc]
    """Waitress' connection, with :class:`StrictFramingParser`."""

    parser_class = StrictFramingParser


def serve_waitress(app: Any, host: str, port: int, threads: int, proxy_hops: int = 0) -> None:
    """Serve ``app`` on ``host:port`` with :data:`WAITRESS_LIMITS` until interrupted.

    What :func:`waitress.serve` does, with :class:`StrictFramingChannel` for each connection.
    With ``proxy_hops`` (``BOOKSTORE_PROXY_HOPS``), Waitress leaves ``X-Forwarded-For`` to the
    app (werkzeug's ``ProxyFix``) instead of removing it as a header no proxy vouches for.
    """
    logging.basicConfig()
    server: Any = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        clear_untrusted_proxy_headers=not proxy_hops,
        **WAITRESS_LIMITS,
    )
    server.channel_class = StrictFramingChannel
    server.print_listen("Serving on http://{}:{}")
    server.run()
