"""``/books`` under a blueprint prefix, migrated: async views, async session, timed streams."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from quart import Blueprint  # ok: QM101
from quart import Response  # ok: QM101
from quart import jsonify  # ok: QM101
from quart import request  # ok: QM101
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from shop.db import Book
from shop.extensions import db_session
from shop.extensions import session_factory

bp = Blueprint("books", __name__, url_prefix="/books")


@bp.get("")
async def list_books():  # ok: QM301
    rows = (await db_session().scalars(select(Book))).all()  # ok: QM416
    return jsonify([row.title for row in rows])


@bp.post("")
async def create_book():  # ok: QM301
    book = Book(title=(await request.get_json())["title"])  # ok: QM201
    db_session().add(book)  # ok: QM416
    await db_session().commit()  # ok: QM416
    return jsonify({"id": book.id}), 201


@bp.get("<int:book_id>")
async def get_book(book_id: int):  # ok: QM301
    book = await db_session().get(Book, book_id)  # ok: QM416
    return jsonify({"title": book.title if book else None})


@bp.put("/<int:book_id>/cover")
async def put_cover(book_id: int):  # ok: QM301
    upload = (await request.files)["file"]  # ok: QM201
    data = upload.stream.read()  # ok: QM406
    return jsonify({"id": book_id, "size": len(data)})


async def title_batches(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[list[str]]:
    async with factory() as session:
        yield list(await session.scalars(select(Book.title)))  # ok: QM416


async def csv_chunks(batches: AsyncIterator[list[str]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    async for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([title] for title in batch)
        yield buffer.getvalue()


async def count_books() -> int:  # ok: QM309
    return len((await db_session().scalars(select(Book.id))).all())  # ok: QM416


@bp.get("/export.csv")
async def export_csv():  # ok: QM301
    response = Response(csv_chunks(title_batches(session_factory())), mimetype="text/csv")  # ok: QM714
    # A large export to a slow client takes longer than RESPONSE_TIMEOUT (60 s).
    response.timeout = None
    return response


@bp.get("/titles.txt")
async def export_titles():  # ok: QM301
    titles = [book.title for book in await db_session().scalars(select(Book))]  # ok: QM416
    response = Response((f"{title}\n" for title in titles), mimetype="text/plain")  # ok: QM714
    response.timeout = 300
    return response


@bp.get("/count.txt")
async def count():  # ok: QM301
    return Response(str(await count_books()), mimetype="text/plain")  # ok: QM307, QM714
