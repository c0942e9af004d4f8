"""Near misses of the real-app rules: Quart code and look-alikes that must stay silent."""

import asyncio
import logging

from quart import Quart
from quart import Response
from quart import g
from quart import session  # ok: QM721
from quart.sessions import SecureCookieSessionInterface  # ok: QM721
from quart_auth import QuartAuth
from quart_cors import cors

app = Quart(__name__)  # ok: QM102, QM505
app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024  # ok: QM709
app = cors(app, allow_origin="*")  # ok: QM505
auth = QuartAuth(app)  # ok: QM505
logging.getLogger("quart.app").setLevel(logging.INFO)  # ok: QM716
logging.getLogger("werkzeug.security")  # ok: QM716
patch_all = None  # ok: QM715
monkey_patch = lambda: None  # ok: QM715  # noqa: E731


class Query:
    def all(self):
        return []


class Model:
    query = Query()


def helper():
    return Model.query.all()  # ok: QM416 (not on the loop, and no SQLAlchemy)


async def ticks():
    for _ in range(3):
        await asyncio.sleep(0)
        yield "data: tick\n\n"


@app.get("/ticks")
async def events():  # ok: QM301
    response = Response(ticks(), mimetype="text/event-stream")  # ok: QM417, QM714, QM717
    response.timeout = None
    return response


@app.get("/headers")
async def headers():  # ok: QM301
    from quart import request

    return {"host": request.headers.get("Host"), "scope": request.scope["type"]}  # ok: QM705


def response_like(resp):
    resp.close()  # ok: QM717
    return resp.environ  # ok: QM705


async def test_like(client):  # ok: QM306, QM608
    response = await client.get("/ticks")
    assert response.status_code == 200  # ok: QM609
    assert b"tick" in await response.get_data()  # ok: QM609, QM607


if __name__ == "__main__":
    app.run(port=5000, use_reloader=False)  # ok: QM720
    runner = object()
    runner.run()  # ok: QM720


@app.get("/me")
async def me():
    g.session_read = True
    return {"user": session.get("user")}


@app.after_request
async def vary_on_cookie(response):
    # QM721's advice done: the answers that read the session vary on the cookie.
    if g.get("session_read"):
        response.vary.add("Cookie")
    return response
