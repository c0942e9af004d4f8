"""The bookstore's data layer on Tortoise ORM: every read and write the views need, awaitable.

It mirrors :mod:`legacy_flask.store` function for function, as methods of
:class:`TortoiseStore`, and raises the same HTTP exceptions (:mod:`legacy_flask.problems`).
:class:`DataLayer` is the interface the views use; :mod:`quart_app.threaded` implements it on
the legacy SQLAlchemy layer for the halfway step of a migration.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from collections.abc import Sequence
from typing import Any
from typing import Protocol
from typing import TypeVar

from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.expressions import Q
from tortoise.expressions import RawSQL
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction
from werkzeug.datastructures import ETags

from legacy_flask.problems import AlreadyExists
from legacy_flask.problems import NotFound
from legacy_flask.problems import VersionMismatch
from legacy_flask.schemas import BookIn
from legacy_flask.schemas import BookQuery
from legacy_flask.schemas import BookRow
from legacy_flask.schemas import PageQuery
from legacy_flask.schemas import ReviewIn
from legacy_flask.schemas import ReviewRow
from legacy_flask.schemas import utcnow
from legacy_flask.store import EXPORT_BATCH_ROWS
from legacy_flask.store import EXPORT_COLUMNS
from legacy_flask.store import check_version
from legacy_flask.store import is_foreign_key_violation
from quart_app.models import USERNAME_MAX_LENGTH
from quart_app.models import Book
from quart_app.models import Cover
from quart_app.models import Review
from quart_app.models import User

M = TypeVar("M", bound=Model)


class CoverRow(Protocol):
    media_type: str
    data: bytes
    sha256: str


class UserRow(Protocol):
    id: int
    username: str
    password_hash: str
    is_admin: bool
    session_version: int


class DataLayer(Protocol):
    """What the views need from a data layer; every method is one unit of work, committed.

    Raises (as :mod:`legacy_flask.store`): :class:`NotFound` 404, :class:`AlreadyExists` 409,
    :class:`VersionMismatch` 412.
    """

    async def ping(self) -> None: ...
    async def get_book(self, book_id: int) -> BookRow: ...
    async def find_book_by_isbn(self, isbn: str) -> BookRow | None: ...
    async def list_books(self, query: BookQuery) -> tuple[Sequence[BookRow], int]: ...
    async def create_book(self, data: BookIn) -> BookRow: ...
    async def update_book(
        self, book_id: int, changes: dict[str, Any], if_match: ETags | None
    ) -> BookRow: ...
    async def delete_book(self, book_id: int, if_match: ETags | None) -> None: ...
    async def list_reviews(
        self, book_id: int, page: PageQuery
    ) -> tuple[Sequence[tuple[ReviewRow, str]], int]: ...
    async def create_review(self, book_id: int, user: UserRow, data: ReviewIn) -> ReviewRow: ...
    async def set_cover(self, book_id: int, media_type: str, data: bytes) -> None: ...
    async def get_cover(self, book_id: int) -> CoverRow: ...
    async def create_user(
        self, username: str, password_hash: str, *, is_admin: bool
    ) -> UserRow: ...
    async def find_user(self, username: str) -> UserRow | None: ...
    async def get_user(self, user_id: int) -> UserRow | None: ...
    async def make_admin(self, user: UserRow) -> None: ...
    async def end_sessions(self, user_id: int, password_hash: str | None = None) -> int: ...
    def export_batches(self) -> AsyncIterator[list[tuple[Any, ...]]]: ...
    async def close(self) -> None: ...


class TortoiseStore:
    """:class:`DataLayer` on Tortoise ORM; needs the app's Tortoise context to be current.

    :param connection_name: the Tortoise connection (:func:`quart_app.db.connection_name`).
    """

    def __init__(self, connection_name: str) -> None:
        self.connection_name = connection_name
        self._by_id_sql: dict[type[Model], str] = {}

    async def ping(self) -> None:
        """Run ``SELECT 1``; raise the driver's error when the database is down."""
        await get_connection(self.connection_name).execute_query("SELECT 1")

    async def _get_by_id(self, model: type[M], row_id: int) -> M | None:
        """Return the ``model`` row with primary key ``row_id``, or ``None``: one ``SELECT``.

        As ``model.get_or_none(id=row_id)``, but its parameterised SQL is built once per model
        (``QuerySet.sql()``) and run through Tortoise's own executor, which turns the row into
        the model. Building the SQL with pypika took about 60 µs of CPU a read, a third of
        ``get_or_none``'s (``docs/comparison.md``, "The CPU-light read against its floor").
        """
        db = get_connection(self.connection_name)
        sql = self._by_id_sql.get(model)
        if sql is None:
            sql = self._by_id_sql[model] = model.filter(id=0).using_db(db).sql()
        rows = await db.executor_class(model=model, db=db).execute_select(sql, [row_id])
        return rows[0] if rows else None

    async def get_book(self, book_id: int) -> Book:
        book = await self._get_by_id(Book, book_id)
        if book is None:
            raise NotFound(f"book {book_id} does not exist")
        return book

    async def find_book_by_isbn(self, isbn: str) -> Book | None:
        return await Book.get_or_none(isbn=isbn)

    async def list_books(self, query: BookQuery) -> tuple[Sequence[Book], int]:
        books: QuerySet[Book] = Book.all()
        if query.q:
            books = books.filter(Q(title__icontains=query.q) | Q(author__icontains=query.q))
        if query.author is not None:
            books = books.filter(author__iexact=query.author)
        if query.year is not None:
            books = books.filter(year=query.year)
        total = await books.count()
        name = query.sort.lstrip("-")
        direction = "-" if query.sort.startswith("-") else ""
        # Books without a year sort last both ways, as in legacy_flask.store.list_books.
        page = (
            await books.annotate(sort_is_null=RawSQL(f"{name} IS NULL"))
            .order_by("sort_is_null", f"{direction}{name}", f"{direction}id")
            .offset(query.offset)
            .limit(query.limit)
        )
        return page, total

    async def _check_isbn_free(self, isbn: str | None, book_id: int | None = None) -> None:
        if isbn is None:
            return
        owner = await Book.get_or_none(isbn=isbn)
        if owner is not None and owner.id != book_id:
            raise AlreadyExists(f"ISBN {isbn} belongs to book {owner.id}")

    async def create_book(self, data: BookIn) -> Book:
        await self._check_isbn_free(data.isbn)
        now = utcnow()
        try:
            return await Book.create(**data.model_dump(), version=1, created_at=now, updated_at=now)
        except IntegrityError:
            raise AlreadyExists(f"ISBN {data.isbn} belongs to another book") from None

    async def update_book(
        self, book_id: int, changes: dict[str, Any], if_match: ETags | None
    ) -> Book:
        book = await self.get_book(book_id)
        check_version(book, if_match)
        if "isbn" in changes:
            await self._check_isbn_free(changes["isbn"], book_id)
        now = utcnow()
        # Compare-and-set on the version read above: of two writers that read the same version,
        # only one updates a row (optimistic concurrency, as SQLAlchemy's version_id_col).
        try:
            updated = await Book.filter(id=book_id, version=book.version).update(
                **changes, version=book.version + 1, updated_at=now
            )
        except IntegrityError:
            raise AlreadyExists(f"ISBN {changes.get('isbn')} belongs to another book") from None
        if updated != 1:
            raise VersionMismatch(f"book {book_id} was changed by another request")
        for name, value in changes.items():
            setattr(book, name, value)
        book.version += 1
        book.updated_at = now
        return book

    async def delete_book(self, book_id: int, if_match: ETags | None) -> None:
        book = await self.get_book(book_id)
        check_version(book, if_match)
        # Reviews and the cover go with the book: ON DELETE CASCADE in the schema.
        if not await Book.filter(id=book_id, version=book.version).delete():
            raise VersionMismatch(f"book {book_id} was changed by another request")

    async def list_reviews(
        self, book_id: int, page: PageQuery
    ) -> tuple[Sequence[tuple[Review, str]], int]:
        await self.get_book(book_id)
        reviews = Review.filter(book_id=book_id)
        total = await reviews.count()
        rows = (
            await reviews.select_related("user")
            .order_by("-created_at", "-id")
            .offset(page.offset)
            .limit(page.limit)
        )
        return [(review, review.user.username) for review in rows], total

    async def create_review(self, book_id: int, user: UserRow, data: ReviewIn) -> Review:
        await self.get_book(book_id)
        message = f"{user.username} has already reviewed book {book_id}"
        if await Review.exists(book_id=book_id, user_id=user.id):
            raise AlreadyExists(message)
        try:
            return await Review.create(
                book_id=book_id,
                user_id=user.id,
                rating=data.rating,
                text=data.text,
                created_at=utcnow(),
            )
        except IntegrityError as exc:
            if is_foreign_key_violation(exc):
                raise NotFound(f"book {book_id} does not exist") from None
            raise AlreadyExists(message) from None

    async def set_cover(self, book_id: int, media_type: str, data: bytes) -> None:
        await self.get_book(book_id)
        fields: dict[str, Any] = {
            "media_type": media_type,
            "data": data,
            "sha256": hashlib.sha256(data).hexdigest(),
            "updated_at": utcnow(),
        }
        # One INSERT … ON CONFLICT (book_id) DO UPDATE, as the legacy layer: concurrent first
        # uploads all succeed; a book deleted meanwhile fails the foreign key (404).
        try:
            await Cover.bulk_create(
                [Cover(book_id=book_id, **fields)],
                on_conflict=["book_id"],
                update_fields=list(fields),
            )
        except IntegrityError:
            raise NotFound(f"book {book_id} does not exist") from None

    async def get_cover(self, book_id: int) -> Cover:
        await self.get_book(book_id)
        cover = await Cover.get_or_none(book_id=book_id)
        if cover is None:
            raise NotFound(f"book {book_id} has no cover")
        return cover

    async def create_user(self, username: str, password_hash: str, *, is_admin: bool) -> User:
        if await User.exists(username=username):
            raise AlreadyExists(f"username {username} is taken")
        try:
            return await User.create(
                username=username,
                password_hash=password_hash,
                is_admin=is_admin,
                created_at=utcnow(),
            )
        except IntegrityError:
            raise AlreadyExists(f"username {username} is taken") from None

    async def find_user(self, username: str) -> User | None:
        # Tortoise checks a filter value against the column's max_length and raises (a 500)
        # where SQLAlchemy just finds nothing; a longer name cannot be stored, so it is no user.
        # Usernames are ASCII: "\u212aate".lower() is "kate" (KELVIN SIGN), and is no user.
        lowered = username.lower()
        if not username.isascii() or len(lowered) > USERNAME_MAX_LENGTH:
            return None
        return await User.get_or_none(username=lowered)

    async def get_user(self, user_id: int) -> User | None:
        return await self._get_by_id(User, user_id)

    async def make_admin(self, user: UserRow) -> None:
        await User.filter(id=user.id).update(is_admin=True)

    async def end_sessions(self, user_id: int, password_hash: str | None = None) -> int:
        """As :func:`legacy_flask.store.end_sessions`: one ``UPDATE``, then the new version."""
        values: dict[str, Any] = {"session_version": F("session_version") + 1}
        if password_hash is not None:
            values["password_hash"] = password_hash
        async with in_transaction():
            await User.filter(id=user_id).update(**values)
            user = await User.get_or_none(id=user_id)
        return user.session_version if user is not None else 0

    async def export_batches(self) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Yield all books as rows of :data:`EXPORT_COLUMNS`, ordered by id, in batches.

        Keyset pagination (``id > last``), one short query per batch, as the legacy layer.
        """
        last_id = 0
        while True:
            rows = (
                await Book.filter(id__gt=last_id)
                .order_by("id")
                .limit(EXPORT_BATCH_ROWS)
                .values_list(*EXPORT_COLUMNS)
            )
            if not rows:
                return
            yield [tuple(row) for row in rows]
            last_id = rows[-1][0]

    async def close(self) -> None:
        """Nothing to release: the app's Tortoise context owns the connections."""
