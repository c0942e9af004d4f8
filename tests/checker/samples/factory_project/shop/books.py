"""``/books`` under a blueprint prefix: the list is the prefix itself, ``@bp.get("")``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from collections.abc import Iterator

from flask import Blueprint  # error: QM101
from flask import Response  # error: QM101
from flask import jsonify  # error: QM101
from flask import request  # error: QM101
from sqlalchemy import select
from sqlalchemy.orm import Session

from shop.db import Book
from shop.extensions import db_session
from shop.extensions import session_factory

bp = Blueprint("books", __name__, url_prefix="/books")


class Hooks:
    """Named callbacks: ``@hooks.get("title")`` is no route."""

    def get(self, name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
        def register(func: Callable[..., str]) -> Callable[..., str]:
            return func

        return register


hooks = Hooks()


@hooks.get("title")
def title_hook(book: Book) -> str:  # ok: QM301
    return book.title


@bp.get("")
def list_books():  # error: QM301
    rows = db_session().scalars(select(Book)).all()  # error: QM416
    return jsonify([row.title for row in rows])


@bp.post("")
def create_book():  # error: QM301
    book = Book(title=request.get_json()["title"])  # error: QM201
    db_session().add(book)  # ok: QM416
    db_session().commit()  # error: QM416
    return jsonify({"id": book.id}), 201


@bp.get("<int:book_id>")
def get_book(book_id: int):  # error: QM301
    book = db_session().get(Book, book_id)  # error: QM416
    return jsonify({"title": book.title if book else None})


@bp.put("/<int:book_id>/cover")
def put_cover(book_id: int):  # error: QM301
    upload = request.files["file"]  # error: QM201
    # An upload is in memory or in a spooled temporary file; Quart reads it the same way.
    data = upload.stream.read()  # ok: QM406
    return jsonify({"id": book_id, "size": len(data)})


def title_batches(factory: Callable[[], Session]) -> Iterator[list[str]]:
    # A generator runs when the response is sent, in a thread under Quart.
    with factory() as session:
        yield list(session.scalars(select(Book.title)))  # ok: QM416


def csv_chunks(batches: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([title] for title in batch)
        yield buffer.getvalue()


def count_books() -> int:  # error: QM309
    return len(db_session().scalars(select(Book.id)).all())  # error: QM416


@bp.get("/export.csv")
def export_csv():  # error: QM301
    return Response(csv_chunks(title_batches(session_factory())), mimetype="text/csv")  # error: QM714


@bp.get("/titles.txt")
def export_titles():  # error: QM301
    titles = [book.title for book in db_session().scalars(select(Book))]  # error: QM416
    return Response((f"{title}\n" for title in titles), mimetype="text/plain")  # error: QM714


@bp.get("/count.txt")
def count():  # error: QM301
    return Response(str(count_books()), mimetype="text/plain")  # error: QM307  # ok: QM714
