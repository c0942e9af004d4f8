"""Request and response shapes of the bookstore contract, as pydantic models.

Framework-free and shared by both apps: ``legacy_flask`` validates with these models directly,
``quart_app`` hands them to quart-schema, so both report the same per-field errors.
Field rules are the contract's (``shared/bookstore-api.md``, "Resources").
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Annotated
from typing import Any
from typing import Literal
from typing import Protocol
from urllib.parse import urlencode

from pydantic import AfterValidator
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import StringConstraints
from pydantic import ValidationError
from pydantic import ValidationInfo
from pydantic import field_validator

from legacy_flask.isbn import normalize_isbn

#: Largest id a path or query may carry: ids are 64-bit integers in both databases.
MAX_ID = 2**63 - 1

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Author = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Year = Annotated[int, Field(ge=1000, le=2100)]
PriceCents = Annotated[int, Field(ge=0, le=100_000_000)]
Isbn = Annotated[str, AfterValidator(normalize_isbn)]
Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_]+$"),
    AfterValidator(str.lower),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]

#: Writable fields of a book, in the order of the CSV export and of the JSON object.
BOOK_FIELDS = ("title", "author", "year", "isbn", "price_cents")
SORT_KEYS = ("id", "title", "year", "created_at")


class _Body(BaseModel):
    # Strict: "1999" is not a year and 1.0 is not a price; unknown fields are rejected so that
    # id, version and timestamps can never be written (no mass assignment).
    model_config = ConfigDict(extra="forbid", strict=True)


class BookIn(_Body):
    """Body of ``POST /books`` and ``PUT /books/{id}``: title and author required."""

    title: Title
    author: Author
    year: Year | None = None
    isbn: Isbn | None = None
    price_cents: PriceCents = 0


class BookPatch(_Body):
    """Body of ``PATCH /books/{id}``, a JSON merge patch (RFC 7396).

    Absent fields stay as they are; ``null`` clears ``year`` or ``isbn``. Use
    :meth:`changes` for the fields the client sent.
    """

    title: Title | None = None
    author: Author | None = None
    year: Year | None = None
    isbn: Isbn | None = None
    price_cents: PriceCents | None = None

    @field_validator("title", "author", "price_cents", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields the patch contains: null may clear year and isbn, nothing else.
        if value is None:
            raise ValueError(f"{info.field_name} cannot be null")
        return value

    def changes(self) -> dict[str, Any]:
        """Return ``{field: new value}`` for the fields present in the patch."""
        return {name: getattr(self, name) for name in BOOK_FIELDS if name in self.model_fields_set}


class ReviewIn(_Body):
    """Body of ``POST /books/{id}/reviews``."""

    rating: Annotated[int, Field(ge=1, le=5)]
    text: Annotated[str, StringConstraints(max_length=5000)] = ""


class Credentials(_Body):
    """Body of ``POST /auth/register`` and ``POST /auth/login``; usernames are lower-cased."""

    username: Username
    password: Password


class LoginIn(_Body):
    """Body of ``POST /auth/login``: any strings; a username that cannot exist just fails (401)."""

    username: Annotated[str, StringConstraints(max_length=256)]
    password: Annotated[str, StringConstraints(max_length=1024)]


class PasswordChange(_Body):
    """Body of ``POST /auth/password``: the password in use, and the new one (as registered)."""

    current_password: Annotated[str, StringConstraints(max_length=1024)]
    new_password: Password


class PageQuery(BaseModel):
    """``limit`` (1–100, default 20) and ``offset`` (≥ 0) of a listing; other keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class BookQuery(PageQuery):
    """Query of ``GET /books``: filters, sort key (``-`` prefix for descending) and page."""

    q: Annotated[str, StringConstraints(max_length=300)] | None = None
    author: Annotated[str, StringConstraints(max_length=200)] | None = None
    year: Year | None = None
    sort: Literal["id", "-id", "title", "-title", "year", "-year", "created_at", "-created_at"] = (
        "id"
    )

    def filters(self) -> dict[str, str | int]:
        """Return the filters and sort key that were given, for building page links."""
        keys = ("q", "author", "year")
        given: dict[str, str | int] = {
            k: getattr(self, k) for k in keys if getattr(self, k) is not None
        }
        if "sort" in self.model_fields_set:
            given["sort"] = self.sort
        return given


_OBJECT_EXPECTED = "Input should be a JSON object"


