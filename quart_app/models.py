"""Tortoise ORM models on the bookstore's tables (``docs/database.md``).

The same tables and columns as ``legacy_flask/models.py``: a row written by either app is read
by the other. The tables themselves are created from the SQLAlchemy metadata (one DDL for both
apps), so these models describe columns and never generate a schema.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

#: Longest username the ``users`` table holds (the contract: 3–32 characters).
USERNAME_MAX_LENGTH = 32


class User(Model):
    """An account; ``username`` is stored lower-cased, so uniqueness is case-insensitive."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=USERNAME_MAX_LENGTH, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    session_version = fields.IntField(default=1)

    class Meta:
        table = "users"


class Book(Model):
    """A book; ``version`` starts at 1, is the ETag, and every update adds 1."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=300)
    author = fields.CharField(max_length=200)
    year = fields.IntField(null=True)
    isbn = fields.CharField(max_length=13, null=True, unique=True)
    price_cents = fields.IntField(default=0)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "books"


class Review(Model):
    """A rating (1–5) and text by one user; one review per user per book."""

    id = fields.IntField(primary_key=True)
    book: fields.ForeignKeyRelation[Book] = fields.ForeignKeyField(
        "models.Book", related_name="reviews", on_delete=fields.CASCADE, source_field="book_id"
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviews", on_delete=fields.CASCADE, source_field="user_id"
    )
    rating = fields.SmallIntField()
    text = fields.TextField(default="")
    created_at = fields.DatetimeField()

    book_id: int
    user_id: int

    class Meta:
        table = "reviews"
        unique_together = (("book", "user"),)


class Cover(Model):
    """A book's cover image, stored in the database with its media type and SHA-256."""

    book: fields.OneToOneRelation[Book] = fields.OneToOneField(
        "models.Book",
        related_name="cover",
        on_delete=fields.CASCADE,
        source_field="book_id",
        primary_key=True,
    )
    media_type = fields.CharField(max_length=32)
    data = fields.BinaryField()
    sha256 = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField()

    book_id: int

    class Meta:
        table = "covers"
