"""Tortoise's SQLite client, with its connection lock released when connecting fails.

Tortoise 1.1's SQLite client serialises every query on one ``asyncio.Lock`` and opens its
connection lazily while holding it. When opening fails (the file's folder is gone, the disk is
full), ``ConnectionWrapper.__aenter__`` and ``SqliteTransactionContext.__aenter__`` raise with
the lock still held, so every later query waits forever instead of answering 503 and
recovering once the database is back. This module is a Tortoise *engine* (selected by
``"engine": "quart_app.sqlite_backend"`` in the connection config) whose client releases the
lock on that path and is otherwise Tortoise's own.

It also reads on the calling thread (:meth:`SqliteClient.read_now`). aiosqlite runs every query
on a thread of its own and hands the result back to the event loop: for a lookup by primary key,
which SQLite answers in a few microseconds from the page cache, the two thread switches and the
loop's wake-up cost far more CPU than the query (about 250 µs of the 670 µs of a
``GET /books/{id}`` on one Hypercorn worker, measured with ``compare``). The read runs on a
second connection with a busy timeout of 0, so it never waits on the loop: in WAL mode (the
client's default journal) readers do not wait for writers, and whenever SQLite would make it
wait, or the database cannot be opened, the caller falls back to the usual path.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper
from tortoise.backends.sqlite.client import SqliteClient as _SqliteClient
from tortoise.backends.sqlite.client import SqliteTransactionContext
from tortoise.backends.sqlite.client import SqliteTransactionWrapper


class _ConnectionWrapper(ConnectionWrapper[Any]):
    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class _TransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._trxlock.release()
            raise
        self._trxlock.release()
        # The parent acquires the lock again and goes on as usual.
        return await super().__aenter__()


class SqliteClient(_SqliteClient):
    """Tortoise's SQLite client, minus the lock held after a failed connect, plus
    :meth:`read_now`."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self._reader: sqlite3.Connection | None = None

    def read_now(self, sql: str, values: Sequence[Any]) -> list[sqlite3.Row]:
        """Run one short ``SELECT`` on the calling thread and return all its rows.

        For single-row lookups by key only: it blocks the event loop while it runs. It uses a
        connection of its own to the same file, opened on first use (never creating the file),
        outside any transaction: it sees every committed change, as the client's next query
        would.

        :raises sqlite3.Error: the read cannot be done at once (the database is busy, cannot
            be opened, or is in memory, where a second connection would see another
            database); the caller makes the query through the client instead.
        """
        if self._reader is None:
            if self.filename in ("", ":memory:") or self.filename.startswith("file:"):
                raise sqlite3.NotSupportedError("no second connection to this database")
            uri = Path(self.filename).absolute().as_uri() + "?mode=rw"
            reader = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
            reader.row_factory = sqlite3.Row
            self._reader = reader
        return self._reader.execute(sql, values).fetchall()

    async def close(self) -> None:
        if self._reader is not None:
            # Closed while the client's own connection is still open: no checkpoint, no wait.
            self._reader.close()  # noqa: QM409
            self._reader = None
        await super().close()

    def acquire_connection(self) -> Any:
        return _ConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> Any:
        return _TransactionContext(SqliteTransactionWrapper(self), self._lock)


client_class = SqliteClient
