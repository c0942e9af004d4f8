"""The bookstore's data layer on SQLAlchemy 2.0: every read and write the views need.

Framework-free: each function takes an open :class:`~sqlalchemy.orm.Session`, flushes but never
commits (the caller owns the unit of work), and raises the HTTP exceptions of
:mod:`legacy_flask.problems`. ``legacy_flask`` calls it with one session per request;
``quart_app``'s stage-1 mode calls it inside one worker-thread call per unit of work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import ETags

from legacy_flask.models import Book
from legacy_flask.models import Cover
from legacy_flask.models import Review
from legacy_flask.models import User
from legacy_flask.problems import AlreadyExists
from legacy_flask.problems import NotFound
from legacy_flask.problems import VersionMismatch
from legacy_flask.schemas import BookIn
from legacy_flask.schemas import BookQuery
from legacy_flask.schemas import BookRow
from legacy_flask.schemas import PageQuery
from legacy_flask.schemas import ReviewIn
from legacy_flask.schemas import utcnow

#: Rows the CSV export reads per query.
EXPORT_BATCH_ROWS = 500
#: Columns of the CSV export, in order (the contract's header row).
EXPORT_COLUMNS = (
    "id",
    "title",
    "author",
    "year",
    "isbn",
    "price_cents",
    "created_at",
    "updated_at",
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_book(session: Session, book_id: int) -> Book:
    """Return book ``book_id``; raise :class:`NotFound` (404) when there is none."""
    book = session.get(Book, book_id)
    if book is None:
        raise NotFound(f"book {book_id} does not exist")
    return book


def list_books(session: Session, query: BookQuery) -> tuple[Sequence[Book], int]:
    """Return one page of books matching ``query`` and the number of all matches.

    ``q`` matches a substring of title or author and ``author`` the whole author, both
    case-insensitively (SQLite folds ASCII letters only); ``%`` and ``_`` match themselves.
    Ties break by id (descending with a descending sort); books without a year come last.
    """
    conditions: list[ColumnElement[bool]] = []
    if query.q:
        pattern = f"%{_escape_like(query.q)}%"
        conditions.append(
            or_(Book.title.ilike(pattern, escape="\\"), Book.author.ilike(pattern, escape="\\"))
        )
    if query.author is not None:
        conditions.append(Book.author.ilike(_escape_like(query.author), escape="\\"))
    if query.year is not None:
        conditions.append(Book.year == query.year)
    column = getattr(Book, query.sort.lstrip("-"))
    descending = query.sort.startswith("-")
    # Books without a year sort last both ways (SQLite and PostgreSQL disagree by default).
    order = (column.is_(None).asc(), column.desc() if descending else column.asc())
    tiebreak = Book.id.desc() if descending else Book.id.asc()
    total = session.scalar(select(func.count(Book.id)).where(*conditions)) or 0
    page = session.scalars(
        select(Book)
        .where(*conditions)
        .order_by(*order, tiebreak)
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    return page, total


def _check_isbn_free(session: Session, isbn: str | None, book_id: int | None = None) -> None:
    if isbn is None:
        return
    owner = session.scalar(select(Book.id).where(Book.isbn == isbn))
    if owner is not None and owner != book_id:
        raise AlreadyExists(f"ISBN {isbn} belongs to book {owner}")


def _flush(session: Session, book: Book) -> None:
    # The check before the write gives a clear message; this catches the writer that raced it.
    # Read what the messages need first: the rollback expires the book, and loading it again
    # inside a unit of work's ``session.begin()`` block (quart_app.threaded) raises.
    book_id, isbn = book.id, book.isbn
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists(f"ISBN {isbn} belongs to another book") from None
    except StaleDataError:
        session.rollback()
        raise VersionMismatch(f"book {book_id} was changed by another request") from None


def create_book(session: Session, data: BookIn) -> Book:
    """Insert a book at version 1; raise :class:`AlreadyExists` (409) for a taken ISBN."""
    _check_isbn_free(session, data.isbn)
    now = utcnow()
    book = Book(**data.model_dump(), version=1, created_at=now, updated_at=now)
    session.add(book)
    _flush(session, book)
    return book


def check_version(book: BookRow, if_match: ETags | None) -> None:
    """Raise :class:`VersionMismatch` (412) unless ``If-Match`` names the book's ETag.

    ``if_match`` is ``None`` when the request had no ``If-Match`` header; ``*`` matches any
    version. Comparison is strong (RFC 9110 §13.1.1).
    """
    if if_match is not None and not if_match.contains(str(book.version)):
        raise VersionMismatch(
            f'If-Match does not match the current version of book {book.id} (ETag "{book.version}")'
        )


def update_book(
    session: Session, book_id: int, changes: dict[str, Any], if_match: ETags | None
) -> Book:
    """Apply ``changes`` (field → value) to a book and bump its version.

    Used for PUT (every writable field) and PATCH (the merge patch's fields).

    :raises NotFound: no such book (404).
    :raises VersionMismatch: ``If-Match`` fails, or a concurrent writer bumped the version
        (412).
    :raises AlreadyExists: the new ISBN belongs to another book (409).
    """
    book = get_book(session, book_id)
    check_version(book, if_match)
    if "isbn" in changes:
        _check_isbn_free(session, changes["isbn"], book_id)
    for name, value in changes.items():
        setattr(book, name, value)
    book.updated_at = utcnow()
    _flush(session, book)
    return book


def delete_book(session: Session, book_id: int, if_match: ETags | None) -> None:
    """Delete a book with its reviews and cover (404 missing, 412 ``If-Match`` fails)."""
    book = get_book(session, book_id)
    check_version(book, if_match)
    session.delete(book)
    _flush(session, book)


def list_reviews(
    session: Session, book_id: int, page: PageQuery
) -> tuple[Sequence[tuple[Review, str]], int]:
    """Return ``([(review, reviewer username)], total)`` for a book, newest first (404 missing)."""
    get_book(session, book_id)
    total = session.scalar(select(func.count(Review.id)).where(Review.book_id == book_id)) or 0
    rows = session.execute(
        select(Review, User.username)
        .join(User, Review.user_id == User.id)
        .where(Review.book_id == book_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    return [(review, username) for review, username in rows], total


def create_review(session: Session, book_id: int, user: User, data: ReviewIn) -> Review:
    """Add ``user``'s review of a book (404 missing book, 409 when they reviewed it already)."""
    get_book(session, book_id)
    taken = session.scalar(
        select(Review.id).where(Review.book_id == book_id, Review.user_id == user.id)
    )
    if taken is not None:
        raise AlreadyExists(f"{user.username} has already reviewed book {book_id}")
    review = Review(
        book_id=book_id, user_id=user.id, rating=data.rating, text=data.text, created_at=utcnow()
    )
    session.add(review)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if is_foreign_key_violation(exc.orig):
            raise NotFound(f"book {book_id} does not exist") from None
        raise AlreadyExists(f"{user.username} has already reviewed book {book_id}") from None
    return review


def is_foreign_key_violation(error: BaseException | None) -> bool:
    """Tell whether a driver's integrity error is a foreign key violation: a row refers to a
    row that another transaction deleted meanwhile (404), not a duplicate (409).

    PostgreSQL says so by SQLSTATE 23503 (psycopg's ``sqlstate``, asyncpg's ``sqlstate``);
    SQLite only in its message (``FOREIGN KEY constraint failed``).
    """
    while error is not None:
        if getattr(error, "sqlstate", None) == "23503" or "FOREIGN KEY" in str(error).upper():
            return True
        error = error.__cause__
    return False


def set_cover(session: Session, book_id: int, media_type: str, data: bytes) -> None:
    """Store (or replace) a book's cover; its ETag is the SHA-256 of ``data`` (404 missing book).

    One ``INSERT … ON CONFLICT (book_id) DO UPDATE`` (SQLite and PostgreSQL), so that
    concurrent first uploads of one book's cover all succeed, the last one winning; a book
    deleted meanwhile fails the foreign key and is a 404.
    """
    get_book(session, book_id)
    fields = {
        "media_type": media_type,
        "data": data,
        "sha256": hashlib.sha256(data).hexdigest(),
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Cover).values(book_id=book_id, **fields)
    statement = statement.on_conflict_do_update(index_elements=[Cover.book_id], set_=fields)
    try:
        session.execute(statement)
    except IntegrityError:
        session.rollback()
        raise NotFound(f"book {book_id} does not exist") from None


def get_cover(session: Session, book_id: int) -> Cover:
    """Return a book's cover; :class:`NotFound` (404) when the book or its cover is missing."""
    get_book(session, book_id)
    cover = session.get(Cover, book_id)
    if cover is None:
        raise NotFound(f"book {book_id} has no cover")
    return cover


def create_user(session: Session, username: str, password_hash: str, *, is_admin: bool) -> User:
    """Insert a user (``username`` already lower-cased); :class:`AlreadyExists` (409) if taken."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(f"username {username} is taken")
    user = User(
        username=username, password_hash=password_hash, is_admin=is_admin, created_at=utcnow()
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists(f"username {username} is taken") from None
    return user


def find_user(session: Session, username: str) -> User | None:
    """Return the user called ``username`` (compared lower-cased), or ``None``.

    Usernames are ASCII: a name with other characters is no user, even where Unicode
    lower-casing would turn it into one (``"\u212aate".lower() == "kate"``, KELVIN SIGN).
    """
    if not username.isascii():
        return None
    return session.scalar(select(User).where(User.username == username.lower()))


def get_user(session: Session, user_id: int) -> User | None:
    """Return user ``user_id`` or ``None``."""
    return session.get(User, user_id)


def end_sessions(session: Session, user_id: int, password_hash: str | None = None) -> int:
    """Add 1 to the user's session version, so that every session issued before is refused.

    :param password_hash: also store this as the user's new password hash.
    :returns: the new session version (0 when the user does not exist).
    """
    values: dict[str, object] = {"session_version": User.session_version + 1}
    if password_hash is not None:
        values["password_hash"] = password_hash
    session.execute(update(User).where(User.id == user_id).values(values))
    version = session.scalar(select(User.session_version).where(User.id == user_id))
    return version or 0


def export_batches(
    new_session: Callable[[], Session], batch_rows: int = EXPORT_BATCH_ROWS
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield all books as rows of :data:`EXPORT_COLUMNS`, ordered by id, ``batch_rows`` at a time.

    Each batch is read in its own short session by keyset pagination (``id > last``), so no
    session or transaction stays open while the caller streams a batch to a slow client.
    """
    columns = [getattr(Book, name) for name in EXPORT_COLUMNS]
    last_id = 0
    while True:
        with new_session() as session:
            rows = session.execute(
                select(*columns).where(Book.id > last_id).order_by(Book.id).limit(batch_rows)
            ).all()
        if not rows:
            return
        yield [tuple(row) for row in rows]
        last_id = rows[-1][0]


def find_book_by_isbn(session: Session, isbn: str) -> Book | None:
    """Return the book with the 13-digit ``isbn``, or ``None``."""
    return session.scalar(select(Book).where(Book.isbn == isbn))
