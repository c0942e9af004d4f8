"""Stage 1 of the migration: ``quart_app`` on the legacy SQLAlchemy data layer.

With ``BOOKSTORE_DATA_LAYER=threaded`` the views await :class:`ThreadedStore`, which runs the
functions of :mod:`legacy_flask.store` unchanged, each as one unit of work (session open →
work → commit or rollback → close) inside a single call to the app's worker pool, so no
session ever crosses an ``await`` (:class:`migrate.UnitOfWork`). Objects come back detached
with their columns loaded (``expire_on_commit=False``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from werkzeug.datastructures import ETags

from legacy_flask import store
from legacy_flask.db import make_sessionmaker
from legacy_flask.db import ping
from legacy_flask.models import Book
from legacy_flask.models import Cover
from legacy_flask.models import Review
from legacy_flask.models import User
from legacy_flask.schemas import BookIn
from legacy_flask.schemas import BookQuery
from legacy_flask.schemas import PageQuery
from legacy_flask.schemas import ReviewIn
from migrate import UnitOfWork
from migrate import WorkerPool
from migrate import iterate_in_pool
from migrate import run_sync
from quart_app.store import UserRow


def _make_admin(session: Any, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.is_admin = True


def _create_review(session: Any, book_id: int, user_id: int, data: ReviewIn) -> Review:
    user = session.get(User, user_id)
    return store.create_review(session, book_id, user, data)


class ThreadedStore:
    """:class:`quart_app.store.DataLayer` over :mod:`legacy_flask.store` in worker threads.

    :param engine: the SQLAlchemy engine (sync driver: sqlite3 or psycopg).
    :param pool: the worker pool whose threads run every unit of work.
    """

    def __init__(self, engine: Engine, pool: WorkerPool) -> None:
        self.engine = engine
        self.pool = pool
        self.sessions = make_sessionmaker(engine)
        self.uow = UnitOfWork(self.sessions, pool=pool)

    async def ping(self) -> None:
        await run_sync(ping, pool=self.pool)(self.engine)

    async def get_book(self, book_id: int) -> Book:
        return await self.uow.run(store.get_book, book_id)

    async def find_book_by_isbn(self, isbn: str) -> Book | None:
        return await self.uow.run(store.find_book_by_isbn, isbn)

    async def list_books(self, query: BookQuery) -> tuple[Sequence[Book], int]:
        return await self.uow.run(store.list_books, query)

    async def create_book(self, data: BookIn) -> Book:
        return await self.uow.run(store.create_book, data)

    async def update_book(
        self, book_id: int, changes: dict[str, Any], if_match: ETags | None
    ) -> Book:
        return await self.uow.run(store.update_book, book_id, changes, if_match)

    async def delete_book(self, book_id: int, if_match: ETags | None) -> None:
        await self.uow.run(store.delete_book, book_id, if_match)

    async def list_reviews(
        self, book_id: int, page: PageQuery
    ) -> tuple[Sequence[tuple[Review, str]], int]:
        return await self.uow.run(store.list_reviews, book_id, page)

    async def create_review(self, book_id: int, user: UserRow, data: ReviewIn) -> Review:
        return await self.uow.run(_create_review, book_id, user.id, data)

    async def set_cover(self, book_id: int, media_type: str, data: bytes) -> None:
        await self.uow.run(store.set_cover, book_id, media_type, data)

    async def get_cover(self, book_id: int) -> Cover:
        return await self.uow.run(store.get_cover, book_id)

    async def create_user(self, username: str, password_hash: str, *, is_admin: bool) -> User:
        return await self.uow.run(store.create_user, username, password_hash, is_admin=is_admin)

    async def find_user(self, username: str) -> User | None:
        return await self.uow.run(store.find_user, username)

    async def get_user(self, user_id: int) -> User | None:
        return await self.uow.run(store.get_user, user_id)

    async def make_admin(self, user: UserRow) -> None:
        await self.uow.run(_make_admin, user.id)

    async def end_sessions(self, user_id: int, password_hash: str | None = None) -> int:
        return await self.uow.run(store.end_sessions, user_id, password_hash)

    async def export_batches(self) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Each batch is read by the legacy generator in a worker thread, one short session each."""
        batches = iterate_in_pool(store.export_batches(self.sessions), pool=self.pool)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                yield batch

    async def close(self) -> None:
        await run_sync(self.engine.dispose, pool=self.pool)()
