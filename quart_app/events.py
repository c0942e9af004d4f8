"""``WS /ws/events``: one JSON message per committed change, to every connected client.

Each message is ``{"event": "book.created" | "book.updated" | "book.deleted" |
"review.created", "id": int, "data": {...}}``, published by the view right after the change is
committed, so one process delivers them in commit order.

Every client may fall ``EVENTS_QUEUE_SIZE`` messages behind. Publishing never waits for a
client: the broker keeps the last ``EVENTS_QUEUE_SIZE`` messages once, in order, and each client
only its position in them, so a message costs one append however many clients there are, and
each client's own task sends what it has not yet sent. A client further behind than that has
fallen behind, is dropped from the feed, and is closed with code 1013 (*Try Again Later*,
RFC 6455 §7.4.2, IANA WebSocket close codes) once its connection takes writes again; the others
keep receiving. A single send that cannot complete within ``EVENTS_SEND_TIMEOUT`` seconds ends
the connection too.

The feed only sends. A message from a client is not read into memory and kept: the first one
closes the connection with code 1003 (*Unsupported Data*, RFC 6455 §7.4.1), so a client cannot
fill the server's inbound queue; one task per client, started once, waits for that message. At
most ``EVENTS_MAX_SUBSCRIBERS`` clients are connected at once per process; one more is accepted
and closed at once with code 1013.

The feed is per process. With several Hypercorn workers on PostgreSQL, :class:`PostgresRelay`
carries every event through ``LISTEN``/``NOTIFY`` so that each worker delivers every change,
whichever worker made it; on SQLite each worker's clients see that worker's changes only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from quart import Blueprint
from quart import Quart
from quart import current_app
from quart import websocket

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

EVENTS = "bookstore.events"
#: Close code for a client that fell behind, or that finds the feed full: "Try Again Later".
CLOSE_TOO_SLOW = 1013
CLOSE_FULL = 1013
#: Close code for a client that sends a message: "Unsupported Data" (the feed only sends).
CLOSE_UNSUPPORTED_DATA = 1003
#: Clients connected at once per process.
DEFAULT_MAX_SUBSCRIBERS = 1000
#: Messages a client may fall behind before it is dropped.
DEFAULT_QUEUE_SIZE = 256
#: Seconds one send may take before the client is taken to be gone.
DEFAULT_SEND_TIMEOUT_S = 30.0


class Subscriber:
    """One connected client: where it is in the feed, and why it must be closed, once it must.

    :param position: the number of messages published before it subscribed.
    """

    __slots__ = ("closing", "position", "waiter")

    def __init__(self, position: int) -> None:
        #: Messages published before the next one this client is to be sent.
        self.position = position
        #: ``(close code, reason)`` once the client is to be closed.
        self.closing: tuple[int, str] | None = None
        #: Set while the client's task waits for a message.
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        """Resume the client's task if it waits for a message."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def end(self, code: int, reason: str) -> None:
        """Have the client closed with ``code`` instead of being sent anything more."""
        if self.closing is None:
            self.closing = (code, reason)
        self.wake()


