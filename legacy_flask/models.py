"""SQLAlchemy 2.0 models: the bookstore's tables and columns.

``quart_app`` maps the same tables with Tortoise ORM, so a row written by one app is read by the
other: change a column here and in ``quart_app/models.py`` together (``docs/database.md``).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, ISO text on SQLite.

    SQLite keeps no offset, so values are converted to UTC before they are stored and read
    back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a UTC-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names that are the same on SQLite and PostgreSQL."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    """An account; ``username`` is stored lower-cased, so uniqueness is case-insensitive."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Signed into every session cookie and compared on each request; adding 1 ends every
    #: session issued before (logout, password change).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Book(Base):
    """A book; ``version`` starts at 1 and is the ETag (see :func:`legacy_flask.store.update_book`)."""

    __tablename__ = "books"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200), index=True)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    isbn: Mapped[str | None] = mapped_column(String(13), unique=True)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The ORM adds "AND version = :old" to every UPDATE and DELETE of a book and bumps it: two
    # writers that read the same version cannot both succeed (optimistic concurrency).
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)

    reviews: Mapped[list[Review]] = relationship(
        back_populates="book", cascade="all, delete-orphan", passive_deletes=True
    )
    cover: Mapped[Cover | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Review(Base):
    """A rating (1–5) and text by one user; one review per user per book."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("book_id", "user_id", name="uq_reviews_book_id_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    book: Mapped[Book] = relationship(back_populates="reviews")
    user: Mapped[User] = relationship()


class Cover(Base):
    """A book's cover image, stored in the database with its media type and SHA-256."""

    __tablename__ = "covers"

    book_id: Mapped[int] = mapped_column(
        ForeignKey("books.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
