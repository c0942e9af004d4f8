"""``/books``: list, create, read, replace, patch and delete books, with ETags and page links."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart import Response
from quart import request
from quart_schema import validate_request
from quart_schema import validate_response
from werkzeug.datastructures import ETags
from werkzeug.datastructures import Headers

from legacy_flask.schemas import BookIn
from legacy_flask.schemas import BookOut
from legacy_flask.schemas import BookPage
from legacy_flask.schemas import BookPatch
from legacy_flask.schemas import BookQuery
from legacy_flask.schemas import BookRow
from legacy_flask.schemas import book_json
from legacy_flask.schemas import page_links
from quart_app import events
from quart_app.auth import admin_required
from quart_app.auth import login_required
from quart_app.extensions import data_layer
from quart_app.openapi import headers
from quart_app.openapi import links
from quart_app.openapi import problems
from quart_app.openapi import request_body
from quart_app.openapi import responds
from quart_app.responses import header_values
from quart_app.responses import no_content
from quart_app.responses import not_modified
from quart_app.validation import MERGE_PATCH_JSON
from quart_app.validation import json_body
from quart_app.validation import validate_query

bp = Blueprint("books", __name__, url_prefix="/books")


def if_match() -> ETags | None:
    """Return the request's ``If-Match`` tags, or ``None`` when it has no such header."""
    return request.if_match if "If-Match" in request.headers else None


def etag(book: BookRow) -> Headers:
    """Return the ``ETag`` header of a book: its version, quoted (a strong validator)."""
    return header_values(ETag=f'"{book.version}"')


@bp.get("")
@headers(200, "Link", required=False)
@problems(400)
@validate_query(BookQuery)
@validate_response(BookPage)
async def list_books(query_args: BookQuery) -> tuple[BookPage, int, Headers]:
    books, total = await data_layer().list_books(query_args)
    page = {
        "items": [book_json(book) for book in books],
        "total": total,
        "limit": query_args.limit,
        "offset": query_args.offset,
    }
    link = page_links(
        request.path, query_args.filters(), query_args.limit, query_args.offset, total
    )
    # A model, not a dict: see get_book.
    return BookPage.model_validate(page), 200, header_values(Link=link) if link else Headers()


@bp.post("")
@headers(201, "ETag", "Location")
@problems(400, 401, 409, 413, 415)
# A new book has no cover yet: GET /books/{book_id}/cover follows PUT of one (covers.py).
@links(
    201,
    "book_id",
    "$response.body#/id",
    "get_get_book",
    "put_replace_book",
    "patch_patch_book",
    "delete_delete_book",
    "get_list_reviews",
    "post_create_review",
    "put_put_cover",
    "get_availability",
)
@login_required
@json_body()
@validate_request(BookIn)
@validate_response(BookOut, 201)
async def create_book(data: BookIn) -> tuple[dict[str, Any], int, Headers]:
    book = await data_layer().create_book(data)
    body = book_json(book)
    events.publish("book.created", book.id, body)
    headers = etag(book)
    headers["Location"] = f"/books/{book.id}"
    return body, 201, headers


@bp.get("/<id:book_id>")
@headers(200, "ETag")
@headers(304, "ETag")
@responds(304)
@problems(404)
@validate_response(BookOut)
async def get_book(book_id: int) -> tuple[BookOut, int, Headers] | Response:
    book = await data_layer().get_book(book_id)
    if request.if_none_match.contains_weak(str(book.version)):
        return not_modified(str(book.version))
    # A BookOut, not a dict: quart-schema validates a dict through a TypeAdapter(BookOut) it
    # builds on every response (about 10 µs of CPU), and passes a BookOut instance as it is.
    return BookOut.model_validate(book_json(book)), 200, etag(book)


@bp.put("/<id:book_id>")
@headers(200, "ETag")
@problems(400, 401, 404, 409, 412, 413, 415)
@login_required
@json_body()
@validate_request(BookIn)
@validate_response(BookOut)
async def replace_book(book_id: int, data: BookIn) -> tuple[dict[str, Any], int, Headers]:
    book = await data_layer().update_book(book_id, data.model_dump(), if_match())
    body = book_json(book)
    events.publish("book.updated", book.id, body)
    return body, 200, etag(book)


@bp.patch("/<id:book_id>")
@headers(200, "ETag")
@problems(400, 401, 404, 409, 412, 413, 415)
@request_body(MERGE_PATCH_JSON)
@login_required
@json_body(merge_patch=True)
@validate_request(BookPatch)
@validate_response(BookOut)
async def patch_book(book_id: int, data: BookPatch) -> tuple[dict[str, Any], int, Headers]:
    book = await data_layer().update_book(book_id, data.changes(), if_match())
    body = book_json(book)
    events.publish("book.updated", book.id, body)
    return body, 200, etag(book)


@bp.delete("/<id:book_id>")
@responds(204)
@problems(401, 403, 404, 412)
@admin_required
async def delete_book(book_id: int) -> Response:
    await data_layer().delete_book(book_id, if_match())
    events.publish("book.deleted", book_id, {"id": book_id})
    return no_content()
