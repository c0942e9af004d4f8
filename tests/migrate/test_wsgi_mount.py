"""mount_wsgi: migrated Quart routes and legacy Flask routes on one app, one session."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
import quart
import werkzeug.routing
from hypercorn.asyncio import serve
from hypercorn.config import Config

from migrate import WorkerPool
from migrate import WSGIFallback
from migrate import mount_wsgi
from migrate import run_async

SECRET = "shared-secret-for-tests"


async def inventory_lookup(isbn: str) -> str:
    """The new app's async client, which legacy code reaches through run_async."""
    await asyncio.sleep(0)
    return f"{isbn}:3 in stock"


def create_legacy_app() -> flask.Flask:
    app = flask.Flask("legacy")
    app.config["SECRET_KEY"] = SECRET

    @app.post("/login")
    def login() -> str:
        flask.session["user"] = flask.request.form["user"]
        return "logged in"

    @app.get("/legacy/hello")
    def hello() -> dict[str, Any]:
        return {
            "user": flask.session.get("user"),
            "thread": threading.current_thread().name,
        }

    @app.post("/books")
    def add_book() -> tuple[str, int]:
        return f"flask added {flask.request.get_data(as_text=True)}", 201

    @app.get("/legacy/stock/<isbn>")
    def stock(isbn: str) -> str:
        return run_async(inventory_lookup)(isbn)

    @app.get("/legacy/stream")
    def stream() -> flask.Response:
        return flask.Response(f"chunk {n}\n" for n in range(3))

    return app


def create_migrated_app(pool: WorkerPool) -> quart.Quart:
    app = quart.Quart("migrated")
    app.config["SECRET_KEY"] = SECRET
    pool.init_app(app)

    @app.get("/api/me")
    async def me() -> dict[str, Any]:
        return {"user": quart.session.get("user"), "side": "quart"}

    @app.post("/api/rename")
    async def rename() -> str:
        quart.session["user"] = (await quart.request.form)["user"]
        return "renamed"

    @app.get("/books")
    async def list_books() -> str:
        return "quart books"

    mount_wsgi(app, create_legacy_app())
    return app


@pytest.fixture
def migrated(pool_name: str) -> tuple[quart.Quart, WorkerPool]:
    pool = WorkerPool(4, name=pool_name)
    return create_migrated_app(pool), pool


async def test_one_login_is_shared_both_ways(migrated: tuple[quart.Quart, WorkerPool]) -> None:
    app, pool = migrated
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.post("/login", form={"user": "ada"})).status_code == 200

        # Flask signed the cookie; Quart reads it.
        assert await (await client.get("/api/me")).get_json() == {"user": "ada", "side": "quart"}

        # Quart re-signs it; Flask reads it.
        await client.post("/api/rename", form={"user": "grace"})
        legacy = await (await client.get("/legacy/hello")).get_json()
        assert legacy["user"] == "grace"
        assert legacy["thread"].startswith(f"{pool.name}_")
    assert pool.stats().completed == 2  # The two Flask requests, counted by the pool.


async def test_quart_routes_win_and_other_methods_fall_through(
    migrated: tuple[quart.Quart, WorkerPool],
) -> None:
    app, _ = migrated
    async with app.test_app() as test_app:
        client = test_app.test_client()
        listed = await client.get("/books")
        added = await client.post("/books", data="Dune")
        missing = await client.get("/nowhere")

        assert await listed.get_data(as_text=True) == "quart books"
        assert (added.status_code, await added.get_data(as_text=True)) == (201, "flask added Dune")
        assert missing.status_code == 404
        assert "Not Found" in await missing.get_data(as_text=True)  # Flask's own 404 page.


async def test_routes_added_after_mounting_are_served_by_quart(
    migrated: tuple[quart.Quart, WorkerPool],
) -> None:
    app, _ = migrated

    @app.get("/legacy/hello")
    async def migrated_hello() -> str:
        return "now in quart"

    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/legacy/hello")
        assert await response.get_data(as_text=True) == "now in quart"


async def test_legacy_code_reaches_the_apps_async_client(
    migrated: tuple[quart.Quart, WorkerPool],
) -> None:
    app, _ = migrated
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/legacy/stock/42")
        assert await response.get_data(as_text=True) == "42:3 in stock"


async def test_streamed_legacy_responses_arrive_whole(
    migrated: tuple[quart.Quart, WorkerPool],
) -> None:
    app, _ = migrated
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/legacy/stream")
        assert await response.get_data(as_text=True) == "chunk 0\nchunk 1\nchunk 2\n"


