"""Tortoise's SQLite client, with its connection lock released when connecting fails.

Tortoise 1.1's SQLite client serialises every query on one ``asyncio.Lock`` and opens its
connection lazily while holding it. When opening fails (the file's folder is gone, the disk is
full), ``ConnectionWrapper.__aenter__`` and ``SqliteTransactionContext.__aenter__`` raise with
the lock still held, so every later query waits forever instead of answering 503 and
recovering once the database is back. This module is a Tortoise *engine* (selected by
``"engine": "quart_app.sqlite_backend"`` in the connection config) whose client releases the
lock on that path and is otherwise Tortoise's own.
"""

from __future__ import annotations

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
    """Tortoise's SQLite client, minus the lock held after a failed connect."""

    def acquire_connection(self) -> Any:
        return _ConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> Any:
        return _TransactionContext(SqliteTransactionWrapper(self), self._lock)


client_class = SqliteClient
