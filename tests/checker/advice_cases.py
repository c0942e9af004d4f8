"""Advice is code: for each rule, a program, the edit its message asks for, and a run.

Each :class:`Case` is a small program that is already Quart except for the one pattern
the rule reports. ``edits`` are the change the rule's message asks for, as text
replacements; the harness (``test_advice.py``) checks that the message names the new
code, that the finding is gone once the edits are made, and that the edited program
runs to its end (its own assertions drive the app with Quart's test client). Where
``fails_before`` is set, the unedited program must fail, so the case shows the bug.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

HEAD = """import asyncio

from quart import Quart
from quart import request

app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
"""


@dataclass(frozen=True)
class Case:
    """One rule's advice applied: ``edits`` turn ``program`` into the fixed program."""

    code: str
    program: str
    edits: tuple[tuple[str, str], ...]
    #: Text the rule's message must contain: the advice that the edits carry out.
    advice: str
    fails_before: bool = True
    #: Further files of the project, written beside ``app.py``: (relative path, text). The
    #: checker reads the whole folder, and an edit may fall in any of its files.
    files: tuple[tuple[str, str], ...] = ()
    #: The environment variable naming a server the program talks to (its URL); the case
    #: runs where it is set, as the rest of the suite's tests of that server do.
    service: str | None = None
    #: Files renamed once the edits are made: (old path, new path).
    renames: tuple[tuple[str, str], ...] = ()
    #: Where set, the files are Flask: the rest of the port is ``migrate check --fix`` with
    #: these codes' fixes held back (the rule's own, and any other fix that would make the
    #: same edit), and the edits are made, and the program run, on its output. The edits
    #: are made on the Flask files too, where they must clear the finding.
    convert: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        """Whether the program talks TCP on loopback: a server it starts, or a service's."""
        text = self.program + "".join(text for _, text in self.files)
        return self.service is not None or "127.0.0.1" in text


#: Flask-Limiter on a Quart app, replaced as QM501 and QM505 advise.
LIMITER = (
    HEAD.replace(
        "from quart import request",
        "from datetime import timedelta\n\nfrom flask_limiter import Limiter\n"
        "from flask_limiter.util import get_remote_address\n"
        "from quart_rate_limiter import RateLimiter\nfrom quart_rate_limiter import rate_limit",
    )
    + """
limiter = Limiter(get_remote_address, app=app)


@app.post("/login")
@limiter.limit("1/minute")
async def login():
    return "ok"


async def main():
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.post("/login")).status_code == 200
        assert (await client.post("/login")).status_code == 429


asyncio.run(main())
"""
)
LIMITER_EDITS = (
    ("from flask_limiter import Limiter\n", ""),
    ("from flask_limiter.util import get_remote_address\n", ""),
    ("limiter = Limiter(get_remote_address, app=app)", "RateLimiter(app)"),
    ('@limiter.limit("1/minute")', "@rate_limit(1, timedelta(minutes=1))"),
)