def test_mismatched_session_settings_are_refused() -> None:
    legacy = create_legacy_app()
    app = quart.Quart("migrated")
    app.config["SECRET_KEY"] = "another secret"
    with pytest.raises(ValueError, match="SECRET_KEY"):
        mount_wsgi(app, legacy)


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
async def served(
    migrated: tuple[quart.Quart, WorkerPool], listening_socket: socket.socket
) -> AsyncIterator[str]:
    """Serve the migrated app with Hypercorn on one real port; yield its base URL."""
    app, _ = migrated
    host, port = listening_socket.getsockname()
    config = Config()
    # Hypercorn adopts the already listening socket, so requests queue until it accepts.
    config.bind = [f"fd://{listening_socket.detach()}"]
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    yield f"http://{host}:{port}"
    stop.set()
    await server


async def test_one_process_one_port_logged_in_once(served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        login = await client.post("/login", data={"user": "ada"})
        assert login.status_code == 200

        me = await client.get("/api/me")
        legacy = await client.get("/legacy/hello")
        added = await client.post("/books", content=b"Dune")

    assert me.json() == {"user": "ada", "side": "quart"}
    assert legacy.json()["user"] == "ada"
    assert (added.status_code, added.text) == (201, "flask added Dune")


@pytest.mark.parametrize(
    ("method", "path", "root_path", "to_quart"),
    [
        ("GET", "/books", "", True),
        ("HEAD", "/books", "", True),
        ("OPTIONS", "/books", "", True),
        ("POST", "/books", "", False),  # Quart has the path, not the method.
        ("GET", "/shelves", "", True),  # Quart answers with a redirect to /shelves/.
        ("GET", "/api/books", "/api", True),  # Mounted under a root path.
        ("GET", "/nowhere", "", False),
    ],
)
def test_routing_decisions(method: str, path: str, root_path: str, to_quart: bool) -> None:
    app = quart.Quart("migrated")

    @app.get("/books")
    async def books() -> str:
        return ""

    @app.get("/shelves/")
    async def shelves() -> str:
        return ""

    fallback = mount_wsgi(app, flask.Flask("legacy"))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "scheme": "http",
        "headers": [(b"host", b"bookstore.example")],
    }
    assert fallback.routes_to_asgi(scope) is to_quart


async def test_a_cancelled_streaming_request_lets_its_thread_finish(pool_name: str) -> None:
    legacy = flask.Flask("legacy")

    @legacy.get("/export")
    def export() -> flask.Response:
        return flask.Response(f"row {n}\n" for n in range(1000))

    pool = WorkerPool(1, name=pool_name)
    fallback = WSGIFallback(
        quart.Quart("migrated").asgi_app, legacy, url_map=werkzeug.routing.Map(), pool=pool
    )
    first_chunk = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def stalled_client(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            first_chunk.set()
            await asyncio.Event().wait()  # A client that stops reading.

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/export",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    request = asyncio.create_task(fallback(scope, receive, stalled_client))
    await first_chunk.wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request

    async with asyncio.timeout(30):  # A guard: without the fix the thread waits forever.
        await pool.aclose()
    stats = pool.stats()
    assert (stats.orphaned, stats.completed, stats.running) == (1, 1, 0)


def _static_apps(tmp_path: Any, quart_static: str | None) -> quart.Quart:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("body { color: teal }")
    legacy = flask.Flask("legacy", root_path=str(tmp_path))
    legacy.config["SECRET_KEY"] = SECRET

    @legacy.get("/legacy/page")
    def page() -> str:
        return "flask page"

    kwargs: dict[str, Any] = {} if quart_static == "default" else {"static_folder": quart_static}
    app = quart.Quart("migrated", root_path=str(tmp_path / "new"), **kwargs)
    app.config["SECRET_KEY"] = SECRET

    @app.get("/new")
    async def new() -> str:
        # A template of the Quart app pointing at a page Flask still serves.
        return await quart.render_template_string("{{ url_for('page') }}")

    mount_wsgi(app, legacy, pool=WorkerPool(2, name="static"))
    return app


async def test_quart_takes_the_static_path_unless_its_static_folder_is_none(
    tmp_path: Any,
) -> None:
    # Quart(__name__) registers /static/<path:filename> for its own (here missing)
    # folder: the Flask app's static files behind mount_wsgi are never reached.
    shadowed = _static_apps(tmp_path, "default")
    async with shadowed.test_app() as test_app:
        response = await test_app.test_client().get("/static/site.css")
        assert response.status_code == 404
    (tmp_path / "b").mkdir()
    passed = _static_apps(tmp_path / "b", None)
    async with passed.test_app() as test_app:
        response = await test_app.test_client().get("/static/site.css")
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == "body { color: teal }"


async def test_quart_templates_cannot_url_for_an_endpoint_flask_still_serves(
    tmp_path: Any,
) -> None:
    app = _static_apps(tmp_path, None)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    async with app.test_app() as test_app:
        with pytest.raises(werkzeug.routing.BuildError):
            await test_app.test_client().get("/new")
        # The path itself works: Flask answers it.
        page = await test_app.test_client().get("/legacy/page")
        assert await page.get_data(as_text=True) == "flask page"
