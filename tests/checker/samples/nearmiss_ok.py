"""Migrated Quart code and look-alikes that no rule may report."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import urllib.parse
from io import BytesIO

import aiosmtplib
import asyncpg
import httpx
import psycopg
import redis.asyncio
from quart import Quart
from quart import Response
from quart import current_app
from quart import request
from quart import send_from_directory
from quart import stream_with_context
from quart.ctx import AppContext  # ok: QM105
from quart.globals import app_ctx  # ok: QM105
from quart.testing import QuartClient  # ok: QM104
from quart.utils import run_sync
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import create_async_engine

app = Quart(__name__)
app.config["PREFER_SECURE_URLS"] = True  # ok: QM708
app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # ok: QM709
engine = create_async_engine("sqlite+aiosqlite://")  # ok: QM416
cache = redis.asyncio.Redis()  # ok: QM412


@app.get("/files/<path:name>")
async def files(name: str):  # ok: QM301
    return await send_from_directory(current_app.config["FILES"], file_name=name)  # ok: QM206


@app.get("/favicon.ico")
async def favicon():  # ok: QM301
    return await current_app.send_static_file("favicon.ico")  # ok: QM207


@app.get("/context")
async def context():  # ok: QM301
    ctx = current_app.app_context()
    await ctx.push()  # ok: QM212
    try:
        stack = [1, 2, 3]
        stack.pop()  # ok: QM212
        return {"path": request.path, "ctx": type(app_ctx).__name__}  # ok: QM201, QM705
    finally:
        await ctx.pop()  # ok: QM212


@app.get("/mail")
async def mail():  # ok: QM301
    template = current_app.jinja_env.get_template("mail.txt")
    body = await template.render_async(user="a")  # ok: QM213
    await aiosmtplib.send(body, hostname="localhost")  # ok: QM413
    reader, writer = await asyncio.open_connection("localhost", 25)  # ok: QM414
    writer.close()  # ok: QM414
    return {"sent": True, "local": socket.gethostname()}  # ok: QM414


@app.get("/external")
async def external():  # ok: QM301
    async with httpx.AsyncClient() as client:  # ok: QM403
        response = await client.get("https://example.org")  # ok: QM403, QM404
    query = urllib.parse.urlencode({"q": "x"})  # ok: QM404
    return {"status": response.status_code, "query": query}  # ok: QM607


@app.get("/pg")
async def pg():  # ok: QM301
    conn = await psycopg.AsyncConnection.connect("dbname=books")  # ok: QM410
    pool = await asyncpg.create_pool("postgres://")  # ok: QM410, QM411
    async with AsyncSession(engine) as session:  # ok: QM416
        await session.execute("SELECT 1")  # ok: QM416
    hits = await cache.incr("hits")  # ok: QM412
    return {"conn": str(conn), "pool": str(pool), "hits": hits}


@app.get("/stream")
async def stream():  # ok: QM301
    @stream_with_context
    async def generate():  # ok: QM308
        yield "a"

    return generate(), 200  # ok: QM308


@app.get("/bytes")
async def download():  # ok: QM301
    buffer = BytesIO(b"data")
    return Response(buffer.getvalue())  # ok: QM406


def mail_from_a_thread():
    with smtplib.SMTP("localhost") as smtp:  # ok: QM413
        smtp.noop()  # ok: QM413


@app.post("/offload")
async def offload():  # ok: QM301
    await run_sync(mail_from_a_thread)()  # ok: QM307, QM413
    await asyncio.to_thread(mail_from_a_thread)  # ok: QM307, QM413
    app.add_background_task(mail_from_a_thread)  # ok: QM413
    return {"ok": True}


async def serve_asgi(scope, receive, send):
    await app.asgi_app(scope, receive, send)  # ok: QM106


class Client(QuartClient):  # ok: QM104
    pass


def quart_flask_patch_mentioned_in_text():
    return "quart_flask_patch was removed"  # ok: QM503


wsgi_app_name = "wsgi_app"  # ok: QM106
ctx_type = AppContext  # ok: QM105
