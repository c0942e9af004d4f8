"""``/books``: list, create, read, replace, patch and delete books, with ETags and page links."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from werkzeug.datastructures import ETags

from legacy_flask import store
from legacy_flask.auth import admin_required
from legacy_flask.auth import login_required
from legacy_flask.extensions import db_session
from legacy_flask.models import Book
from legacy_flask.responses import no_content
from legacy_flask.responses import not_modified
from legacy_flask.schemas import BookIn
from legacy_flask.schemas import BookPatch
from legacy_flask.schemas import BookQuery
from legacy_flask.schemas import book_json
from legacy_flask.schemas import page_links
from legacy_flask.validation import json_body
from legacy_flask.validation import query_args

bp = Blueprint("books", __name__, url_prefix="/books")


def if_match() -> ETags | None:
    """Return the request's ``If-Match`` tags, or ``None`` when it has no such header."""
    return request.if_match if "If-Match" in request.headers else None


def book_response(book: Book, status: int = 200) -> Response:
    """Return the Book with its ``ETag`` (``"<version>"``)."""
    response = jsonify(book_json(book))
    response.status_code = status
    response.set_etag(str(book.version))
    return response


@bp.get("")
def list_books() -> Response:
    query = query_args(BookQuery)
    books, total = store.list_books(db_session(), query)
    response = jsonify(
        {
            "items": [book_json(book) for book in books],
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
        }
    )
    link = page_links(request.path, query.filters(), query.limit, query.offset, total)
    if link:
        response.headers["Link"] = link
    return response


@bp.post("")
@login_required
def create_book() -> Response:
    data = json_body(BookIn)
    book = store.create_book(db_session(), data)
    db_session().commit()
    response = book_response(book, 201)
    response.headers["Location"] = f"/books/{book.id}"
    return response


@bp.get("/<id:book_id>")
def get_book(book_id: int) -> Response:
    book = store.get_book(db_session(), book_id)
    if request.if_none_match.contains_weak(str(book.version)):
        return not_modified(str(book.version))
    return book_response(book)


@bp.put("/<id:book_id>")
@login_required
def replace_book(book_id: int) -> Response:
    data = json_body(BookIn)
    book = store.update_book(db_session(), book_id, data.model_dump(), if_match())
    db_session().commit()
    return book_response(book)


@bp.patch("/<id:book_id>")
@login_required
def patch_book(book_id: int) -> Response:
    patch = json_body(BookPatch, merge_patch=True)
    book = store.update_book(db_session(), book_id, patch.changes(), if_match())
    db_session().commit()
    return book_response(book)


@bp.delete("/<id:book_id>")
@admin_required
def delete_book(book_id: int) -> Response:
    store.delete_book(db_session(), book_id, if_match())
    db_session().commit()
    return no_content()