class BookOut(BaseModel):
    """A Book as the API returns it (timestamps are RFC 3339 strings in UTC)."""

    id: int
    title: str
    author: str
    year: int | None
    isbn: str | None
    price_cents: int
    version: int
    created_at: str
    updated_at: str


class BookPage(BaseModel):
    """``GET /books``: one page of books and the number of all matches."""

    items: list[BookOut]
    total: int
    limit: int
    offset: int


class ReviewOut(BaseModel):
    """A Review as the API returns it."""

    id: int
    book_id: int
    rating: int
    text: str
    reviewer: str
    created_at: str


class ReviewPage(BaseModel):
    """``GET /books/{id}/reviews``: one page of reviews, newest first."""

    items: list[ReviewOut]
    total: int
    limit: int
    offset: int


class UserOut(BaseModel):
    """``{"username", "is_admin"}``."""

    username: str
    is_admin: bool


class HealthOut(BaseModel):
    """``GET /health``."""

    status: str
    database: str


class Stock(BaseModel):
    """The inventory service's answer: ``{"isbn": str, "in_stock": int ≥ 0}``."""

    isbn: str
    in_stock: Annotated[int, Field(ge=0, strict=True)]


class AvailabilityOut(BaseModel):
    """``GET /books/{id}/availability``."""

    book_id: int
    isbn: str
    in_stock: int
    checked_at: str


class ProblemError(BaseModel):
    """One entry of a validation problem's ``errors``: where (``["body", "year"]``) and why."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem document, the body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None


def field_errors(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    """Turn a pydantic error into the contract's ``errors`` list.

    :param exc: the error raised by ``model_validate``.
    :param where: ``"body"`` or ``"query"``, the first element of every ``loc``.

    :returns: one entry per bad field, in pydantic's order:
        ``[{"loc": [where, "year"], "msg": "Input should be less than or equal to 2100"}, …]``.
    """
    return [
        {
            "loc": [where, *error["loc"]],
            "msg": _OBJECT_EXPECTED
            if error["type"] in ("model_type", "model_attributes_type", "dict_type")
            else error["msg"].removeprefix("Value error, "),
        }
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def rfc3339(moment: datetime) -> str:
    """Format ``moment`` as RFC 3339 in UTC with a ``Z`` suffix, to the microsecond.

    A naive datetime is taken to be UTC already (SQLite stores no offset).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class BookRow(Protocol):
    """What :func:`book_json` reads: a SQLAlchemy or a Tortoise book."""

    id: int
    title: str
    author: str
    year: int | None
    isbn: str | None
    price_cents: int
    version: int
    created_at: datetime
    updated_at: datetime


class ReviewRow(Protocol):
    """What :func:`review_json` reads: a SQLAlchemy or a Tortoise review."""

    id: int
    book_id: int
    rating: int
    text: str
    created_at: datetime


def book_json(book: BookRow) -> dict[str, Any]:
    """Return the contract's Book object for a row of either ORM."""
    return {
        "id": book.id,
        "title": book.title,
        "author": book.author,
        "year": book.year,
        "isbn": book.isbn,
        "price_cents": book.price_cents,
        "version": book.version,
        "created_at": rfc3339(book.created_at),
        "updated_at": rfc3339(book.updated_at),
    }


def review_json(review: ReviewRow, reviewer: str) -> dict[str, Any]:
    """Return the contract's Review object; ``reviewer`` is the author's username."""
    return {
        "id": review.id,
        "book_id": review.book_id,
        "rating": review.rating,
        "text": review.text,
        "reviewer": reviewer,
        "created_at": rfc3339(review.created_at),
    }


def page_links(path: str, params: dict[str, str | int], limit: int, offset: int, total: int) -> str:
    """Return an RFC 8288 ``Link`` value with ``rel="next"``/``rel="prev"`` where they exist.

    Targets are relative references (``</books?limit=20&offset=20>``), so they hold behind any
    proxy and are the same from both apps. Returns ``""`` when the page has no neighbours.
    """
    links = []
    if offset + limit < total:
        query = urlencode({**params, "limit": limit, "offset": offset + limit})
        links.append(f'<{path}?{query}>; rel="next"')
    if offset > 0:
        query = urlencode({**params, "limit": limit, "offset": max(offset - limit, 0)})
        links.append(f'<{path}?{query}>; rel="prev"')
    return ", ".join(links)