class EventBroker:
    """Fan each published message out to every subscriber of this process, without waiting.

    :param queue_size: messages a subscriber may fall behind before it is dropped.
    :param max_subscribers: subscribers at once; :meth:`subscribe` refuses one more.
    :raises ValueError: ``queue_size`` is below 1.
    """

    def __init__(
        self, queue_size: int = DEFAULT_QUEUE_SIZE, max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"EVENTS_QUEUE_SIZE must be at least 1, not {queue_size}")
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self.subscribers: set[Subscriber] = set()
        self.relay: PostgresRelay | None = None
        #: Messages published so far.
        self.published = 0
        #: The last ``queue_size`` of them, oldest first: all that a subscriber still kept
        #: in the feed may not have been sent yet.
        self.recent: deque[str] = deque(maxlen=queue_size)

    def subscribe(self) -> Subscriber | None:
        """Add a subscriber; it receives every message published from now on.

        :returns: the subscriber, or ``None`` when :attr:`max_subscribers` are connected.
        """
        if len(self.subscribers) >= self.max_subscribers:
            return None
        subscriber = Subscriber(self.published)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Remove a subscriber (idempotent)."""
        self.subscribers.discard(subscriber)

    def deliver(self, message: str) -> None:
        """Add ``message`` (JSON text) to the feed; drop the subscribers now too far behind."""
        self.recent.append(message)
        self.published += 1
        oldest_kept = self.published - self.queue_size
        behind = []
        for subscriber in self.subscribers:
            if subscriber.position < oldest_kept:
                behind.append(subscriber)
            else:
                subscriber.wake()
        for subscriber in behind:
            self.unsubscribe(subscriber)
            subscriber.end(CLOSE_TOO_SLOW, "fell behind the event feed")

    async def next_message(self, subscriber: Subscriber) -> str:
        """Wait for the next message ``subscriber`` is to be sent.

        :returns: the message, or ``""`` once the subscriber is to be closed: its
            :attr:`Subscriber.closing` says how.
        """
        while subscriber.closing is None and subscriber.position == self.published:
            subscriber.waiter = asyncio.get_running_loop().create_future()
            try:
                await subscriber.waiter
            finally:
                subscriber.waiter = None
        if subscriber.closing is not None:
            return ""
        message = self.recent[subscriber.position - self.published]
        subscriber.position += 1
        return message

    async def publish(self, message: dict[str, Any]) -> None:
        """Publish to this process's clients, or through PostgreSQL to every worker's."""
        text = json.dumps(message, separators=(",", ":"))
        if self.relay is not None:
            await self.relay.notify(text)
        else:
            self.deliver(text)


def publish(event: str, event_id: int, data: dict[str, Any]) -> None:
    """Announce a committed change to ``/ws/events`` clients; never waits for them.

    :param event: ``book.created``, ``book.updated``, ``book.deleted`` or ``review.created``.
    :param event_id: the id of the book or review.
    :param data: the resource as the API returns it (``{"id": …}`` for a deletion).
    """
    broker: EventBroker = current_app.extensions[EVENTS]
    message = {"event": event, "id": event_id, "data": data}
    if broker.relay is None:
        broker.deliver(json.dumps(message, separators=(",", ":")))
    else:
        # NOTIFY is a round trip to PostgreSQL; keep it off the response path.
        current_app.add_background_task(broker.publish, message)


@bp.websocket("/ws/events")
async def events() -> None:
    broker: EventBroker = current_app.extensions[EVENTS]
    timeout_s: float = current_app.config["EVENTS_SEND_TIMEOUT"]
    # Subscribed before the handshake completes: a client that sees the connection open
    # receives every change committed from then on.
    subscriber = broker.subscribe()
    if subscriber is None:
        await websocket.accept()
        await websocket.close(CLOSE_FULL, "the event feed has all the clients it takes")
        return

    def client_sent(received: asyncio.Future[str | bytes]) -> None:
        if not received.cancelled() and received.exception() is None:
            subscriber.end(CLOSE_UNSUPPORTED_DATA, "this feed takes no messages")

    incoming: asyncio.Future[str | bytes] | None = None
    try:
        await websocket.accept()
        # Quart queues what a client sends until the handler receives it, without a bound:
        # one task waits for the first message, and a client that sends anything is closed.
        incoming = asyncio.ensure_future(websocket.receive())
        incoming.add_done_callback(client_sent)
        while True:
            message = await broker.next_message(subscriber)
            if subscriber.closing is not None:
                await websocket.close(*subscriber.closing)
                return
            async with asyncio.timeout(timeout_s):
                await websocket.send(message)
    except TimeoutError:
        log.info("closing an events client that took over %s s to accept one message", timeout_s)
    finally:
        if incoming is not None:
            incoming.remove_done_callback(client_sent)
            incoming.cancel()
        broker.unsubscribe(subscriber)


def init_events(
    app: Quart,
    queue_size: int,
    send_timeout_s: float,
    max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS,
) -> EventBroker:
    """Give ``app`` its broker and the ``/ws/events`` route."""
    broker = EventBroker(queue_size, max_subscribers)
    app.extensions[EVENTS] = broker
    app.config.setdefault("EVENTS_SEND_TIMEOUT", send_timeout_s)
    return broker


class PostgresRelay:
    """Carry events between worker processes with PostgreSQL ``LISTEN``/``NOTIFY``.

    One asyncpg connection per process listens on :attr:`CHANNEL` and hands each message to
    the local broker; another sends. PostgreSQL delivers notifications in the order their
    transactions commit, and a payload may hold at most 8000 bytes: a longer message (a review
    of 5000 characters) is sent as numbered chunks in one transaction and joined on arrival.
    When the database goes away both connections are opened again on the next message, so the
    feed resumes after an outage; messages published while it is down are lost, as the writes
    that would have made them fail too.

    :param dsn: a ``postgresql://`` URL.
    :param broker: the local broker that receives every message.
    """

    CHANNEL = "bookstore_events"
    #: Characters per chunk: 4 bytes each at most in UTF-8, plus the header, under 8000 bytes.
    CHUNK_CHARS = 1900

    def __init__(self, dsn: str, broker: EventBroker) -> None:
        self.dsn = dsn
        self.broker = broker
        self._listener: Any = None
        self._sender: Any = None
        self._lock = asyncio.Lock()
        self._partial: dict[str, list[str]] = {}
        self._sequence = 0

    async def start(self) -> None:
        await self._connect()
        self.broker.relay = self

    async def _connect(self) -> None:
        import asyncpg

        await self._close()
        self._listener = await asyncpg.connect(self.dsn)
        await self._listener.add_listener(self.CHANNEL, self._on_notification)
        self._sender = await asyncpg.connect(self.dsn)

    def _on_notification(self, _connection: Any, pid: int, _channel: str, payload: str) -> None:
        # "<message id> <index> <count> <chunk>": chunks of one message arrive together, in order.
        message_id, index, count, chunk = payload.split(" ", 3)
        key = f"{pid}/{message_id}"
        parts = self._partial.setdefault(key, [])
        parts.append(chunk)
        if int(index) == int(count) - 1:
            del self._partial[key]
            self.broker.deliver("".join(parts))

    async def notify(self, text: str) -> None:
        """Send ``text`` (JSON) to every listening process, this one included.

        A failure is logged in one line and the message dropped; the next message reconnects.
        """
        async with self._lock:
            self._sequence += 1
            chunks = [text[i : i + self.CHUNK_CHARS] for i in range(0, len(text), self.CHUNK_CHARS)]
            try:
                if self._sender is None or self._sender.is_closed() or self._listener.is_closed():
                    await self._connect()
                async with self._sender.transaction():
                    for index, chunk in enumerate(chunks):
                        payload = f"{self._sequence} {index} {len(chunks)} {chunk}"
                        await self._sender.execute(
                            "SELECT pg_notify($1, $2)", self.CHANNEL, payload
                        )
            except (TimeoutError, OSError) as exc:
                log.warning("event not relayed through PostgreSQL: %s", exc)
                await self._close()
            except Exception as exc:  # asyncpg's errors have no common base outside asyncpg
                log.warning("event not relayed through PostgreSQL: %s: %s", type(exc).__name__, exc)
                await self._close()

    async def _close(self) -> None:
        for connection in (self._listener, self._sender):
            if connection is not None and not connection.is_closed():
                connection.terminate()
        self._listener = self._sender = None

    async def stop(self) -> None:
        self.broker.relay = None
        await self._close()
