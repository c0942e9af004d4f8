"""Views and helpers that block the event loop once they are async."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import bcrypt
import httpx
import psycopg2
import pymysql
import redis
import requests
from quart import Quart
from quart.utils import run_sync
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from migrate import run_sync as kit_run_sync

app = Quart(__name__)  # error: QM709
engine = create_engine("sqlite://")  # ok: QM416
cache = redis.Redis()  # ok: QM412
time.sleep(0)  # ok: QM401


@app.get("/slow")
async def slow():
    time.sleep(0.1)  # error: QM401
    await asyncio.sleep(0.1)  # ok: QM401
    await run_sync(time.sleep)(0.1)  # ok: QM401
    await asyncio.to_thread(time.sleep, 0.1)  # ok: QM401
    await kit_run_sync(lambda: time.sleep(0.1))()  # ok: QM401
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, lambda: requests.get("https://example.org"))  # ok: QM402
    return "ok"


@app.get("/http")
async def http():
    r = requests.get("https://example.org", timeout=5)  # error: QM402
    session = requests.Session()  # ok: QM402
    session.headers.update({"X": "1"})  # ok: QM402
    s = session.post("https://example.org/x", json={})  # error: QM402
    c = httpx.get("https://example.org")  # error: QM403
    with httpx.Client() as client:  # ok: QM403
        client.get("https://example.org")  # error: QM403
    async with httpx.AsyncClient() as aclient:
        await aclient.get("https://example.org")  # ok: QM403
    with urllib.request.urlopen("https://example.org") as page:  # error: QM404
        body = page.read()  # error: QM404
    return {"r": r.status_code, "s": s.status_code, "c": c.status_code, "b": len(body)}


@app.get("/files")
async def files():
    out = subprocess.check_output(["git", "rev-parse", "HEAD"])  # error: QM405
    os.system("true")  # error: QM405
    with open("/etc/hostname") as f:  # error: QM406
        name = f.read()  # error: QM406
    os.makedirs("/tmp/x", exist_ok=True)  # error: QM407
    exists = os.path.exists("/tmp/x")  # error: QM407
    shutil.copy("/tmp/a", "/tmp/b")  # error: QM407
    folder = Path("/tmp") / "books"  # ok: QM408
    text = (folder / "a.txt").read_text()  # error: QM408
    suffix = folder.with_suffix(".bak").name  # ok: QM408
    return {"out": out.decode(), "name": name, "exists": exists, "text": text, "s": suffix}


@app.get("/db")
async def databases():
    conn = sqlite3.connect("books.db")  # error: QM409
    rows = conn.execute("SELECT 1").fetchall()  # error: QM409
    pg = psycopg2.connect("dbname=books")  # error: QM410
    cur = pg.cursor()  # error: QM410
    cur.execute("SELECT 1")  # error: QM410
    my = pymysql.connect(host="db")  # error: QM411
    hits = cache.incr("hits")  # error: QM412
    with Session(engine) as session:  # ok: QM416
        session.execute("SELECT 1")  # error: QM416
    return {"rows": rows, "my": str(my), "hits": hits}


@app.post("/mail")
async def mail():
    with smtplib.SMTP("localhost") as smtp:  # error: QM413
        smtp.send_message("hello")  # error: QM413
    sock = socket.create_connection(("localhost", 25))  # error: QM414
    sock.sendall(b"x")  # error: QM414
    digest = hashlib.pbkdf2_hmac("sha256", b"p", b"s", 100_000)  # error: QM415
    quick = hashlib.sha256(b"x").hexdigest()  # ok: QM415
    hashed = await run_sync(bcrypt.hashpw)(b"p", bcrypt.gensalt())  # ok: QM415
    return {"d": digest.hex(), "q": quick, "h": hashed.decode()}


def save_book(session: Session, title: str) -> None:  # error: QM309
    session.add(title)  # ok: QM416
    session.flush()  # error: QM416


def count_books(session: Session | None) -> int:  # error: QM309
    return session.scalar("SELECT count(*)") if session else 0  # error: QM416


def offline_count(session: Session) -> int:
    return session.scalar("SELECT count(*)")  # ok: QM416


@app.post("/books")
async def create_book():
    with Session(engine) as session:  # ok: QM416
        save_book(session, "Dune")  # error: QM307
        return {"count": count_books(session)}  # error: QM307


def load_rates():  # error: QM309
    return requests.get("https://rates.example/latest").json()  # error: QM402


@app.get("/rates")
async def rates():
    return load_rates()  # error: QM307


def nightly_report():
    time.sleep(1)  # ok: QM401
    return requests.get("https://example.org").text  # ok: QM402


@run_sync
def export_books():
    time.sleep(1)  # ok: QM401
    return open("/tmp/books.csv").read()  # ok: QM406


def stream_rows():
    for line in open("/tmp/rows.csv"):  # ok: QM406
        yield line


@app.get("/export")
async def export():
    await export_books()
    return stream_rows(), 200


if __name__ == "__main__":
    nightly_report()
    subprocess.run(["echo", "done"])  # ok: QM405