CASES = (
    Case(
        "QM201",
        HEAD
        + """

@app.post("/books")
async def create():
    form = request.form
    return {"title": form["title"]}


async def main():
    response = await app.test_client().post("/books", form={"title": "Dune"})
    assert response.status_code == 200, response.status_code
    assert await response.get_json() == {"title": "Dune"}


asyncio.run(main())
""",
        (("form = request.form", "form = await request.form"),),
        "await request.form",
    ),
    Case(
        "QM201",
        HEAD
        + """

@app.post("/books")
async def create():
    data = request.get_json()
    return {"title": data["title"]}


async def main():
    response = await app.test_client().post("/books", json={"title": "Dune"})
    assert response.status_code == 200, response.status_code


asyncio.run(main())
""",
        (("data = request.get_json()", "data = await request.get_json()"),),
        "await request.get_json()",
    ),
    Case(
        "QM203",
        HEAD.replace("from quart import request", "from quart import render_template_string")
        + """

@app.get("/")
async def index():
    return render_template_string("<p>{{ n }}</p>", n=3)


async def main():
    response = await app.test_client().get("/")
    assert await response.get_data(as_text=True) == "<p>3</p>"


asyncio.run(main())
""",
        (("return render_template_string(", "return await render_template_string("),),
        "await render_template_string(",
    ),
    Case(
        "QM204",
        HEAD.replace("from quart import request", "from quart import make_response")
        + """

@app.get("/")
async def index():
    response = make_response("hello", 201)
    response.headers["X-Shelf"] = "3"
    return response


async def main():
    response = await app.test_client().get("/")
    assert response.status_code == 201 and response.headers["X-Shelf"] == "3"


asyncio.run(main())
""",
        (("response = make_response(", "response = await make_response("),),
        "await make_response(",
    ),
    Case(
        "QM205",
        HEAD.replace("from quart import request", "import io\n\nfrom quart import send_file")
        + """

@app.get("/cover")
async def cover():
    return send_file(io.BytesIO(b"GIF89a"), mimetype="image/gif")


async def main():
    response = await app.test_client().get("/cover")
    assert await response.get_data() == b"GIF89a"


asyncio.run(main())
""",
        (("return send_file(", "return await send_file("),),
        "await send_file(",
    ),
    Case(
        "QM208",
        HEAD.replace(
            "from quart import request",
            "from quart import flash\nfrom quart import get_flashed_messages",
        )
        + """
app.secret_key = "k"


@app.post("/save")
async def save():
    flash("saved")
    return {"messages": get_flashed_messages()}


async def main():
    response = await app.test_client().post("/save")
    assert await response.get_json() == {"messages": ["saved"]}


asyncio.run(main())
""",
        (('    flash("saved")', '    await flash("saved")'),),
        "await flash(",
    ),
    Case(
        "QM601",
        HEAD
        + """

@app.get("/")
async def index():
    return "ok"


async def test_index():
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 200


asyncio.run(test_index())
""",
        (("response = client.get(", "response = await client.get("),),
        "await client.get(",
    ),
    Case(
        "QM603",
        HEAD
        + """

@app.post("/login")
async def login():
    form = await request.form
    return {"user": form.get("user")}


async def test_login():
    client = app.test_client()
    response = await client.post("/login", data={"user": "ada"})
    assert await response.get_json() == {"user": "ada"}


asyncio.run(test_login())
""",
        (('data={"user": "ada"}', 'form={"user": "ada"}'),),
        "form=",
    ),
    Case(
        "QM604",
        HEAD
        + """

@app.post("/upload")
async def upload():
    return {"type": request.content_type}


async def test_upload():
    client = app.test_client()
    response = await client.post("/upload", data="a,b", content_type="text/csv")
    assert (await response.get_json())["type"] == "text/csv"


asyncio.run(test_upload())
""",
        (('content_type="text/csv"', "headers={'Content-Type': 'text/csv'}"),),
        "headers={'Content-Type': ...}",
    ),
    Case(
        "QM605",
        HEAD
        + """

@app.get("/search")
async def search():
    return {"q": request.args["q"]}


async def test_search():
    client = app.test_client()
    response = await client.get("/search", query_string="q=flask")
    assert await response.get_json() == {"q": "flask"}


asyncio.run(test_search())
""",
        (('query_string="q=flask"', "query_string={'q': 'flask'}"),),
        "query_string={'key': 'value'}",
    ),
    Case(
        "QM606",
        HEAD
        + """

@app.get("/theme")
async def theme():
    return {"theme": request.cookies.get("theme")}


async def test_theme():
    client = app.test_client()
    client.set_cookie("theme", "dark")
    response = await client.get("/theme")
    assert await response.get_json() == {"theme": "dark"}


asyncio.run(test_theme())
""",
        (
            (
                'client.set_cookie("theme", "dark")',
                "client.set_cookie('localhost', 'theme', 'dark')",
            ),
        ),
        "set_cookie('localhost', ",
    ),
    Case(
        "QM607",
        HEAD
        + """

@app.get("/")
async def index():
    return "Log In"


async def test_index():
    client = app.test_client()
    response = await client.get("/")
    assert response.status_code == 200
    assert b"Log In" in response.data


asyncio.run(test_index())
""",
        (('b"Log In" in response.data', 'b"Log In" in await response.data'),),
        "await response.data",
    ),
    Case(
        "QM602",
        HEAD.replace("from quart import request", "from quart import session")
        + """
app.secret_key = "k"


@app.get("/me")
async def me():
    return {"uid": session.get("uid")}


async def test_me():
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["uid"] = 7
    response = await client.get("/me")
    assert await response.get_json() == {"uid": 7}


asyncio.run(test_me())
""",
        (("    with client.session_transaction()", "    async with client.session_transaction()"),),
        "async with client.session_transaction()",
    ),
    Case(
        "QM609",
        HEAD
        + """

@app.post("/register")
async def register():
    return "already registered"


async def test_register_twice():
    client = app.test_client()
    response = await client.post("/register")
    assert b"already registered" in await response.get_data()


asyncio.run(test_register_twice())
""",
        (
            (
                '    assert b"already registered"',
                '    assert response.status_code == 200\n    assert b"already registered"',
            ),
        ),
        "response.status_code",
        fails_before=False,
    ),
    Case(
        "QM401",
        HEAD.replace("import asyncio\n", "import asyncio\nimport time\n")
        + """

@app.get("/slow")
async def slow():
    time.sleep(0.01)
    return "done"


async def main():
    response = await app.test_client().get("/slow")
    assert await response.get_data() == b"done"


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (("    time.sleep(0.01)", "    await asyncio.sleep(0.01)"),),
        "await asyncio.sleep(",
    ),
    Case(
        "QM415",
        HEAD.replace(
            "from quart import request",
            "from quart import request\nfrom werkzeug.security import check_password_hash\n"
            "from werkzeug.security import generate_password_hash\n\nfrom migrate import run_sync",
        )
        + """

@app.post("/users")
async def create_user():
    password = (await request.form)["password"]
    digest = generate_password_hash(password)
    return {"ok": await run_sync(check_password_hash)(digest, password)}


async def main():
    response = await app.test_client().post("/users", form={"password": "s3cret"})
    assert await response.get_json() == {"ok": True}


asyncio.run(main())
""",
        (
            (
                "digest = generate_password_hash(password)",
                "digest = await run_sync(generate_password_hash)(password)",
            ),
        ),
        "await run_sync(func)(...)",
        fails_before=False,
    ),
    Case(
        "QM710",
        HEAD.replace("import asyncio\n", "import asyncio\nimport os\n")
        + """
os.environ["FLASK_SHELF"] = "7"
app.config.from_prefixed_env()


async def main():
    assert app.config["SHELF"] == 7


asyncio.run(main())
""",
        (("app.config.from_prefixed_env()", "app.config.from_prefixed_env(prefix='FLASK')"),),
        "prefix='FLASK'",
    ),
    Case(
        "QM705",
        HEAD
        + """

@app.get("/addr")
async def addr():
    return {"scheme": request.environ["wsgi.url_scheme"]}


async def main():
    response = await app.test_client().get("/addr")
    assert await response.get_json() == {"scheme": "http"}


asyncio.run(main())
""",
        (('request.environ["wsgi.url_scheme"]', 'request.scope["scheme"]'),),
        "request.scope",
    ),
    Case(
        "QM717",
        HEAD.replace(
            "from quart import request", "from quart import Response\nfrom quart import current_app"
        )
        + """
closed = []


@app.get("/file")
async def download():
    response = Response(b"data")
    response.call_on_close(lambda: closed.append(True))
    return response


async def main():
    async with app.test_app() as test_app:
        response = await test_app.test_client().get("/file")
        assert response.status_code == 200
    assert closed == [True]


asyncio.run(main())
""",
        (
            (
                "response.call_on_close(lambda: closed.append(True))",
                "current_app.add_background_task(closed.append, True)",
            ),
        ),
        "current_app.add_background_task(func)",
    ),
    Case(
        "QM417",
        HEAD.replace("from quart import request", "from quart import Response")
        + """

def events():
    for n in range(3):
        yield f"data: {n}\\n\\n"


@app.get("/events")
async def stream():
    response = Response(events(), mimetype="text/event-stream")
    response.timeout = None
    return response


async def main():
    response = await app.test_client().get("/events")
    assert await response.get_data(as_text=True) == "data: 0\\n\\ndata: 1\\n\\ndata: 2\\n\\n"


asyncio.run(main())
""",
        (("def events():", "async def events():"),),
        "async def",
        fails_before=False,
    ),
    Case(
        "QM714",
        HEAD.replace("from quart import request", "from quart import Response")
        + """
# A short app-wide limit, so the cut shows in a test (the default is 60 s).
app.config.update({"RESPONSE_" "TIMEOUT": 0.2})


async def rows():
    yield "a,b\\n"
    await asyncio.sleep(0.5)
    yield "c,d\\n"


@app.get("/export.csv")
async def export():
    response = Response(rows(), mimetype="text/csv")
    return response


async def main():
    response = await app.test_client().get("/export.csv")
    assert await response.get_data(as_text=True) == "a,b\\nc,d\\n"


asyncio.run(main())
""",
        (
            (
                '    response = Response(rows(), mimetype="text/csv")\n',
                '    response = Response(rows(), mimetype="text/csv")\n'
                "    response.timeout = None\n",
            ),
        ),
        "response.timeout = None",
    ),
    Case(
        "QM709",
        HEAD.replace('app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024\n', "")
        + """

@app.post("/upload")
async def upload():
    return {"size": len(await request.get_data())}


async def main():
    body = b"x" * (17 * 1024 * 1024)
    response = await app.test_client().post("/upload", data=body)
    assert response.status_code == 200, response.status_code


asyncio.run(main())
""",
        (
            (
                "app = Quart(__name__)\n",
                "app = Quart(__name__)\napp.config['MAX_CONTENT_LENGTH'] = 64 * 1024 * 1024\n",
            ),
        ),
        "MAX_CONTENT_LENGTH",
    ),
    Case(
        "QM608",
        HEAD.replace("import asyncio\n", "import unittest\n")
        + """

@app.get("/books")
async def books():
    return {"total": 0}


class BooksTest(unittest.TestCase):
    def test_list(self):
        client = app.test_client()
        response = client.get("/books")
        assert response.status_code == 200


suite = unittest.defaultTestLoader.loadTestsFromTestCase(BooksTest)
result = unittest.TextTestRunner().run(suite)
assert result.testsRun == 1 and result.wasSuccessful(), result
""",
        (
            (
                "class BooksTest(unittest.TestCase):",
                "class BooksTest(unittest.IsolatedAsyncioTestCase):",
            ),
            ("    def test_list(self):", "    async def test_list(self):"),
            ("response = client.get(", "response = await client.get("),
        ),
        "unittest.IsolatedAsyncioTestCase",
    ),
    Case(
        "QM102",
        HEAD.replace("from quart import Quart\n", "from flask import Flask\n").replace(
            "app = Quart(__name__)", "app = Flask(__name__)"
        )
        + """

@app.get("/")
async def index():
    return "ok"


async def main():
    response = await app.test_client().get("/")
    assert response.status_code == 200


asyncio.run(main())
""",
        (
            ("from flask import Flask\n", "from quart import Quart\n"),
            ("app = Flask(__name__)", "app = Quart(__name__)"),
        ),
        "from quart import Quart",
    ),
    Case(
        "QM101",
        HEAD.replace("from quart import request", "from flask import jsonify")
        + """

@app.get("/")
async def index():
    return jsonify(total=3)


async def main():
    response = await app.test_client().get("/")
    assert await response.get_json() == {"total": 3}


asyncio.run(main())
""",
        (("from flask import jsonify", "from quart import jsonify"),),
        "import from `quart`",
    ),
    Case(
        "QM206",
        HEAD.replace(
            "from quart import request",
            "from pathlib import Path\n\nfrom quart import send_from_directory",
        )
        + """
FOLDER = Path(__file__).parent
(FOLDER / "note.txt").write_text("hello")


@app.get("/files/<name>")
async def files(name):
    return send_from_directory(FOLDER, name)


async def main():
    response = await app.test_client().get("/files/note.txt")
    assert await response.get_data() == b"hello"


asyncio.run(main())
""",
        (("return send_from_directory(", "return await send_from_directory("),),
        "await send_from_directory(",
    ),
    Case(
        "QM209",
        HEAD.replace("from quart import request", "from pathlib import Path")
        + """
(Path(app.root_path) / "data.txt").write_text("shelf 3")


@app.get("/data")
async def data():
    with app.open_resource("data.txt") as f:
        return f.read()


async def main():
    response = await app.test_client().get("/data")
    assert await response.get_data() == b"shelf 3"


asyncio.run(main())
""",
        (
            (
                '    with app.open_resource("data.txt") as f:',
                '    async with await app.open_resource("data.txt") as f:',
            ),
            ("        return f.read()", "        return await f.read()"),
        ),
        "async with await app.open_resource(path) as f:",
    ),
    Case(
        "QM210",
        HEAD.replace(
            "from quart import request",
            "from pathlib import Path\n\nfrom quart import request\nfrom werkzeug.datastructures import FileStorage",
        )
        + """
DEST = Path(__file__).with_name("upload.bin")


@app.post("/upload")
async def upload():
    (await request.files)["f"].save(DEST)
    return {"size": DEST.stat().st_size}


async def main():
    upload = FileStorage(stream=__import__("io").BytesIO(b"12345"), filename="a.bin")
    response = await app.test_client().post("/upload", files={"f": upload})
    assert await response.get_json() == {"size": 5}, await response.get_data()


asyncio.run(main())
""",
        (
            (
                '    (await request.files)["f"].save(DEST)',
                '    await (await request.files)["f"].save(DEST)',
            ),
        ),
        ".save(path)",
    ),
    Case(
        "QM211",
        HEAD
        + """
from quart import current_app


async def seed():
    with app.app_context():
        return current_app.name


assert asyncio.run(seed()) == app.name
""",
        (("    with app.app_context():", "    async with app.app_context():"),),
        "async with app.app_context(...)",
    ),
    Case(
        "QM212",
        HEAD
        + """

async def path_of():
    ctx = app.test_request_context("/books")
    ctx.push()
    try:
        return request.path
    finally:
        ctx.pop()


assert asyncio.run(path_of()) == "/books"
""",
        (
            ("    ctx.push()", "    await ctx.push()"),
            ("        ctx.pop()", "        await ctx.pop()"),
        ),
        "await ctx.push()",
    ),
    Case(
        "QM213",
        HEAD
        + """

@app.get("/")
async def index():
    template = app.jinja_env.from_string("{{ 1 + 2 }}")
    return template.render()


async def main():
    response = await app.test_client().get("/")
    assert await response.get_data() == b"3"


asyncio.run(main())
""",
        (("return template.render()", "return await template.render_async()"),),
        "await template.render_async(...)",
    ),
    Case(
        "QM304",
        HEAD.replace("from quart import request", "import functools")
        + """

def logged(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    return wrapper


@app.get("/")
@logged
async def index():
    return "ok"


async def main():
    response = await app.test_client().get("/")
    assert await response.get_data() == b"ok"


asyncio.run(main())
""",
        (
            ("    def wrapper(*args, **kwargs):", "    async def wrapper(*args, **kwargs):"),
            ("        return view(*args, **kwargs)", "        return await view(*args, **kwargs)"),
        ),
        "must become `async def` and await the view",
    ),
    Case(
        "QM406",
        HEAD.replace("from quart import request", "from pathlib import Path\n\nimport aiofiles")
        + """
NOTE = Path(__file__).with_name("note.txt")
NOTE.write_text("hi")


@app.get("/note")
async def note():
    with open(NOTE) as f:
        return f.read()


async def main():
    response = await app.test_client().get("/note")
    assert await response.get_data() == b"hi"


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (
            ("    with open(NOTE) as f:", "    async with aiofiles.open(NOTE) as f:"),
            ("        return f.read()", "        return await f.read()"),
        ),
        "aiofiles.open",
    ),
    Case(
        "QM407",
        HEAD.replace(
            "from quart import request", "import os\nfrom pathlib import Path\n\nimport aiofiles.os"
        )
        + """
BASE = Path(__file__).parent


@app.post("/shelves/<name>")
async def shelf(name):
    os.makedirs(BASE / name, exist_ok=True)
    return {"made": (BASE / name).is_dir()}


async def main():
    response = await app.test_client().post("/shelves/sci-fi")
    assert await response.get_json() == {"made": True}


asyncio.run(main())
""",
        (("    os.makedirs(BASE / name", "    await aiofiles.os.makedirs(BASE / name"),),
        "aiofiles.os",
        fails_before=False,
    ),
    Case(
        "QM408",
        HEAD.replace("from quart import request", "from pathlib import Path\n\nimport anyio")
        + """
NOTE = Path(__file__).with_name("note.txt")
NOTE.write_text("hi")


@app.get("/note")
async def note():
    return Path(NOTE).read_text()


async def main():
    response = await app.test_client().get("/note")
    assert await response.get_data() == b"hi"


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (("return Path(NOTE).read_text()", "return await anyio.Path(NOTE).read_text()"),),
        "anyio.Path",
    ),
    Case(
        "QM405",
        HEAD.replace("from quart import request", "import subprocess\nimport sys")
        + """

@app.get("/version")
async def version():
    out = subprocess.check_output([sys.executable, "-c", "print(42)"])
    return out.strip()


async def main():
    response = await app.test_client().get("/version")
    assert await response.get_data() == b"42"


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (
            (
                '    out = subprocess.check_output([sys.executable, "-c", "print(42)"])',
                "    proc = await asyncio.create_subprocess_exec(\n"
                '        sys.executable, "-c", "print(42)", stdout=asyncio.subprocess.PIPE\n'
                "    )\n"
                "    out, _ = await proc.communicate()",
            ),
        ),
        "await asyncio.create_subprocess_exec(...)",
    ),
    Case(
        "QM409",
        HEAD.replace("from quart import request", "import sqlite3\n\nimport aiosqlite")
        + """

@app.get("/answer")
async def answer():
    db = sqlite3.connect(":memory:")
    row = db.execute("select 6 * 7").fetchone()
    return {"answer": row[0]}


async def main():
    response = await app.test_client().get("/answer")
    assert await response.get_json() == {"answer": 42}


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (
            (
                '    db = sqlite3.connect(":memory:")\n    row = db.execute("select 6 * 7").fetchone()',
                '    db = await aiosqlite.connect(":memory:")\n'
                '    row = await (await db.execute("select 6 * 7")).fetchone()\n'
                "    await db.close()",
            ),
        ),
        "await aiosqlite.connect(...)",
    ),
    Case(
        "QM706",
        HEAD.replace("from quart import request", "from werkzeug.test import Client")
        + """

@app.get("/")
async def index():
    return "ok"


async def main():
    client = Client(app)
    response = await client.get("/")
    assert response.status_code == 200


asyncio.run(main())
""",
        (
            ("from werkzeug.test import Client\n", ""),
            ("    client = Client(app)", "    client = app.test_client()"),
        ),
        "app.test_client()",
    ),
    Case(
        "QM701",
        HEAD.replace(
            "from quart import request",
            "from quart import request\nfrom hypercorn.middleware import ProxyFixMiddleware\n"
            "from werkzeug.middleware.proxy_fix import ProxyFix",
        )
        + """
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)


@app.get("/ip")
async def ip():
    return {"ip": request.remote_addr}


async def main():
    client = app.test_client()
    response = await client.get("/ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert await response.get_json() == {"ip": "203.0.113.9"}


asyncio.run(main())
""",
        (
            ("from werkzeug.middleware.proxy_fix import ProxyFix\n", ""),
            (
                "app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)",
                'app.asgi_app = ProxyFixMiddleware(app.asgi_app, mode="legacy", trusted_hops=1)',
            ),
        ),
        "hypercorn.middleware.ProxyFixMiddleware(app.asgi_app",
    ),
    Case(
        "QM403",
        HEAD.replace("from quart import request", "import httpx")
        + """

def stock(request):
    return httpx.Response(200, json={"in_stock": 3})


TRANSPORT = httpx.MockTransport(stock)


@app.get("/stock")
async def view_stock():
    with httpx.Client(transport=TRANSPORT) as client:
        reply = client.get("http://inventory.test/stock/42")
    return reply.json()


async def main():
    response = await app.test_client().get("/stock")
    assert await response.get_json() == {"in_stock": 3}


asyncio.run(main())
""",
        (
            (
                "    with httpx.Client(transport=TRANSPORT) as client:\n"
                '        reply = client.get("http://inventory.test/stock/42")',
                "    async with httpx.AsyncClient(transport=TRANSPORT) as client:\n"
                '        reply = await client.get("http://inventory.test/stock/42")',
            ),
        ),
        "httpx.AsyncClient",
        fails_before=False,
    ),
    Case(
        "QM306",
        HEAD
        + """

def title():
    return request.form["title"]


@app.post("/books")
async def create():
    return {"title": title()}


async def main():
    response = await app.test_client().post("/books", form={"title": "Dune"})
    assert await response.get_json() == {"title": "Dune"}


asyncio.run(main())
""",
        (
            (
                "def title():\n    return request.form",
                "async def title():\n    return (await request.form)",
            ),
            ('{"title": title()}', '{"title": await title()}'),
        ),
        "must become `async def`",
    ),
    Case(
        "QM305",
        HEAD
        + """

def title():
    return request.form["title"]


def book():
    return {"title": title()}


@app.post("/books")
async def create():
    return book()


async def main():
    response = await app.test_client().post("/books", form={"title": "Dune"})
    assert await response.get_json() == {"title": "Dune"}


asyncio.run(main())
""",
        (
            (
                "def title():\n    return request.form",
                "async def title():\n    return (await request.form)",
            ),
            (
                'def book():\n    return {"title": title()}',
                'async def book():\n    return {"title": await title()}',
            ),
            ("    return book()", "    return await book()"),
        ),
        "which becomes async",
    ),
    Case(
        "QM307",
        HEAD
        + """

def title():
    return request.form["title"]


@app.post("/books")
async def create():
    return {"title": title()}


async def main():
    response = await app.test_client().post("/books", form={"title": "Dune"})
    assert await response.get_json() == {"title": "Dune"}


asyncio.run(main())
""",
        (
            (
                "def title():\n    return request.form",
                "async def title():\n    return (await request.form)",
            ),
            ('{"title": title()}', '{"title": await title()}'),
        ),
        "write `await title(...)`",
    ),
    Case(
        "QM309",
        HEAD.replace("from quart import request", "import time\n\nfrom migrate import run_sync")
        + """

def slow_total():
    time.sleep(0.01)
    return 3


@app.get("/total")
async def total():
    return {"total": slow_total()}


async def main():
    response = await app.test_client().get("/total")
    assert await response.get_json() == {"total": 3}


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (('{"total": slow_total()}', '{"total": await run_sync(slow_total)()}'),),
        "keep it sync and call it as `await run_sync(slow_total)(...)`",
    ),
    Case(
        "QM712",
        HEAD.replace(
            "from quart import request",
            "from quart import g\nfrom quart.signals import appcontext_pushed",
        )
        + """

@appcontext_pushed.connect_via(app)
def set_user(sender, **extra):
    g.user = "ada"


@app.get("/me")
async def me():
    return {"user": g.user}


async def main():
    response = await app.test_client().get("/me")
    assert await response.get_json() == {"user": "ada"}


asyncio.run(main())
""",
        (("def set_user(sender, **extra):", "async def set_user(sender, **extra):"),),
        "make `set_user` `async def`",
        fails_before=False,
    ),
    Case(
        "QM214",
        HEAD
        + """
from quart import current_app

seeded = []


def create_app():
    app = Quart(__name__)
    with app.app_context():
        seeded.append(current_app.name)

    @app.get("/")
    async def index():
        return {"seeded": seeded}

    return app


async def main():
    application = create_app()
    async with application.test_app() as test_app:
        response = await test_app.test_client().get("/")
        assert await response.get_json() == {"seeded": [application.name]}


asyncio.run(main())
""",
        (
            (
                "    with app.app_context():\n        seeded.append(current_app.name)\n",
                "    @app.before_serving\n    async def seed():\n"
                "        seeded.append(current_app.name)\n",
            ),
        ),
        "`@app.before_serving` async function",
    ),
    Case(
        "QM418",
        HEAD.replace(
            "from quart import request",
            "import sqlite3\n\nfrom werkzeug.routing import BaseConverter\n\nfrom migrate import run_sync",
        )
        + """
DB = sqlite3.connect(":memory:", check_same_thread=False)
DB.execute("create table users (id integer, name text)")
DB.execute("insert into users values (1, 'ada')")


def load_user(user_id):
    return DB.execute("select name from users where id = ?", (user_id,)).fetchone()[0]


class UserConverter(BaseConverter):
    def to_python(self, value):
        return DB.execute("select name from users where id = ?", (int(value),)).fetchone()[0]


app.url_map.converters["user"] = UserConverter


@app.get("/users/<user:user>")
async def show(user):
    return {"name": user}


async def main():
    response = await app.test_client().get("/users/1")
    assert await response.get_json() == {"name": "ada"}


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (
            (
                '        return DB.execute("select name from users where id = ?", (int(value),)).fetchone()[0]',
                "        return int(value)",
            ),
            ('    return {"name": user}', '    return {"name": await run_sync(load_user)(user)}'),
        ),
        "load the object in the view with `await`",
    ),
    Case(
        "QM207",
        HEAD.replace("from quart import request", "from pathlib import Path")
        + """
(Path(app.root_path) / "static").mkdir(exist_ok=True)
(Path(app.root_path) / "static" / "site.css").write_text("body {}")


@app.get("/style")
async def style():
    return app.send_static_file("site.css")


async def main():
    response = await app.test_client().get("/style")
    assert await response.get_data() == b"body {}"


asyncio.run(main())
""",
        (("return app.send_static_file(", "return await app.send_static_file("),),
        "await app.send_static_file(",
    ),
    Case(
        "QM202",
        HEAD
        + """

@app.post("/upload")
async def upload():
    size = 0
    for chunk in request.stream:
        size += len(chunk)
    return {"size": size}


async def main():
    response = await app.test_client().post("/upload", data=b"x" * 1000)
    assert await response.get_json() == {"size": 1000}


asyncio.run(main())
""",
        (("    for chunk in request.stream:", "    async for chunk in request.body:"),),
        "async for chunk in request.body",
    ),
    Case(
        "QM720",
        HEAD.replace(
            "import asyncio\n",
            "import os\nimport signal\nimport socket\nimport threading\nimport time\n"
            "import urllib.request\n",
        )
        + """
answers = []


@app.get("/")
async def index():
    return "served"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask_then_stop(port):
    # Poll until the server listens (at most 10 s), ask once, then stop it as Ctrl-C does.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                answers.append(reply.read())
            break
        except OSError:
            time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    port = free_port()
    threading.Thread(target=ask_then_stop, args=(port,), daemon=True).start()
    app.run(host="127.0.0.1", port=port)
    assert answers == [b"served"], answers
""",
        (
            (
                '    app.run(host="127.0.0.1", port=port)',
                '    app.run(host="127.0.0.1", port=port, use_reloader=False)',
            ),
        ),
        "use_reloader=False",
        fails_before=False,
    ),
    Case(
        "QM419",
        HEAD.replace(
            "from quart import request",
            "import sqlite3\nfrom pathlib import Path\n\nimport aiosqlite\n"
            "from quart_wtf import QuartForm\nfrom wtforms import StringField\n"
            "from wtforms import ValidationError",
        )
        + """
app.config["WTF_CSRF_ENABLED"] = False
PATH = Path(__file__).with_name("users.db")
DB = sqlite3.connect(PATH, check_same_thread=False)
DB.execute("create table if not exists users (name text)")
DB.execute("insert into users values ('ada')")
DB.commit()


class SignupForm(QuartForm):
    username = StringField("username")

    def validate_username(self, field):
        if DB.execute("select 1 from users where name = ?", (field.data,)).fetchone():
            raise ValidationError("taken")


@app.post("/signup")
async def signup():
    form = await SignupForm.create_form()
    if await form.validate_on_submit():
        return {"ok": True}
    return {"errors": form.errors}, 400


async def main():
    client = app.test_client()
    taken = await client.post("/signup", form={"username": "ada"})
    assert taken.status_code == 400, await taken.get_data()
    assert await taken.get_json() == {"errors": {"username": ["taken"]}}
    free = await client.post("/signup", form={"username": "bob"})
    assert free.status_code == 200


# A blocking call on the event loop raises here (blockbuster), so the unedited program fails.
from blockbuster import blockbuster_ctx

with blockbuster_ctx():
    asyncio.run(main())
""",
        (
            (
                "    def validate_username(self, field):\n"
                '        if DB.execute("select 1 from users where name = ?", (field.data,)).fetchone():',
                "    async def async_validators_username(self, field):\n"
                "        async with aiosqlite.connect(PATH) as db:\n"
                '            cursor = await db.execute("select 1 from users where name = ?", (field.data,))\n'
                "            found = await cursor.fetchone()\n"
                "        if found:",
            ),
        ),
        "rename it `async_validators_username`, make it `async def`",
    ),
    Case(
        "QM416",
        HEAD.replace(
            "from quart import request",
            "from pathlib import Path\n\nfrom sqlalchemy import create_engine\nfrom sqlalchemy import text\n"
            "from sqlalchemy.ext.asyncio import AsyncSession\n"
            "from sqlalchemy.ext.asyncio import create_async_engine\nfrom sqlalchemy.orm import Session",
        )
        + """
PATH = Path(__file__).with_name("books.db")
engine = create_engine(f"sqlite:///{PATH}")
with engine.begin() as setup:
    setup.execute(text("create table if not exists books (title text)"))
    setup.execute(text("insert into books values ('Dune')"))


@app.get("/books")
async def books():
    with Session(engine) as session:
        titles = session.execute(text("select title from books")).scalars().all()
    return {"titles": titles}


async def main():
    response = await app.test_client().get("/books")
    assert await response.get_json() == {"titles": ["Dune"]}


asyncio.run(main())
""",
        (
            (
                "    with Session(engine) as session:\n"
                '        titles = session.execute(text("select title from books")).scalars().all()',
                '    async_engine = create_async_engine(f"sqlite+aiosqlite:///{PATH}")\n'
                "    async with AsyncSession(async_engine) as session:\n"
                '        titles = (await session.execute(text("select title from books"))).scalars().all()\n'
                "    await async_engine.dispose()",
            ),
        ),
        "`sqlalchemy.ext.asyncio` (`create_async_engine`, `AsyncSession`, `await session.execute(...)`)",
        fails_before=False,
    ),
    Case(
        "QM505",
        LIMITER,
        LIMITER_EDITS,
        "Replace it with quart-rate-limiter (`RateLimiter(app)`; "
        "`@rate_limit(limit, timedelta(seconds=...))`",
    ),
    Case("QM501", LIMITER, LIMITER_EDITS, "Replace it with quart-rate-limiter"),
    Case(
        "QM103",
        HEAD.replace("from quart import request", "import flask")
        + """

@app.get("/")
async def index():
    return flask.jsonify(ok=True)


async def main():
    response = await app.test_client().get("/")
    assert await response.get_json() == {"ok": True}


asyncio.run(main())
""",
        (("import flask\n", "import quart\n"), ("return flask.jsonify(", "return quart.jsonify(")),
        "use `quart.jsonify`",
    ),
    Case(
        "QM106",
        HEAD
        + """

@app.get("/")
async def index():
    return "asgi"


def call(app):
    sent = []

    def start_response(status, headers):
        sent.append(status)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost"}
    body = b"".join(app.wsgi_app(environ, start_response))
    return sent, body


async def main():
    sent, body = call(app)
    assert body == b"asgi", body


asyncio.run(main())
""",
        (
            (
                "def call(app):\n"
                "    sent = []\n\n"
                "    def start_response(status, headers):\n"
                "        sent.append(status)\n\n"
                '    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost"}\n'
                '    body = b"".join(app.wsgi_app(environ, start_response))\n'
                "    return sent, body",
                "async def call(app):\n"
                "    sent = []\n\n"
                "    requests = [{'type': 'http.request', 'body': b'', 'more_body': False}]\n\n"
                "    async def receive():\n"
                "        if requests:\n"
                "            return requests.pop()\n"
                "        await asyncio.Event().wait()  # the client stays connected\n\n"
                "    async def send(message):\n"
                "        sent.append(message)\n\n"
                '    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",\n'
                '             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",\n'
                '             "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 1),\n'
                '             "server": ("localhost", 80), "extensions": {}}\n'
                "    await app.asgi_app(scope, receive, send)\n"
                '    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")\n'
                "    return sent, body",
            ),
            ("    sent, body = call(app)", "    sent, body = await call(app)"),
        ),
        "await app.asgi_app(scope, receive, send)",
    ),
    Case(
        "QM308",
        HEAD.replace(
            "from quart import request",
            "from quart import Response\nfrom quart import stream_with_context",
        )
        + """

@app.get("/rows")
async def rows():
    def generate():
        yield "a\\n"
        yield "b\\n"

    response = Response(stream_with_context(generate)(), mimetype="text/plain")
    response.timeout = None
    return response


async def main():
    response = await app.test_client().get("/rows")
    assert await response.get_data(as_text=True) == "a\\nb\\n"


asyncio.run(main())
""",
        (("    def generate():", "    async def generate():"),),
        "`@stream_with_context` on `async def generate()`",
    ),
    Case(
        "QM404",
        HEAD.replace(
            "from quart import request", "import urllib.request\n\nfrom migrate import run_sync"
        )
        + """

def fetch(url):
    with urllib.request.urlopen(url) as reply:
        return reply.read()


@app.get("/note")
async def note():
    return fetch("data:text/plain,shelf%203")


async def main():
    response = await app.test_client().get("/note")
    assert await response.get_data() == b"shelf 3"


asyncio.run(main())
""",
        (('    return fetch("data:', '    return await run_sync(fetch)("data:'),),
        "`await run_sync(func)(...)` from `migrate`",
        fails_before=False,
    ),
)


def _variant(code: str, of: str, advice: str) -> Case:
    """Return the case of rule ``of`` re-used for rule ``code``: same program and edits."""
    base = next(case for case in CASES if case.code == of)
    return dataclasses.replace(base, code=code, advice=advice)


_RUN = next(case for case in CASES if case.code == "QM720")
CASES += (
    # The WSGI middleware's import goes with its use (QM701's program).
    _variant("QM702", "QM701", advice="hypercorn.middleware.ProxyFixMiddleware"),
    # ``app.run`` with options Quart ignores: drop them (QM720's server, started and stopped).
    Case(
        "QM707",
        _RUN.program.replace(
            'app.run(host="127.0.0.1", port=port)',
            'app.run(host="127.0.0.1", port=port, threaded=True)',
        ),
        (
            (
                'app.run(host="127.0.0.1", port=port, threaded=True)',
                'app.run(host="127.0.0.1", port=port)',
            ),
        ),
        "drop them",
        fails_before=False,
    ),
)

# Settings Quart reads otherwise: each program shows the setting silently doing nothing.
CASES += (
    Case(
        "QM708",
        HEAD
        + """
app.config["TRUSTED_HOSTS"] = ["books.example"]


@app.get("/")
async def index():
    return "ok"


async def main():
    client = app.test_client()
    assert (await client.get("/", headers={"Host": "books.example"})).status_code == 200
    forged = await client.get("/", headers={"Host": "evil.example"})
    assert forged.status_code == 400, forged.status_code


asyncio.run(main())
""",
        (
            (
                'app.config["TRUSTED_HOSTS"] = ["books.example"]\n',
                "def trusted_hosts(asgi_app, hosts):\n"
                "    async def check_host(scope, receive, send):\n"
                "        host = dict(scope.get('headers', ())).get(b'host', b'').decode()\n"
                "        if scope['type'] == 'http' and host.partition(':')[0] not in hosts:\n"
                "            await send({'type': 'http.response.start', 'status': 400, 'headers': []})\n"
                "            await send({'type': 'http.response.body', 'body': b''})\n"
                "            return\n"
                "        await asgi_app(scope, receive, send)\n\n"
                "    return check_host\n\n\n"
                "app.asgi_app = trusted_hosts(app.asgi_app, ['books.example'])\n",
            ),
        ),
        "check the Host header in an ASGI middleware",
    ),
    Case(
        "QM708",
        HEAD.replace("from quart import request", "from quart import url_for")
        + """
app.config["PREFERRED_URL_SCHEME"] = "https"
app.config["SERVER_NAME"] = "books.example"


@app.get("/books/<int:book_id>")
async def book(book_id):
    return {"id": book_id}


async def main():
    # A link built outside a request (an e-mail job, a CLI command) takes the app's scheme.
    async with app.app_context():
        link = url_for("book", book_id=3, _external=True)
    assert link == "https://books.example/books/3", link


asyncio.run(main())
""",
        (
            (
                'app.config["PREFERRED_URL_SCHEME"] = "https"',
                'app.config["PREFER_SECURE_URLS"] = True',
            ),
        ),
        "set `PREFER_SECURE_URLS = True`",
    ),
    Case(
        "QM711",
        HEAD.replace("from quart import request", "import click\n\nfrom quart import current_app")
        + """

@app.cli.command("init-db")
def init_db():
    click.echo(f"initialised {current_app.name}")


result = app.test_cli_runner().invoke(args=["init-db"])
assert result.exit_code == 0, result.output
assert result.output == f"initialised {app.name}\\n", result.output
""",
        (('@app.cli.command("init-db")', '@app.cli.command("init-db", with_appcontext=True)'),),
        "pass `with_appcontext=True`",
    ),
    Case(
        "QM713",
        HEAD.replace(
            "from quart import request", "from quart import abort\nfrom quart import request"
        )
        + """
NOTE_LIMIT = 64


@app.before_request
async def limit_notes():
    if request.path == "/notes":
        request.max_content_length = NOTE_LIMIT


@app.post("/notes")
async def notes():
    data = await request.get_data()
    return {"size": len(data)}


async def main():
    client = app.test_client()
    small = await client.post("/notes", data=b"x" * NOTE_LIMIT)
    assert await small.get_json() == {"size": NOTE_LIMIT}
    large = await client.post("/notes", data=b"x" * (NOTE_LIMIT + 1))
    assert large.status_code == 413, large.status_code


asyncio.run(main())
""",
        (
            (
                "@app.before_request\n"
                "async def limit_notes():\n"
                '    if request.path == "/notes":\n'
                "        request.max_content_length = NOTE_LIMIT\n\n\n",
                "",
            ),
            (
                "    data = await request.get_data()\n",
                "    if (request.content_length or 0) > NOTE_LIMIT:\n"
                "        abort(413)\n"
                "    data = await request.get_data()\n"
                "    if len(data) > NOTE_LIMIT:  # a chunked body has no Content-Length\n"
                "        abort(413)\n",
            ),
        ),
        "check `request.content_length` and the bytes read",
    ),
    Case(
        "QM716",
        HEAD.replace(
            "import asyncio\n",
            "import asyncio\nimport logging\nimport socket\n\nimport httpx\n"
            "from hypercorn.asyncio import serve\nfrom hypercorn.config import Config\n",
        )
        + """
# The app's logging set-up: INFO, but no access lines (errors only).
logging.basicConfig(level=logging.INFO)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

access_lines = []


class Keep(logging.Handler):
    def emit(self, record):
        access_lines.append(record.getMessage())


@app.get("/")
async def index():
    return "ok"


async def main():
    # Hypercorn with its access log on, on a socket already listening (no readiness race).
    access = logging.getLogger("hypercorn.access")
    access.addHandler(Keep())
    sock = socket.create_server(("127.0.0.1", 0))
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = access
    stop = asyncio.Event()
    server = asyncio.ensure_future(serve(app, config, shutdown_trigger=stop.wait))
    port = sock.getsockname()[1]
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/")
    assert response.text == "ok"
    stop.set()
    await server
    assert access_lines == [], access_lines


asyncio.run(main())
""",
        (
            (
                'logging.getLogger("werkzeug").setLevel(logging.ERROR)',
                'logging.getLogger("hypercorn.access").setLevel(logging.ERROR)',
            ),
        ),
        "configure `hypercorn.access`",
    ),
)


def _held(imports: str, upstream: str, view: str, answer: str) -> str:
    """Return a program whose ``/stock`` view calls an upstream that holds its answer.

    ``upstream`` starts a stand-in on loopback (or takes a lock on a real server) that
    answers once ``RELEASE`` is set; ``view`` is the body of ``/stock``, returning
    ``answer``. The driver starts ``/stock``, asks ``/health`` while the first request's
    upstream is held, and only then releases it: a blocking call in ``view`` stalls the
    event loop, so ``/health`` cannot be answered first. blockbuster stops most such calls
    at once; for the rest (a C client) the upstream lets go after ``HOLD_LIMIT`` seconds,
    which bounds the failing run and plays no part in the passing one.
    """
    return (
        "import asyncio\nimport os\nimport threading\n"
        + imports
        + """
from blockbuster import blockbuster_ctx
from quart import Quart

app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
RELEASE = threading.Event()
HOLD_LIMIT = 5
started = asyncio.Event()
"""
        + upstream
        + """

@app.get("/health")
async def health():
    return "up"


@app.get("/stock")
async def stock():
    started.set()
"""
        + view
        + f"""

async def main():
    client = app.test_client()
    first = asyncio.ensure_future(client.get("/stock"))
    await started.wait()
    second = await client.get("/health")
    assert second.status_code == 200, second.status_code
    assert not first.done(), "the first request ended before its upstream let go"
    RELEASE.set()
    response = await first
    assert response.status_code == 200, await response.get_data()
    assert await response.get_data() == {answer!r}, await response.get_data()


with blockbuster_ctx():
    asyncio.run(main())
"""
    )


#: An HTTP stand-in of the inventory service: it answers ``7`` once released.
HTTP_UPSTREAM = """from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer


class Inventory(BaseHTTPRequestHandler):
    def do_GET(self):
        RELEASE.wait(HOLD_LIMIT)
        self.send_response(200)
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"7")

    def log_message(self, *args):
        pass


inventory = ThreadingHTTPServer(("127.0.0.1", 0), Inventory)
inventory.daemon_threads = True
threading.Thread(target=inventory.serve_forever, daemon=True).start()
INVENTORY = f"http://127.0.0.1:{inventory.server_port}"
"""

#: A line-protocol stand-in: it reads a line and answers ``7`` once released.
TCP_UPSTREAM = """import socketserver


class Stock(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        RELEASE.wait(HOLD_LIMIT)
        self.wfile.write(b"7\\n")


stock_server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Stock)
stock_server.daemon_threads = True
threading.Thread(target=stock_server.serve_forever, daemon=True).start()
STOCK_PORT = stock_server.server_address[1]
"""

#: An SMTP stand-in (aiosmtpd): it takes the message once released.
SMTP_UPSTREAM = """import socket
from email.message import EmailMessage

from aiosmtpd.controller import Controller

outbox = []


class Outbox:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.get_running_loop().run_in_executor(None, RELEASE.wait, HOLD_LIMIT)
        outbox.append(envelope.content)
        return "250 OK"


with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    SMTP_PORT = probe.getsockname()[1]
smtp_server = Controller(Outbox(), hostname="127.0.0.1", port=SMTP_PORT)
smtp_server.start()


def order_mail():
    message = EmailMessage()
    message["From"] = "shop@example.org"
    message["To"] = "ada@example.org"
    message["Subject"] = "Your order"
    message.set_content("1 book")
    return message
"""

#: PostgreSQL: a second connection holds an advisory lock the view's query waits for.
POSTGRES_UPSTREAM = """DSN = os.environ["BOOKSTORE_TEST_POSTGRES_URL"]
LOCK = int.from_bytes(os.urandom(4), "big")


def hold_lock(locked):
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (LOCK,))
        locked.set()
        RELEASE.wait(HOLD_LIMIT)
        conn.execute("select pg_advisory_unlock(%s)", (LOCK,))


locked = threading.Event()
threading.Thread(target=hold_lock, args=(locked,), daemon=True).start()
locked.wait()
"""

#: MariaDB/MySQL: a second connection holds a named lock the view's query waits for.
MYSQL_UPSTREAM = """from urllib.parse import urlsplit

URL = urlsplit(os.environ["BOOKSTORE_TEST_MYSQL_URL"])
DB = {"host": URL.hostname, "port": URL.port or 3306, "user": URL.username or "root",
      "password": URL.password or "", "db": URL.path.lstrip("/")}
LOCK = f"advice-{os.getpid()}"


def hold_lock(locked):
    conn = pymysql.connect(**DB)
    with conn.cursor() as cursor:
        cursor.execute("select get_lock(%s, 10)", (LOCK,))
        locked.set()
        RELEASE.wait(HOLD_LIMIT)
        cursor.execute("select release_lock(%s)", (LOCK,))
    conn.close()


locked = threading.Event()
threading.Thread(target=hold_lock, args=(locked,), daemon=True).start()
locked.wait()
"""

#: Redis: the view pops from a list that a releaser fills once released.
REDIS_UPSTREAM = """URL = os.environ["BOOKSTORE_TEST_REDIS_URL"]
KEY = f"advice:stock:{os.getpid()}"
# The start-up check: it also caches redis-py's version look-up (a file read) off the loop.
with redis.Redis.from_url(URL) as setup:
    setup.delete(KEY)


def fill():
    RELEASE.wait(HOLD_LIMIT)
    with redis.Redis.from_url(URL) as conn:
        conn.rpush(KEY, 7)


threading.Thread(target=fill, daemon=True).start()
"""

CASES += (
    Case(
        "QM402",
        _held(
            "\nimport httpx\nimport requests\n",
            HTTP_UPSTREAM,
            '    reply = requests.get(f"{INVENTORY}/stock/1")\n    return {"stock": int(reply.text)}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                '    reply = requests.get(f"{INVENTORY}/stock/1")\n',
                "    async with httpx.AsyncClient() as client:\n"
                '        reply = await client.get(f"{INVENTORY}/stock/1")\n',
            ),
        ),
        "use `httpx.AsyncClient` (`await client.get(...)`)",
    ),
    Case(
        "QM402",
        _held(
            "\nimport requests\n\nfrom migrate import run_sync\n",
            HTTP_UPSTREAM,
            '    reply = requests.get(f"{INVENTORY}/stock/1")\n    return {"stock": int(reply.text)}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                "    reply = requests.get(",
                "    reply = await run_sync(requests.get)(",
            ),
        ),
        "`await run_sync(func)(...)` from `migrate`",
    ),
    Case(
        "QM414",
        _held(
            "import socket\n",
            TCP_UPSTREAM,
            '    with socket.create_connection(("127.0.0.1", STOCK_PORT)) as sock:\n'
            '        sock.sendall(b"book 1\\n")\n'
            '        line = sock.makefile("rb").readline()\n'
            '    return {"stock": int(line)}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                '    with socket.create_connection(("127.0.0.1", STOCK_PORT)) as sock:\n'
                '        sock.sendall(b"book 1\\n")\n'
                '        line = sock.makefile("rb").readline()\n',
                '    reader, writer = await asyncio.open_connection("127.0.0.1", STOCK_PORT)\n'
                '    writer.write(b"book 1\\n")\n'
                "    line = await reader.readline()\n"
                "    writer.close()\n"
                "    await writer.wait_closed()\n",
            ),
            ("import socket\n", ""),
        ),
        "use `await asyncio.open_connection(...)`",
    ),
    Case(
        "QM413",
        _held(
            "import smtplib\n\nimport aiosmtplib\n",
            SMTP_UPSTREAM,
            '    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as smtp:\n'
            "        smtp.send_message(order_mail())\n"
            '    return {"sent": len(outbox)}\n',
            b'{"sent":1}\n',
        ),
        (
            (
                '    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as smtp:\n'
                "        smtp.send_message(order_mail())\n",
                '    await aiosmtplib.send(order_mail(), hostname="127.0.0.1", port=SMTP_PORT)\n',
            ),
        ),
        "use aiosmtplib (`await aiosmtplib.send(message, hostname=...)`)",
    ),
    Case(
        "QM410",
        _held(
            "\nimport psycopg\n",
            POSTGRES_UPSTREAM,
            "    with psycopg.connect(DSN) as conn:\n"
            '        row = conn.execute("select pg_advisory_xact_lock_shared(%s), 7", (LOCK,)).fetchone()\n'
            '    return {"stock": row[1]}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                "    with psycopg.connect(DSN) as conn:\n"
                '        row = conn.execute("select pg_advisory_xact_lock_shared(%s), 7", (LOCK,)).fetchone()\n',
                "    async with await psycopg.AsyncConnection.connect(DSN) as conn:\n"
                '        cursor = await conn.execute("select pg_advisory_xact_lock_shared(%s), 7", (LOCK,))\n'
                "        row = await cursor.fetchone()\n",
            ),
        ),
        "use `await psycopg.AsyncConnection.connect(...)`",
        service="BOOKSTORE_TEST_POSTGRES_URL",
    ),
    Case(
        "QM411",
        _held(
            "\nimport aiomysql\nimport pymysql\n",
            MYSQL_UPSTREAM,
            "    conn = pymysql.connect(**DB)\n"
            "    with conn.cursor() as cursor:\n"
            '        cursor.execute("select get_lock(%s, 10), 7", (LOCK,))\n'
            "        row = cursor.fetchone()\n"
            '        cursor.execute("select release_lock(%s)", (LOCK,))\n'
            "    conn.close()\n"
            '    return {"stock": row[1]}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                "    conn = pymysql.connect(**DB)\n"
                "    with conn.cursor() as cursor:\n"
                '        cursor.execute("select get_lock(%s, 10), 7", (LOCK,))\n'
                "        row = cursor.fetchone()\n"
                '        cursor.execute("select release_lock(%s)", (LOCK,))\n',
                "    conn = await aiomysql.connect(**DB)\n"
                "    async with conn.cursor() as cursor:\n"
                '        await cursor.execute("select get_lock(%s, 10), 7", (LOCK,))\n'
                "        row = await cursor.fetchone()\n"
                '        await cursor.execute("select release_lock(%s)", (LOCK,))\n',
            ),
        ),
        "use aiomysql",
        service="BOOKSTORE_TEST_MYSQL_URL",
    ),
    Case(
        "QM412",
        _held(
            "\nimport redis\nimport redis.asyncio\n",
            REDIS_UPSTREAM,
            "    conn = redis.Redis.from_url(URL)\n"
            "    _, count = conn.blpop([KEY], timeout=HOLD_LIMIT)\n"
            "    conn.close()\n"
            '    return {"stock": int(count)}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                "    conn = redis.Redis.from_url(URL)\n"
                "    _, count = conn.blpop([KEY], timeout=HOLD_LIMIT)\n"
                "    conn.close()\n",
                "    conn = redis.asyncio.Redis.from_url(URL)\n"
                "    _, count = await conn.blpop([KEY], timeout=HOLD_LIMIT)\n"
                "    await conn.aclose()\n",
            ),
        ),
        "use `redis.asyncio.Redis` and `await` its commands",
        service="BOOKSTORE_TEST_REDIS_URL",
    ),
)


#: A project's app, served by what its deployment files name (``shelf:app``).
SHELF = """from quart import Quart

app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.get("/health")
async def health():
    return "up"
"""

#: The check of a deployment: install what ``requirements.txt`` names, start what the
#: ``Procfile`` runs, ask the app. Without network access, "install" is resolving the file
#: against the environment the tests run in (pip, offline) and following the named
#: distributions' own requirements: everything ``shelf.py`` imports and the command the
#: Procfile starts must come from a distribution the file brings in.
DEPLOY = '''import ast
import importlib.metadata
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent


def declared():
    """Return the requirements of requirements.txt."""
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]


def installed_with(requirements):
    """Return the distributions an install of ``requirements`` brings in (names)."""
    seen = set()
    todo = [(r.name, set(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        seen.add(canonicalize_name(name))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: pip's resolution below reports it
        for spec in dist.requires or ():
            requirement = Requirement(spec)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras | {""}
            )
            if wanted and canonicalize_name(requirement.name) not in seen:
                todo.append((requirement.name, set(requirement.extras)))
    return seen


def check_requirements(command):
    brought = installed_with(declared())
    providers = importlib.metadata.packages_distributions()
    tree = ast.parse((HERE / "shelf.py").read_text())
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module]
        for top in {name.partition(".")[0] for name in names} - set(sys.stdlib_module_names):
            dists = {canonicalize_name(d) for d in providers.get(top, ())}
            assert dists & brought, f"shelf.py imports {top}, which requirements.txt does not bring"
    if command:
        script = shlex.split(command)[0]
        (entry,) = importlib.metadata.entry_points(group="console_scripts", name=script)
        assert canonicalize_name(entry.dist.name) in brought, f"{script} is not brought in"
    # The file resolves against the environment, with no index: every name is installed.
    resolved = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
         "--disable-pip-version-check", "-r", str(HERE / "requirements.txt")],
        capture_output=True, text=True, check=False,
    )
    assert resolved.returncode == 0, resolved.stderr


def serve(command):
    """Start ``command`` on a free port, return its answer to /health, stop it by pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    argv = shlex.split(command.replace("$PORT", str(port)))
    server = subprocess.Popen(argv, cwd=HERE, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert server.poll() is None, f"{command!r} exited with {server.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
                    return reply.status, reply.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()
            except OSError:
                time.sleep(0.05)  # not listening yet: poll again
        raise AssertionError(f"{command!r} did not answer in 30 s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def web_command():
    """Return the Procfile's ``web`` command, or the supervisor program's, or None."""
    procfile = HERE / "Procfile"
    if procfile.exists():
        lines = procfile.read_text().splitlines()
        (line,) = [line for line in lines if line.startswith("web:")]
        return line.removeprefix("web:").strip()
    for conf in sorted(HERE.glob("supervisor/*.conf")):
        lines = conf.read_text().splitlines()
        (line,) = [line for line in lines if line.startswith("command=")]
        # supervisord's own expansion of the environment, for the one name used here
        return line.removeprefix("command=").replace("%(ENV_PORT)s", "$PORT")
    return None


if __name__ == "__main__":
    command = web_command()
    if (HERE / "requirements.txt").exists():
        check_requirements(command)
    if command:
        answer = serve(command)
        assert answer == (200, b"up"), answer
    else:
        import asyncio

        from shelf import app

        async def ask():
            response = await app.test_client().get("/health")
            return response.status_code, await response.get_data()

        assert asyncio.run(ask()) == (200, b"up")
'''

REQUIREMENTS = "quart>=0.22\nhypercorn>=0.17\n"
PROCFILE = "web: hypercorn --bind 127.0.0.1:$PORT shelf:app\n"

CASES += (
    Case(
        "QM703",
        DEPLOY,
        (("web: waitress-serve --listen=127.0.0.1:$PORT shelf:app", PROCFILE.strip()),),
        "serve the app with Hypercorn (`hypercorn module:app`)",
        files=(
            ("shelf.py", SHELF),
            ("Procfile", "web: waitress-serve --listen=127.0.0.1:$PORT shelf:app\n"),
        ),
    ),
    Case(
        "QM719",
        DEPLOY,
        (("web: flask --app shelf run --port $PORT", PROCFILE.strip()),),
        "`hypercorn module:app` to serve",
        files=(("shelf.py", SHELF), ("Procfile", "web: flask --app shelf run --port $PORT\n")),
    ),
    Case(
        "QM719",
        DEPLOY,
        (("web: flask --app shelf run --port $PORT", "web: quart --app shelf run --port $PORT"),),
        "use `quart run` in development",
        files=(("shelf.py", SHELF), ("Procfile", "web: flask --app shelf run --port $PORT\n")),
    ),
    Case(
        "QM718",
        DEPLOY,
        (("FLASK_APP=shelf", "QUART_APP=shelf"),),
        "set `QUART_APP` (Quart reads `.env`",
        files=(
            ("shelf.py", SHELF),
            (".env", "FLASK_APP=shelf\n"),
            ("Procfile", "web: quart run --port $PORT\n"),
        ),
    ),
    Case(
        "QM715",
        DEPLOY,
        (
            (
                "web: gunicorn --worker-class gevent --bind 127.0.0.1:$PORT shelf:app",
                PROCFILE.strip(),
            ),
        ),
        "drop it and serve with Hypercorn",
        # gunicorn and gevent are not installed here: the unedited command cannot start.
        fails_before=False,
        files=(
            ("shelf.py", SHELF),
            ("Procfile", "web: gunicorn --worker-class gevent --bind 127.0.0.1:$PORT shelf:app\n"),
        ),
    ),
    Case(
        "QM704",
        DEPLOY,
        (("waitress>=3.0", "hypercorn>=0.17"),),
        "serve the app with Hypercorn (`hypercorn module:app`)",
        # Quart requires Hypercorn itself: the unedited file still brings the server the
        # Procfile starts, and Waitress is only dead weight.
        fails_before=False,
        files=(
            ("shelf.py", SHELF),
            ("requirements.txt", "quart>=0.22\nwaitress>=3.0\n"),
            ("Procfile", PROCFILE),
        ),
    ),
    Case(
        "QM504",
        DEPLOY,
        (("flask>=3.1", "quart>=0.22"),),
        "depend on `quart`",
        files=(
            ("shelf.py", SHELF),
            ("requirements.txt", "flask>=3.1\nhypercorn>=0.17\n"),
            ("Procfile", PROCFILE),
        ),
    ),
)

CASES += (
    Case(
        "QM502",
        DEPLOY,
        (("Flask-Login>=0.6", "quart-auth>=0.10"),),
        "use quart-auth (`QuartAuth`",
        files=(
            ("shelf.py", SHELF + "\nfrom quart_auth import QuartAuth\n\nQuartAuth(app)\n"),
            ("requirements.txt", REQUIREMENTS + "Flask-Login>=0.6\n"),
            ("Procfile", PROCFILE),
        ),
    ),
    Case(
        "QM503",
        DEPLOY,
        (("quart-flask-patch\n", ""), ("Flask-Limiter>=3.8", "quart-rate-limiter>=0.10")),
        "port each extension to its Quart replacement instead",
        files=(
            (
                "shelf.py",
                SHELF + "\nfrom quart_rate_limiter import RateLimiter\n\nRateLimiter(app)\n",
            ),
            ("requirements.txt", REQUIREMENTS + "quart-flask-patch\nFlask-Limiter>=3.8\n"),
            ("Procfile", PROCFILE),
        ),
        # quart-flask-patch's own failure (an ImportError) shows on Quart 0.23 only, and it
        # is not installed here.
        fails_before=False,
    ),
)


#: Runs a Flask module ``shelf.py`` once ported (``migrate check --fix`` and the advice).
DRIVE_SHELF = """import asyncio

from shelf import app


async def main():
    client = app.test_client()
"""

CASES += (
    Case(
        "QM301",
        DRIVE_SHELF
        + """    response = await client.post("/books", json={"title": "Dune"})
    assert await response.get_json() == {"title": "Dune"}, await response.get_data()


asyncio.run(main())
""",
        (("def create():", "async def create():"),),
        "view `create` must become `async def`",
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask import jsonify
from flask import request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.post("/books")
def create():
    data = request.get_json()
    return jsonify(title=data["title"])
""",
            ),
        ),
        convert=("QM301", "QM306"),
    ),
    Case(
        "QM302",
        DRIVE_SHELF
        + """    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert await response.get_data() == b"<p>No page at /nowhere</p>"


asyncio.run(main())
""",
        (("def missing(error):", "async def missing(error):"),),
        "error handler `missing` must become `async def`",
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask import render_template_string
from flask import request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.errorhandler(404)
def missing(error):
    return render_template_string("<p>No page at {{ path }}</p>", path=request.path), 404
""",
            ),
        ),
        convert=("QM302", "QM306"),
    ),
    Case(
        "QM303",
        DRIVE_SHELF
        + """    refused = await client.post("/books", data=b"not json")
    assert refused.status_code == 400, refused.status_code
    response = await client.post("/books", json={"title": "Dune"})
    assert response.status_code == 201, response.status_code


asyncio.run(main())
""",
        (("def require_json():", "async def require_json():"),),
        "request hook `require_json` must become `async def`",
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask import abort
from flask import request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.before_request
def require_json():
    if request.method == "POST" and request.get_json(silent=True) is None:
        abort(400)


@app.post("/books")
async def create():
    return "", 201
""",
            ),
        ),
        convert=("QM303", "QM306"),
    ),
    Case(
        "QM104",
        DRIVE_SHELF.replace(
            "from shelf import app", "from shelf import Client\nfrom shelf import app"
        )
        + """    assert isinstance(client, Client)
    response = await client.get("/")
    assert await response.get_data() == b"ok"
    assert client.calls == ["/"]


asyncio.run(main())
""",
        (("import FlaskClient", "import QuartClient"), ("(FlaskClient)", "(QuartClient)")),
        "`FlaskClient` is `quart.testing.QuartClient` in Quart",
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask.testing import FlaskClient

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


class Client(FlaskClient):
    # A test client that records the paths it asked for.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def open(self, path, *args, **kwargs):
        self.calls.append(path)
        return super().open(path, *args, **kwargs)


app.test_client_class = Client


@app.get("/")
def index():
    return "ok"
""",
            ),
        ),
        convert=("QM104",),
    ),
    Case(
        "QM105",
        DRIVE_SHELF
        + """    response = await client.get("/hello/ada")
    assert await response.get_data() == b"<b>Hello, ada</b>", await response.get_data()


asyncio.run(main())
""",
        (
            ("import get_template_attribute\n", "import render_template_string\n"),
            (
                '    greet = get_template_attribute("macros.html", "hello")\n    return greet(name)',
                "    return await render_template_string(\n"
                "        '{% from \"macros.html\" import hello %}{{ hello(name) }}', name=name\n"
                "    )",
            ),
        ),
        "render a macro with `await render_template_string(...)`",
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask import get_template_attribute

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.get("/hello/<name>")
def hello(name):
    greet = get_template_attribute("macros.html", "hello")
    return greet(name)
""",
            ),
            (
                "templates/macros.html",
                "{% macro hello(name) %}<b>Hello, {{ name }}</b>{% endmacro %}\n",
            ),
        ),
        convert=("QM105",),
    ),
    Case(
        "QM105",
        DRIVE_SHELF
        + """    response = await client.get("/agent", headers={"User-Agent": "ada"})
    assert await response.get_data() == b"ada", await response.get_data()


asyncio.run(main())
""",
        (
            ("import request_ctx\n", "import request\n"),
            ("request_ctx.request.headers", "request.headers"),
        ),
        "read `quart.request`",
        # Quart 0.22 still has ``quart.globals.request_ctx``; 0.23 removed it, and the advice
        # is the spelling that works on both.
        fails_before=False,
        files=(
            (
                "shelf.py",
                """from flask import Flask
from flask.globals import request_ctx

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.get("/agent")
def agent():
    return request_ctx.request.headers.get("User-Agent", "")
""",
            ),
        ),
        convert=("QM105",),
    ),
)

#: Runs the project's own test suite with pytest; its one test must pass.
RUN_TESTS = """import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=HERE, capture_output=True, text=True, check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "1 passed" in tests.stdout, tests.stdout[-3000:]
"""

CASES += (
    Case(
        "QM680",
        RUN_TESTS,
        (('testpaths = ["tests"]', 'asyncio_mode = "auto"\ntestpaths = ["tests"]'),),
        '`asyncio_mode = "auto"` in `[tool.pytest.ini_options]`',
        files=(
            (
                "shelf.py",
                """from flask import Flask

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.get("/health")
def health():
    return "up"
""",
            ),
            (
                "tests/test_shelf.py",
                """from shelf import app


def test_health():
    client = app.test_client()
    response = client.get("/health")
    assert response.data == b"up"
""",
            ),
            (
                "pyproject.toml",
                '[project]\nname = "shelf"\nversion = "1.0"\n\n'
                '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
            ),
        ),
        convert=("QM680",),
    ),
)

CASES += (
    Case(
        "QM681",
        RUN_TESTS,
        (('\n\n    assert "closed" in str(e.value)\n', "\n"),),
        "decide what the test should prove (that the connection is closed) and assert that",
        files=(
            (
                "shelf.py",
                """import sqlite3

from flask import Flask
from flask import g

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
app.config["DATABASE"] = ":memory:"


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
    return g.db


@app.teardown_appcontext
def close_db(exception):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.get("/answer")
def answer():
    return str(get_db().execute("select 6 * 7").fetchone()[0])
""",
            ),
            (
                "tests/test_db.py",
                """import sqlite3

import pytest

from shelf import app
from shelf import get_db


def test_get_close_db():
    with app.app_context():
        db = get_db()
        assert db is get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)
""",
            ),
            (
                "pyproject.toml",
                '[project]\nname = "shelf"\nversion = "1.0"\n\n'
                '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n',
            ),
        ),
        convert=("QM681",),
    ),
)

CASES += (
    # A supervisor program, as ``supervisord`` starts it.
    Case(
        "QM703",
        DEPLOY,
        (
            (
                "command=waitress-serve --listen=127.0.0.1:%(ENV_PORT)s shelf:app",
                "command=hypercorn --bind 127.0.0.1:%(ENV_PORT)s shelf:app",
            ),
        ),
        "serve the app with Hypercorn (`hypercorn module:app`)",
        files=(
            ("shelf.py", SHELF),
            (
                "supervisor/shelf.conf",
                "[program:shelf]\n"
                "command=waitress-serve --listen=127.0.0.1:%(ENV_PORT)s shelf:app\n"
                "autorestart=true\n",
            ),
        ),
    ),
    # .flaskenv, which Quart never reads: its setting moves to .env under Quart's name.
    Case(
        "QM718",
        DEPLOY,
        (("FLASK_APP=shelf", "QUART_APP=shelf"),),
        "set `QUART_APP` (Quart reads `.env` and `.quartenv`, never `.flaskenv`)",
        files=(
            ("shelf.py", SHELF),
            (".flaskenv", "FLASK_APP=shelf\n"),
            ("Procfile", "web: quart run --port $PORT\n"),
        ),
        renames=((".flaskenv", ".env"),),
    ),
)

CASES += (
    # httpx's blocking client against the held inventory stand-in (QM402's run).
    Case(
        "QM403",
        _held(
            "\nimport httpx\n",
            HTTP_UPSTREAM,
            "    with httpx.Client() as client:\n"
            '        reply = client.get(f"{INVENTORY}/stock/1")\n'
            '    return {"stock": int(reply.text)}\n',
            b'{"stock":7}\n',
        ),
        (
            (
                "    with httpx.Client() as client:\n"
                '        reply = client.get(f"{INVENTORY}/stock/1")\n',
                "    async with httpx.AsyncClient() as client:\n"
                '        reply = await client.get(f"{INVENTORY}/stock/1")\n',
            ),
        ),
        "httpx.AsyncClient",
    ),
)

CASES += (
    # A view that only reads the session: Flask adds ``Vary: Cookie``, Quart 0.22 does not.
    Case(
        "QM721",
        HEAD.replace(
            "from quart import request\n", "from quart import g\nfrom quart import session\n"
        )
        + """app.secret_key = "advice"


@app.get("/me")
async def me():
    return {"user": session.get("user")}


async def main():
    client = app.test_client()
    response = await client.get("/me")
    assert response.status_code == 200, await response.get_data()
    assert "Cookie" in response.headers.get("Vary", ""), response.headers


asyncio.run(main())
""",
        (
            (
                '    return {"user": session.get("user")}\n',
                '    g.session_read = True\n    return {"user": session.get("user")}\n\n\n'
                "@app.after_request\nasync def vary_on_cookie(response):\n"
                '    if g.get("session_read"):\n        response.vary.add("Cookie")\n'
                "    return response\n",
            ),
        ),
        '`response.vary.add("Cookie")` in an `after_request` function',
    ),
)
