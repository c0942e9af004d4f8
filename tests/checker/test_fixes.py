"""Each fix in django-upgrade's style: ``check_transformed(before, after)`` and ``check_noop``.

A case writes one or more files into a temporary project, runs the fixing rounds
(:func:`migrate.checker.fixing.fix_run`, what ``migrate check --fix`` runs) with
the rules of ``select`` enabled, and compares the resulting text. Every
transformed result is also checked to parse and to be left alone by a second run.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from migrate.checker.discovery import discover
from migrate.checker.fixing import fix_run
from migrate.checker.rules import enabled_codes

APP = "app.py"


def _fix(
    root: Path, files: dict[str, str], select: list[str] | None, unsafe: bool
) -> dict[str, str]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    outcome = fix_run(discover([root]), enabled_codes(select), unsafe=unsafe, jobs=1)
    assert outcome.broken == {}
    return {name: outcome.texts.get(name, text) for name, text in files.items()}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_transformed(
    root: Path,
    before: str,
    after: str,
    select: list[str] | None = None,
    unsafe: bool = False,
    name: str = APP,
    others: dict[str, str] | None = None,
) -> dict[str, str]:
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    result = _fix(root, {name: before, **(others or {})}, select, unsafe)
    assert result[name] == after
    if name.endswith(".py"):
        ast.parse(result[name])
    for other, text in result.items():
        (root / other).write_text(text)
    again = _fix(root, result, select, unsafe)
    assert again == result, "a second run changed the fixed text"
    return result


def check_noop(
    root: Path,
    source: str,
    select: list[str] | None = None,
    unsafe: bool = True,
    name: str = APP,
) -> None:
    source = textwrap.dedent(source)
    assert _fix(root, {name: source}, select, unsafe)[name] == source


# -- QM1xx imports -----------------------------------------------------------------


def test_flask_import(project: Path) -> None:
    check_transformed(
        project,
        "from flask import request  # the body\nimport flask.views\n",
        "from quart import request  # the body\nimport quart.views\n",
        ["QM101"],
    )


def test_flask_import_keeps_what_quart_lacks_on_flask(project: Path) -> None:
    # From ``quart`` these would fail to import, and QM105 would no longer say so.
    check_transformed(
        project,
        """\
        from flask import get_template_attribute, Flask, _request_ctx_stack, g  # names
        app = Flask(__name__)
        """,
        """\
        from quart import Quart, g  # names
        from flask import get_template_attribute, _request_ctx_stack
        app = Quart(__name__)
        """,
        select=["QM101", "QM102"],
    )


def test_flask_import_over_several_lines_keeps_what_quart_lacks_on_flask(project: Path) -> None:
    check_transformed(
        project,
        """\
        from flask import (
            Flask,
            _request_ctx_stack,
            g,
            get_template_attribute
        )  # names
        app = Flask(__name__)
        """,
        """\
        from quart import (
            Quart,
            g,
        )  # names
        from flask import _request_ctx_stack, get_template_attribute
        app = Quart(__name__)
        """,
        select=["QM101", "QM102"],
    )


@pytest.mark.parametrize(
    "source",
    [
        # A comment between the names: it may be about the name that would move.
        "from flask import (\n    g,\n    # kept for the old templates\n"
        "    get_template_attribute,\n)\n",
        # The name that would move shares its line.
        "from flask import (\n    g, get_template_attribute,\n    request,\n)\n",
    ],
)
def test_flask_import_over_several_lines_with_a_comment_noop(project: Path, source: str) -> None:
    check_noop(project, source, select=["QM101"])


def test_flask_import_of_only_what_quart_lacks_noop(project: Path) -> None:
    check_noop(project, "from flask import get_template_attribute\n", select=["QM101"])


def test_flask_import_noop(project: Path) -> None:
    check_noop(
        project, "from flaskr import db\nfrom quart import request\nimport flask_cors\n", ["QM101"]
    )


def test_flask_class(project: Path) -> None:
    check_transformed(
        project,
        """\
        from flask import Flask

        app = Flask(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 1
        """,
        """\
        from quart import Quart

        app = Quart(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 1
        """,
        ["QM101", "QM102"],
    )


def test_flask_class_noop(project: Path) -> None:
    check_noop(project, "from quart import Quart\n\napp = Quart(__name__)\n", ["QM102"])


def test_module_attribute(project: Path) -> None:
    check_transformed(
        project,
        'import flask\n\nbp = flask.Blueprint("x", __name__)\n',
        'import quart\n\nbp = quart.Blueprint("x", __name__)\n',
        ["QM101", "QM103"],
    )


def test_module_attribute_noop(project: Path) -> None:
    check_noop(project, 'import quart\n\nbp = quart.Blueprint("x", __name__)\n', ["QM103"])


def test_renamed_name(project: Path) -> None:
    check_transformed(
        project,
        "from flask.testing import FlaskClient\n\n\nclass Client(FlaskClient):\n    pass\n",
        "from quart.testing import QuartClient\n\n\nclass Client(QuartClient):\n    pass\n",
        ["QM101", "QM104"],
    )


def test_renamed_name_noop(project: Path) -> None:
    check_noop(
        project, "from quart.testing import QuartClient\n\nClient = QuartClient\n", ["QM104"]
    )


# -- QM2xx awaitables and QM3xx async functions --------------------------------------

VIEW = """\
from quart import Quart
from quart import flash
from quart import make_response
from quart import render_template
from quart import request
from quart import send_file
from quart import send_from_directory

app = Quart(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1
"""
IVIEW = textwrap.indent(VIEW, " " * 8)
# Files that import only Quart count as migrated: their sync views are left alone.
FLASK_VIEW = VIEW.replace("from quart import", "from flask import").replace("Quart", "Flask")
IFLASK_VIEW = textwrap.indent(FLASK_VIEW, " " * 8)


def test_request_body_and_view(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        @app.post("/items")
        def create():
            title = request.form["title"]  # comment kept
            return {"title": title, "raw": request.get_data()}
        """,
        IFLASK_VIEW
        + """
        @app.post("/items")
        async def create():
            title = (await request.form)["title"]  # comment kept
            return {"title": title, "raw": await request.get_data()}
        """,
        ["QM201", "QM301"],
    )


def test_request_body_noop(project: Path) -> None:
    check_noop(
        project,
        IVIEW
        + """
        @app.post("/items")
        async def create():
            return {"title": (await request.form)["title"], "page": request.args["page"]}
        """,
    )


def test_awaitable_helpers(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        @app.errorhandler(404)
        def missing(error):
            flash("gone")
            response = make_response(render_template("404.html"), 404)
            return response


        @app.get("/files/<name>")
        def download(name):
            if name == "a":
                return send_file(
                    name, download_name="a.txt", max_age=60
                )
            return send_from_directory("files", path=name)
        """,
        IFLASK_VIEW
        + """
        @app.errorhandler(404)
        async def missing(error):
            await flash("gone")
            response = await make_response(await render_template("404.html"), 404)
            return response


        @app.get("/files/<name>")
        async def download(name):
            if name == "a":
                return await send_file(
                    name, attachment_filename="a.txt", cache_timeout=60, conditional=True
                )
            return await send_from_directory("files", file_name=name)
        """,
        ["QM203", "QM204", "QM205", "QM206", "QM208", "QM301", "QM302"],
    )


def test_awaitable_helpers_noop(project: Path) -> None:
    check_noop(
        project,
        IVIEW
        + """
        @app.get("/")
        async def index():
            await flash("hi")
            return await render_template("index.html")
        """,
    )


def test_contexts_resources_and_callers(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        def load_schema():
            with app.open_resource("schema.sql") as f:
                return f.read().decode("utf8")


        def setup():
            with app.app_context():
                return load_schema().strip()


        @app.before_request
        def hook():
            setup()
        """,
        IFLASK_VIEW
        + """
        async def load_schema():
            async with await app.open_resource("schema.sql") as f:
                return (await f.read()).decode("utf8")


        async def setup():
            async with app.app_context():
                return (await load_schema()).strip()


        @app.before_request
        async def hook():
            await setup()
        """,
        ["QM209", "QM211", "QM303", "QM305", "QM306", "QM307"],
    )


def test_dunder_and_property_stay_sync(project: Path) -> None:
    check_noop(
        project,
        IVIEW
        + """
        class Form:
            def __init__(self):
                self.title = request.form["title"]

            @property
            def data(self):
                return request.get_json()
        """,
    )


def test_view_decorator(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        import functools


        def login_required(view):
            @functools.wraps(view)
            def wrapped(**kwargs):
                return view(**kwargs)

            return wrapped


        @app.get("/")
        @login_required
        def index():
            return "ok"
        """,
        IFLASK_VIEW
        + """
        import functools


        def login_required(view):
            @functools.wraps(view)
            async def wrapped(**kwargs):
                return await view(**kwargs)

            return wrapped


        @app.get("/")
        @login_required
        async def index():
            return "ok"
        """,
        ["QM301", "QM304", "QM307"],
    )


def test_template_render(project: Path) -> None:
    check_transformed(
        project,
        FLASK_VIEW
        + '\n\n@app.get("/")\ndef index():\n    return app.jinja_env.get_template("a").render(x=1)\n',
        FLASK_VIEW
        + '\n\n@app.get("/")\nasync def index():\n'
        + '    return await app.jinja_env.get_template("a").render_async(x=1)\n',
        ["QM213", "QM301"],
    )


def test_context_push(project: Path) -> None:
    check_transformed(
        project,
        FLASK_VIEW + "\n\nasync def start():\n    ctx = app.app_context()\n    ctx.push()\n",
        FLASK_VIEW + "\n\nasync def start():\n    ctx = app.app_context()\n    await ctx.push()\n",
        ["QM212"],
    )


# -- QM4xx blocking calls (unsafe) ------------------------------------------------


def test_run_sync_and_sleep(project: Path) -> None:
    body = """
        import os
        import time

        from werkzeug.security import generate_password_hash


        @app.post("/")
        async def index():
            time.sleep(1)
            os.makedirs("x", exist_ok=True)
            return generate_password_hash("pw").upper()
        """
    fixed = (
        body.replace("import os", "import asyncio\n        import os")
        .replace(
            "from werkzeug.security",
            "from quart.utils import run_sync\n        from werkzeug.security",
        )
        .replace("time.sleep(1)", "await asyncio.sleep(1)")
        .replace("os.makedirs(", "await run_sync(os.makedirs)(")
        .replace(
            'generate_password_hash("pw").upper()',
            '(await run_sync(generate_password_hash)("pw")).upper()',
        )
    )
    check_transformed(
        project,
        IFLASK_VIEW + body,
        IFLASK_VIEW + fixed,
        ["QM401", "QM407", "QM415"],
        unsafe=True,
    )


def test_blocking_fixes_are_unsafe(project: Path) -> None:
    check_noop(
        project,
        FLASK_VIEW + '\nimport time\n\n\n@app.get("/")\nasync def index():\n    time.sleep(1)\n',
        ["QM401"],
        unsafe=False,
    )


SQLITE_DB = """\
import sqlite3

from quart import g


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("app.sqlite")
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()
"""
SQLITE_VIEWS = """\
from flask import Flask

from .db import close_db
from .db import get_db

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 1
app.teardown_appcontext(close_db)


@app.get("/")
async def index():
    db = get_db()
    try:
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
    except db.IntegrityError:
        pass
    return {"n": get_db().execute("SELECT 1").fetchone()[0]}
"""
SQLITE_TEST = """\
from pkg.db import get_db


def test_count(app):
    with app.app_context():
        assert get_db().execute("SELECT 1").fetchone() is not None
"""


def test_sqlite_to_aiosqlite(project: Path) -> None:
    result = check_transformed(
        project,
        SQLITE_DB,
        """\
        import sqlite3

        import aiosqlite
        from quart import g


        async def get_db():
            if "db" not in g:
                g.db = await aiosqlite.connect("app.sqlite")
                g.db.row_factory = sqlite3.Row
            return g.db


        async def close_db(e=None):
            db = g.pop("db", None)
            if db is not None:
                await db.close()
        """,
        name="pkg/db.py",
        unsafe=True,
        others={
            "pkg/__init__.py": "",
            "pkg/views.py": SQLITE_VIEWS,
            "tests/test_db.py": SQLITE_TEST,
        },
    )
    assert result["pkg/views.py"] == textwrap.dedent(
        """\
        import sqlite3

        from quart import Quart

        from .db import close_db
        from .db import get_db

        app = Quart(__name__)
        app.config["MAX_CONTENT_LENGTH"] = 1
        app.teardown_appcontext(close_db)


        @app.get("/")
        async def index():
            db = await get_db()
            try:
                await db.execute("INSERT INTO t VALUES (1)")
                await db.commit()
            except sqlite3.IntegrityError:
                pass
            return {"n": (await (await (await get_db()).execute("SELECT 1")).fetchone())[0]}
        """
    )
    assert result["tests/test_db.py"] == (
        "from pkg.db import get_db\n\n\nasync def test_count(app):\n"
        "    async with app.app_context():\n"
        '        assert await (await (await get_db()).execute("SELECT 1")).fetchone() is not None\n'
    )


def test_sqlite_needs_unsafe(project: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/db.py": SQLITE_DB, "pkg/views.py": SQLITE_VIEWS}
    result = _fix(project, files, None, False)
    assert "sqlite3.connect" in result["pkg/db.py"]
    assert "def get_db():" in result["pkg/db.py"] and "async def get_db" not in result["pkg/db.py"]


# -- QM6xx tests --------------------------------------------------------------------

CONFTEST = """\
import pytest
from quart import Quart


@pytest.fixture
def app():
    app = Quart(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 1
    return app


@pytest.fixture
def client(app):
    return app.test_client()
"""


def test_test_client(project: Path) -> None:
    check_transformed(
        project,
        """\
        from quart import session


        def test_login(client):
            client.set_cookie("theme", "dark")
            response = client.post("/login", data={"name": "a"}, content_type="text/plain")
            assert b"ok" in response.data
            assert response.text == "ok"
            assert client.get("/").get_json() == {}

            # inspect the session after a request
            with client:
                client.get("/")
                assert session["user_id"] == 1
        """,
        """\
        from quart import session


        async def test_login(client):
            client.set_cookie("localhost", "theme", "dark")
            response = await client.post(
                "/login", form={"name": "a"}, headers={"Content-Type": "text/plain"}
            )
            assert b"ok" in await response.data
            assert await response.get_data(as_text=True) == "ok"
            assert await (await client.get("/")).get_json() == {}

            # inspect the session after a request
            await client.get("/")
            async with client.app.test_request_context("/", headers={"Cookie": "; ".join(f"{c.name}={c.value}" for c in client.cookie_jar)}):
                await client.app.preprocess_request()
                assert session["user_id"] == 1
        """,
        name="tests/test_app.py",
        others={"tests/conftest.py": CONFTEST},
    )


def test_test_client_noop(project: Path) -> None:
    check_noop(
        project,
        """\
        async def test_index(client):
            response = await client.get("/", query_string={"page": 2})
            assert await response.get_data() == b""
            async with client.session_transaction() as session:
                session["uid"] = 1
        """,
        name="tests/test_app.py",
    )


def test_pytest_asyncio_config(project: Path) -> None:
    result = _fix(
        project,
        {
            "pyproject.toml": '[project]\nname = "app"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
            "tests/test_app.py": 'def test_index(client):\n    assert client.get("/").status_code == 200\n',
            "tests/conftest.py": CONFTEST,
        },
        None,
        False,
    )
    assert result["pyproject.toml"] == (
        '[project]\nname = "app"\n\n[tool.pytest.ini_options]\n'
        'asyncio_mode = "auto"\nasyncio_default_fixture_loop_scope = "function"\n'
        'testpaths = ["tests"]\n'
    )


def test_pytest_asyncio_config_noop(project: Path) -> None:
    check_noop(
        project, '[tool.pytest.ini_options]\nasyncio_mode = "strict"\n', name="pyproject.toml"
    )


# -- QM5xx, QM7xx: dependencies, config, CLI commands ------------------------------------


def test_flask_dependency(project: Path) -> None:
    check_transformed(
        project,
        "requests>=2\nflask>=3.1  # web\n",
        "requests>=2\nquart>=3.1  # web\n",
        unsafe=True,
        name="requirements.txt",
    )


def test_flask_dependency_noop(project: Path) -> None:
    check_noop(
        project, '[project]\nname = "flaskr"\ndependencies = ["quart"]\n', name="pyproject.toml"
    )


def test_max_content_length(project: Path) -> None:
    check_transformed(
        project,
        "from flask import Flask\n\napp = Flask(__name__)\n",
        "from flask import Flask\n\napp = Flask(__name__)\n"
        "app.config[\"MAX_CONTENT_LENGTH\"] = None  # Flask's default: no limit (Quart's is 16 MiB)\n",
        ["QM709"],
        unsafe=True,
    )


def test_max_content_length_noop(project: Path) -> None:
    check_noop(project, "from quart import Quart\n\napp = Quart(__name__).make_shell_context\n")


def test_click_command(project: Path) -> None:
    check_transformed(
        project,
        """\
        import click
        from quart import current_app


        def init_db():
            with current_app.open_resource("schema.sql") as f:
                return f.read()


        def report():
            return init_db()


        @click.command("init-db")
        @click.option("--force", is_flag=True)
        def init_db_command(force):
            \"\"\"Create the tables.\"\"\"
            report()
            click.echo("Initialized the database.")
        """,
        """\
        import asyncio

        import click
        from quart import current_app


        async def init_db():
            async with await current_app.open_resource("schema.sql") as f:
                return await f.read()


        async def report():
            return await init_db()


        @click.command("init-db")
        @click.option("--force", is_flag=True)
        @click.pass_obj
        def init_db_command(script_info, force):
            \"\"\"Create the tables.\"\"\"
            async def in_app_context():
                async with script_info.load_app().app_context():
                    await report()
                    click.echo("Initialized the database.")

            return asyncio.run(in_app_context())
        """,
    )


def test_click_command_noop(project: Path) -> None:
    check_noop(
        project,
        """\
        import click


        @click.command("hello")
        def hello():
            click.echo("hello")
        """,
    )


def test_rule_pages_describe_every_fixer() -> None:
    from migrate.checker.fixers.catalog import FIXES
    from migrate.checker.fixers.rules import FIXERS

    whole_run = {"QM409", "QM504", "QM505", "QM680", "QM709"}
    assert sorted(FIXES) == sorted({*FIXERS, *whole_run})
    page = (Path(__file__).parents[2] / "docs" / "rules" / "QM202.md").read_text()
    assert "Fix: none (display-only): the finding needs a decision." in page


def test_startup_block(project: Path) -> None:
    check_transformed(
        project,
        """\
        from flask import Flask


        def create_tables():
            pass


        def create_app():
            app = Flask(__name__)
            app.config["MAX_CONTENT_LENGTH"] = 1
            with app.app_context():  # start-up work
                create_tables()
            return app
        """,
        """\
        from flask import Flask


        def create_tables():
            pass


        def create_app():
            app = Flask(__name__)
            app.config["MAX_CONTENT_LENGTH"] = 1
            @app.before_serving
            async def start_up():  # start-up work
                create_tables()
            return app
        """,
        ["QM214"],
        unsafe=True,
    )


def test_startup_block_noop(project: Path) -> None:
    check_noop(
        project,
        """\
        from flask import Flask


        def create_app():
            app = Flask(__name__)
            app.config["MAX_CONTENT_LENGTH"] = 1
            with app.app_context() as ctx:
                ctx.g.ready = True
            return app
        """,
        ["QM214"],
    )


STARTING_FACTORY = """\
from flask import Flask


def create_tables():
    pass


def create_app():
    app = Flask(__name__)
    with app.app_context():
        create_tables()
    return app
"""


def test_script_context_starts_the_app(project: Path) -> None:
    # The factory's start-up work moves into a ``before_serving`` function (QM214), which
    # ``app.app_context()`` does not run: a script that builds the app starts it itself.
    result = check_transformed(
        project,
        """\
        from flask import current_app

        from shop import create_app


        def seed(names):
            app = create_app()
            with app.app_context():  # the tables exist
                for name in names:
                    print(current_app.name, name)

                note = \"\"\"two
                lines\"\"\"
                print(note)
        """,
        """\
        from quart import current_app

        from shop import create_app


        async def seed(names):
            app = create_app()
            await app.startup()
            try:
                async with app.app_context():  # the tables exist
                    for name in names:
                        print(current_app.name, name)

                    note = \"\"\"two
                lines\"\"\"
                    print(note)
            finally:
                await app.shutdown()
        """,
        ["QM101", "QM211", "QM214", "QM306"],
        unsafe=True,
        name="shop/cli.py",
        others={"shop/__init__.py": STARTING_FACTORY},
    )
    assert "@app.before_serving" in result["shop/__init__.py"]


def test_script_context_without_startup_work(project: Path) -> None:
    factory = STARTING_FACTORY.replace("    with app.app_context():\n        create_tables()\n", "")
    check_transformed(
        project,
        """\
        from shop import create_app


        def seed():
            app = create_app()
            with app.app_context():
                print(app.name)
        """,
        """\
        from shop import create_app


        async def seed():
            app = create_app()
            async with app.app_context():
                print(app.name)
        """,
        ["QM211", "QM214", "QM306"],
        unsafe=True,
        name="shop/cli.py",
        others={"shop/__init__.py": factory},
    )


def test_script_context_starts_the_app_noop(project: Path) -> None:
    (project / "shop").mkdir()
    (project / "shop" / "__init__.py").write_text(STARTING_FACTORY)
    check_noop(
        project,
        """\
        from shop import create_app


        async def seed(app_from_caller):
            app = create_app()
            await app.startup()
            try:
                async with app.app_context():
                    print(app.name)
            finally:
                await app.shutdown()
            async with app_from_caller.app_context():
                print(app_from_caller.name)
        """,
        ["QM211", "QM306"],
        name="shop/cli.py",
    )


def test_click_command_starts_the_app(project: Path) -> None:
    # ``flask`` ran the factory's start-up work when it loaded the app; ``quart`` does not.
    check_transformed(
        project,
        """\
        import click
        from flask import current_app
        from flask.cli import with_appcontext


        def init_db():
            with current_app.open_resource("schema.sql") as f:
                return f.read()


        @click.command("init-db")
        @with_appcontext
        def init_db_command():
            init_db()  # the tables exist
        """,
        """\
        import asyncio

        import click
        from flask import current_app


        async def init_db():
            async with await current_app.open_resource("schema.sql") as f:
                return await f.read()


        @click.command("init-db")
        @click.pass_obj
        def init_db_command(script_info):
            async def in_app_context():
                app = script_info.load_app()
                await app.startup()
                try:
                    async with app.app_context():
                        await init_db()  # the tables exist
                finally:
                    await app.shutdown()

            return asyncio.run(in_app_context())
        """,
        ["QM209", "QM214", "QM305", "QM306", "QM307"],
        unsafe=True,
        name="shop/cli.py",
        others={"shop/__init__.py": STARTING_FACTORY},
    )


def test_click_command_with_appcontext(project: Path) -> None:
    check_transformed(
        project,
        """\
        import click
        from flask import current_app
        from flask.cli import with_appcontext


        def init_db():
            with current_app.open_resource("schema.sql") as f:
                return f.read()


        @click.command("init-db")
        @with_appcontext
        def init_db_command():
            init_db()
        """,
        """\
        import asyncio

        import click
        from flask import current_app


        async def init_db():
            async with await current_app.open_resource("schema.sql") as f:
                return await f.read()


        @click.command("init-db")
        @click.pass_obj
        def init_db_command(script_info):
            async def in_app_context():
                async with script_info.load_app().app_context():
                    await init_db()

            return asyncio.run(in_app_context())
        """,
        ["QM209", "QM305", "QM306", "QM307"],
    )


def test_click_commands_with_appcontext_drop_its_import(project: Path) -> None:
    result = _fix(
        project,
        {
            APP: textwrap.dedent(
                """\
                import click
                from flask import current_app
                from flask.cli import with_appcontext


                def init_db():
                    with current_app.open_resource("schema.sql") as f:
                        return f.read()


                @click.command("init-db")
                @with_appcontext
                def init_db_command():
                    init_db()


                @click.command("reset-db")
                @with_appcontext
                def reset_db_command():
                    init_db()
                """
            ),
        },
        ["QM209", "QM305", "QM306", "QM307"],
        False,
    )
    assert "with_appcontext" not in result[APP]
    assert result[APP].count("@click.pass_obj") == 2
    ast.parse(result[APP])


def test_with_appcontext_import_kept_while_used(project: Path) -> None:
    # ``with_appcontext`` still wraps a function that is not a click command.
    result = _fix(
        project,
        {
            APP: textwrap.dedent(
                """\
                import click
                from flask import current_app
                from flask.cli import with_appcontext


                def init_db():
                    with current_app.open_resource("schema.sql") as f:
                        return f.read()


                @click.command("init-db")
                @with_appcontext
                def init_db_command():
                    init_db()


                seed = with_appcontext(print)
                """
            ),
        },
        ["QM209", "QM305", "QM306", "QM307"],
        False,
    )
    assert "from flask.cli import with_appcontext\n" in result[APP]
    assert "@with_appcontext" not in result[APP]
    assert "seed = with_appcontext(print)" in result[APP]


SQLITE_CLOSED_TEST = """\
import sqlite3

import pytest
from pkg.db import get_db


def test_get_close_db(app):
    with app.app_context():
        db = get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)
"""


def test_closed_connection_message(project: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/db.py": SQLITE_DB,
        "pkg/views.py": SQLITE_VIEWS,
        "tests/test_db.py": SQLITE_CLOSED_TEST,
    }
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    outcome = fix_run(discover([project]), enabled_codes(None), unsafe=True, jobs=1)
    # aiosqlite's error and message for a connection's call; sqlite3 is no longer used.
    assert outcome.texts["tests/test_db.py"] == textwrap.dedent(
        """\
        import pytest
        from pkg.db import get_db


        async def test_get_close_db(app):
            async with app.app_context():
                db = await get_db()

            with pytest.raises(ValueError) as e:
                await db.execute("SELECT 1")

            assert "no active connection" in str(e.value)
        """
    )
    assert [f for f in outcome.report.findings if f.path == "tests/test_db.py"] == []
    for name, text in outcome.texts.items():
        (project / name).write_text(text)
    again = fix_run(discover([project]), enabled_codes(None), unsafe=True, jobs=1)
    assert again.changed() == []


AIOSQLITE_DB = (
    "import aiosqlite\n\n\nasync def connect():\n    return await aiosqlite.connect(':memory:')\n"
)


def test_closed_cursor_message(project: Path) -> None:
    (project / "pkg").mkdir()
    (project / "pkg/db.py").write_text(AIOSQLITE_DB)
    check_transformed(
        project,
        """\
        import sqlite3

        import pytest


        async def test_closed(db):
            cursor = await db.execute("SELECT 1")
            await db.close()
            with pytest.raises(sqlite3.ProgrammingError, match='closed'):
                await cursor.fetchone()
            assert sqlite3.sqlite_version
        """,
        """\
        import sqlite3

        import pytest


        async def test_closed(db):
            cursor = await db.execute("SELECT 1")
            await db.close()
            with pytest.raises(ValueError, match='Connection closed'):
                await cursor.fetchone()
            assert sqlite3.sqlite_version
        """,
        ["QM681"],
        unsafe=True,
        name="tests/test_db.py",
    )


@pytest.mark.parametrize(
    "body",
    [
        # Another error's message: aiosqlite raises sqlite3's own there.
        "    with pytest.raises(sqlite3.ProgrammingError) as e:\n"
        "        await db.execute('SELECT ?')\n    assert 'bindings' in str(e.value)\n",
        # The error read another way than a substring check.
        "    with pytest.raises(sqlite3.ProgrammingError) as e:\n"
        "        await db.execute('SELECT 1')\n    assert e.value.args == ('closed',)\n",
        # Two calls in the block: which one raised is not known.
        "    with pytest.raises(sqlite3.ProgrammingError, match='closed'):\n"
        "        await db.execute('SELECT 1')\n        await db.commit()\n",
    ],
)
def test_closed_connection_message_noop(project: Path, body: str) -> None:
    (project / "pkg").mkdir()
    (project / "pkg/db.py").write_text(AIOSQLITE_DB)
    head = "import sqlite3\n\nimport pytest\n\n\nasync def test_closed(db):\n"
    check_noop(project, head + body, ["QM681"], name="tests/test_db.py")
    report = fix_run(discover([project]), enabled_codes(["QM681"]), True, jobs=1).report
    assert [f.code for f in report.findings] == ["QM681"]


def test_closed_connection_message_needs_unsafe(project: Path) -> None:
    (project / "pkg").mkdir()
    (project / "pkg/db.py").write_text(AIOSQLITE_DB)
    source = (
        "import sqlite3\n\nimport pytest\n\n\nasync def test_closed(db):\n"
        "    with pytest.raises(sqlite3.ProgrammingError, match='closed'):\n"
        "        await db.execute('SELECT 1')\n"
    )
    check_noop(project, source, ["QM681"], unsafe=False, name="tests/test_db.py")


@pytest.mark.parametrize(
    "source",
    [
        # The type alone: the widened ``pytest.raises`` holds on aiosqlite.
        "def test_closed(db):\n    with pytest.raises(sqlite3.ProgrammingError):\n"
        "        db.execute('SELECT 1')\n",
        # Another error of sqlite3's: aiosqlite raises it unchanged.
        "def test_unique(db):\n    with pytest.raises(sqlite3.IntegrityError) as e:\n"
        "        db.execute('INSERT')\n    assert 'UNIQUE' in str(e.value)\n",
        # The message checked, where no connection in the run is sqlite3's or aiosqlite's.
        "def test_other(db):\n    with pytest.raises(sqlite3.ProgrammingError) as e:\n"
        "        db.execute('SELECT 1')\n    assert 'closed' in str(e.value)\n",
    ],
)
def test_closed_connection_noop(project: Path, source: str) -> None:
    head = "import sqlite3\n\nimport pytest\n\n\n"
    check_noop(project, head + source, ["QM681"], name="tests/test_db.py")
    report = fix_run(discover([project]), enabled_codes(["QM681"]), True, jobs=1).report
    assert report.findings == []


def test_closed_connection_message_found(project: Path) -> None:
    source = SQLITE_CLOSED_TEST.replace("from pkg.db import get_db", "from pkg.db import db")
    (project / "pkg").mkdir()
    (project / "pkg/db.py").write_text("import sqlite3\n\ndb = sqlite3.connect(':memory:')\n")
    check_noop(project, source, ["QM681"], name="tests/test_db.py")
    report = fix_run(discover([project]), enabled_codes(["QM681"]), True, jobs=1).report
    assert [(f.code, f.line) for f in report.findings] == [("QM681", 11)]


def test_dependencies_follow_the_fixes(project: Path) -> None:
    pyproject = (
        '[project]\nname = "pkg"\ndependencies = [\n    "flask>=3",\n]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    result = _fix(
        project,
        {
            "pyproject.toml": pyproject,
            "pkg/__init__.py": "",
            "pkg/db.py": SQLITE_DB,
            "pkg/views.py": SQLITE_VIEWS,
            "tests/test_db.py": SQLITE_TEST,
        },
        None,
        True,
    )
    assert result["pyproject.toml"] == (
        '[project]\nname = "pkg"\ndependencies = [\n    "quart>=3",\n    "aiosqlite",\n]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest", "pytest-asyncio"]\n\n'
        '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\ntestpaths = ["tests"]\n'
    )


def test_uploads_and_static_files(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        @app.post("/upload")
        def upload():
            request.files["f"].save("/tmp/x")
            return app.send_static_file("index.html")
        """,
        IFLASK_VIEW
        + """
        @app.post("/upload")
        async def upload():
            await (await request.files)["f"].save("/tmp/x")
            return await app.send_static_file("index.html")
        """,
        ["QM201", "QM207", "QM210", "QM301"],
    )


def test_contexts_and_templates_noop(project: Path) -> None:
    check_noop(
        project,
        VIEW
        + """

async def start():
    ctx = app.app_context()
    await ctx.push()
    return await app.jinja_env.get_template("a").render_async(x=1)
""",
    )


def test_worker_pool_fixes_for_each_rule(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        import socket
        import subprocess
        import urllib.request


        @app.get("/")
        async def index():
            subprocess.run(["true"])
            urllib.request.urlretrieve("http://example.com", "x")
            return socket.gethostbyname("localhost")
        """,
        IFLASK_VIEW.replace(
            "from flask import send_from_directory\n",
            "from flask import send_from_directory\n        from quart.utils import run_sync\n",
        )
        + """
        import socket
        import subprocess
        import urllib.request


        @app.get("/")
        async def index():
            await run_sync(subprocess.run)(["true"])
            await run_sync(urllib.request.urlretrieve)("http://example.com", "x")
            return await run_sync(socket.gethostbyname)("localhost")
        """,
        ["QM404", "QM405", "QM414"],
        unsafe=True,
    )


def test_no_await_in_a_generator_expression(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        @app.post("/")
        def index():
            names = list(request.form[k] for k in ("a", "b"))
            title = f"{request.form['t']!r} and {request.json}"
            return {"t": title, "n": names, "all": [request.form[k] for k in names]}
        """,
        IFLASK_VIEW
        + """
        @app.post("/")
        async def index():
            names = list(request.form[k] for k in ("a", "b"))
            title = f"{(await request.form)['t']!r} and {await request.json}"
            return {"t": title, "n": names, "all": [(await request.form)[k] for k in names]}
        """,
        ["QM201", "QM301"],
    )


def test_generators_stay_sync_but_fixtures_do_not(project: Path) -> None:
    check_noop(
        project,
        FLASK_VIEW
        + """

def rows():
    yield request.form["a"]
""",
        ["QM201", "QM306"],
    )
    check_transformed(
        project,
        """\
        import pytest


        @pytest.fixture
        def app():
            app = object()
            with app.app_context():
                pass
            yield app
        """,
        """\
        import pytest


        @pytest.fixture
        async def app():
            app = object()
            async with app.app_context():
                pass
            yield app
        """,
        name="tests/conftest.py",
    )


def test_decorators_and_defaults_run_outside_the_function(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        def make(default=render_template("x.html")):
            @app.get("/", defaults={"page": render_template("y.html")})
            def index(page):
                return render_template("z.html")

            return index
        """,
        IFLASK_VIEW
        + """
        def make(default=render_template("x.html")):
            @app.get("/", defaults={"page": render_template("y.html")})
            async def index(page):
                return await render_template("z.html")

            return index
        """,
        ["QM203", "QM301"],
    )


# -- helpers kept sync, entry points, Flask-Limiter ----------------------------------

BOOK_VIEW = """\
import functools

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

import store

app = Flask(__name__)


def db_session() -> Session:
    return app.extensions["sessions"]()


@functools.cache
def dummy_hash(method: str) -> str:
    # made once per method
    return generate_password_hash("not a password", method=method)


@app.get("/books/<int:book_id>")
def get_book(book_id):
    book = store.get_book(db_session(), book_id)
    db_session().flush()  # the session writes
    db_session().commit()  # a transaction's end stays on the loop
    return {"title": book.title, "hash": dummy_hash("scrypt")}
"""

BOOK_STORE = """\
from sqlalchemy.orm import Session

from models import Book


def get_book(session: Session, book_id: int) -> Book:
    \"\"\"Return the book (the caller commits).\"\"\"
    return session.get(Book, book_id)


def title_of(session: Session, book_id: int) -> str:
    return get_book(session, book_id).title
"""


def test_blocking_helpers_stay_sync_and_run_in_the_pool(project: Path) -> None:
    # A helper around a SQLAlchemy session would still block as ``async def``; a cached one
    # would cache a coroutine. Both stay sync; async code calls them with ``run_sync``.
    result = check_transformed(
        project,
        BOOK_VIEW,
        BOOK_VIEW.replace("from flask import Flask", "from quart import Quart")
        .replace(
            "from sqlalchemy.orm import Session\n",
            "from quart.utils import run_sync\nfrom sqlalchemy.orm import Session\n",
        )
        .replace(
            "app = Flask(__name__)\n",
            "app = Quart(__name__)\n"
            "app.config[\"MAX_CONTENT_LENGTH\"] = None  # Flask's default: no limit (Quart's is "
            "16 MiB)\n",
        )
        .replace("def get_book(book_id)", "async def get_book(book_id)")
        .replace("store.get_book(", "await run_sync(store.get_book)(")
        .replace("db_session().flush()", "await run_sync(db_session().flush)()")
        .replace('dummy_hash("scrypt")', 'await run_sync(dummy_hash)("scrypt")'),
        unsafe=True,
        others={"store.py": BOOK_STORE},
    )
    assert result["store.py"] == BOOK_STORE


def test_blocking_helpers_need_unsafe(project: Path) -> None:
    result = _fix(project, {APP: BOOK_VIEW, "store.py": BOOK_STORE}, None, unsafe=False)
    assert "async def dummy_hash" not in result[APP]
    assert "run_sync" not in result[APP]
    assert "async def get_book(book_id)" in result[APP]
    assert result["store.py"] == BOOK_STORE


def test_helpers_without_async_callers_noop(project: Path) -> None:
    check_noop(project, BOOK_STORE, name="store.py")


CLI = """\
import sys

from app import app


def manage(name):
    with app.app_context():
        print(name)
    return 0


def main(argv=None):
    args = argv or sys.argv[1:]
    return manage(args[0])
"""


def test_entry_points_stay_sync(project: Path) -> None:
    # ``main`` is called at module level: it stays sync and runs ``manage`` with asyncio.
    check_transformed(
        project,
        CLI,
        "import asyncio\n"
        + CLI.replace("def manage", "async def manage")
        .replace("    with app", "    async with app")
        .replace("return manage(args[0])", "return asyncio.run(manage(args[0]))"),
        unsafe=True,
        name="cli.py",
        others={
            "__main__.py": "from cli import main\n\nraise SystemExit(main())\n",
            APP: "from flask import Flask\n\napp = Flask(__name__)\n",
        },
    )


def test_entry_points_noop(project: Path) -> None:
    check_noop(project, "import sys\n\n\ndef main():\n    return 0\n\n\nsys.exit(main())\n")


LIMITER_SETUP = """\
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def init_limiter(app: Flask) -> Limiter:
    \"\"\"Count by client address.\"\"\"
    return Limiter(get_remote_address, app=app)
"""

LIMITER_USE = """\
from flask import Flask

from ext import init_limiter


def create_app(limit: int) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None

    @app.post("/register")
    def register():
        return "", 201

    @app.post("/login")
    def login():
        return "", 204

    limiter = init_limiter(app)
    app.view_functions["register"] = limiter.limit(
        f"{limit} per 60 seconds",  # each costs a hash
        error_message="too many",
    )(register)
    app.view_functions["login"] = limiter.limit("5/minute", error_message="slow down")(login)
    return app
"""


def test_flask_limiter_to_quart_rate_limiter(project: Path) -> None:
    result = check_transformed(
        project,
        LIMITER_USE,
        "from datetime import timedelta\n\n"
        + LIMITER_USE.replace("Flask", "Quart")
        .replace("from flask import", "from quart import")
        .replace(
            "from ext import init_limiter\n",
            "from ext import init_limiter\nfrom quart_rate_limiter import rate_limit\n",
        )
        .replace("    def register", "    async def register")
        .replace("    def login", "    async def login")
        .replace("    limiter = init_limiter(app)", "    init_limiter(app)")
        .replace(
            'limiter.limit(\n        f"{limit} per 60 seconds",  # each costs a hash\n'
            '        error_message="too many",\n',
            "rate_limit(\n        limit, timedelta(seconds=60),  # each costs a hash\n",
        )
        .replace(
            'limiter.limit("5/minute", error_message="slow down")',
            "rate_limit(5, timedelta(minutes=1))",
        ),
        unsafe=True,
        others={"ext.py": LIMITER_SETUP},
    )
    assert result["ext.py"] == (
        "from quart import Quart\n"
        "from quart_rate_limiter import RateLimiter\n"
        "from quart import request\n"
        "\n\n"
        "async def remote_address() -> str:\n"
        '    """Return the client\'s address: what the rate limits count by."""\n'
        '    return request.remote_addr or "127.0.0.1"\n'
        "\n\n"
        "def init_limiter(app: Quart) -> RateLimiter:\n"
        '    """Count by client address."""\n'
        "    return RateLimiter(app, key_function=remote_address)\n"
    )


@pytest.mark.parametrize(
    "use",
    [
        'limiter.limit("5/minute", deduct_when=lambda r: r.status_code >= 400)(login)',
        'limiter.limit("5/minute;100/day")(login)',
        "limiter.exempt(login)",
    ],
)
def test_flask_limiter_without_a_counterpart_noop(project: Path, use: str) -> None:
    source = LIMITER_USE.replace('limiter.limit("5/minute", error_message="slow down")(login)', use)
    result = _fix(project, {APP: source, "ext.py": LIMITER_SETUP}, ["QM505"], unsafe=True)
    assert result == {APP: source, "ext.py": LIMITER_SETUP}


LIMITED_VIEW = """\
from flask import Flask

from ext import init_limiter
from messages import LIMIT_MESSAGE
from messages import SLOW_DOWN


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None

    @app.post("/login")
    def login():
        return SLOW_DOWN, 204

    limiter = init_limiter(app)
    app.view_functions["login"] = limiter.limit(
        "5/minute", error_message=LIMIT_MESSAGE
    )(login)
    app.view_functions["login"] = limiter.limit("5/minute", error_message=SLOW_DOWN)(login)
    return app
"""


def test_flask_limiter_swap_drops_the_message_import(project: Path) -> None:
    # ``error_message=`` goes; so does the import of a name only it used (SLOW_DOWN stays).
    messages = 'LIMIT_MESSAGE = "too many"\nSLOW_DOWN = "slow down"\n'
    result = _fix(
        project,
        {APP: LIMITED_VIEW, "ext.py": LIMITER_SETUP, "messages.py": messages},
        ["QM505"],
        unsafe=True,
    )
    assert "from messages import LIMIT_MESSAGE\n" not in result[APP]
    assert "from messages import SLOW_DOWN\n" in result[APP]
    assert "LIMIT_MESSAGE" not in result[APP]
    assert "rate_limit(\n        5, timedelta(minutes=1)\n    )(login)" in result[APP]


LIMITER_ERRORS = """\
import math
import time

from flask import Flask
from flask import Response
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException


def problem_response(exc: HTTPException) -> Response:
    return Response(exc.description, status=exc.code, mimetype="application/problem+json")


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    response = problem_response(exc)
    response.headers["Retry-After"] = str(math.ceil(time.time() % 60))
    return response


def register_error_handlers(app: Flask) -> None:
    \"\"\"Render every error as a problem document.\"\"\"
    app.register_error_handler(HTTPException, problem_response)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)  # Flask-Limiter's 429
    app.register_error_handler(ValueError, problem_response)
"""


def test_flask_limiter_swap_drops_its_429_handler(project: Path) -> None:
    # quart-rate-limiter's 429 is a werkzeug HTTPException with Retry-After: the app's
    # HTTPException handler renders it; Flask-Limiter's exception is never raised again.
    result = _fix(
        project,
        {APP: LIMITER_USE, "ext.py": LIMITER_SETUP, "errors.py": LIMITER_ERRORS},
        ["QM505"],
        unsafe=True,
    )
    assert result["errors.py"] == (
        "from flask import Flask\n"
        "from flask import Response\n"
        "from werkzeug.exceptions import HTTPException\n"
        "\n\n"
        "def problem_response(exc: HTTPException) -> Response:\n"
        '    return Response(exc.description, status=exc.code, mimetype="application/problem+json")\n'
        "\n\n"
        "def register_error_handlers(app: Flask) -> None:\n"
        '    """Render every error as a problem document."""\n'
        "    app.register_error_handler(HTTPException, problem_response)\n"
        "    app.register_error_handler(ValueError, problem_response)\n"
    )
    again = _fix(project, result, ["QM505"], unsafe=True)
    assert again == result


@pytest.mark.parametrize(
    "change",
    [
        # No handler of HTTPException: the 429 handler is the app's only 429 body.
        ("    app.register_error_handler(HTTPException, problem_response)\n", ""),
        # The handler is used elsewhere.
        (
            "    app.register_error_handler(ValueError, problem_response)",
            "    h = _too_many_requests",
        ),
        # The class is used elsewhere.
        ("import time\n", "import time\nKINDS = (RateLimitExceeded,)\n"),
    ],
)
def test_flask_limiter_swap_keeps_a_live_429_handler_noop(
    project: Path, change: tuple[str, str]
) -> None:
    errors = LIMITER_ERRORS.replace(*change)
    assert errors != LIMITER_ERRORS
    result = _fix(
        project,
        {APP: LIMITER_USE, "ext.py": LIMITER_SETUP, "errors.py": errors},
        ["QM505"],
        unsafe=True,
    )
    assert result["errors.py"] == errors
    assert result[APP] != LIMITER_USE  # the swap itself was made


def test_long_fixed_lines_are_split_as_ruff_format_splits_them(project: Path) -> None:
    check_transformed(
        project,
        """\
        import io

        from flask import Flask
        from flask import send_file

        app = Flask(__name__)
        app.config["MAX_CONTENT_LENGTH"] = None


        @app.get("/cover")
        def cover():
            response = send_file(io.BytesIO(b"a cover"), mimetype="image/png", max_age=0)  # cached
            return send_file(io.BytesIO(b"a cover"), mimetype="image/png", download_name="c.png", max_age=0)


        @app.get("/short")
        def short():
            return send_file(io.BytesIO(b"a cover"), mimetype="image/png")
        """,
        """\
        import io

        from quart import Quart
        from quart import send_file

        app = Quart(__name__)
        app.config["MAX_CONTENT_LENGTH"] = None


        @app.get("/cover")
        async def cover():
            response = await send_file(
                io.BytesIO(b"a cover"), mimetype="image/png", cache_timeout=0, conditional=True
            )  # cached
            return await send_file(
                io.BytesIO(b"a cover"),
                mimetype="image/png",
                attachment_filename="c.png",
                cache_timeout=0,
                conditional=True,
            )


        @app.get("/short")
        async def short():
            return await send_file(io.BytesIO(b"a cover"), mimetype="image/png", conditional=True)
        """,
    )


def test_long_arguments_line_is_exploded() -> None:
    from migrate.checker.wrapping import wrap

    before = "x = f(\n    a, b\n)\n"
    after = "x = f(\n    " + ", ".join(["await run_sync(g)(a_long_argument)"] * 3) + "\n)\n"
    assert wrap(before, after) == (
        "x = f(\n"
        "    await run_sync(g)(a_long_argument),\n"
        "    await run_sync(g)(a_long_argument),\n"
        "    await run_sync(g)(a_long_argument),\n"
        ")\n"
    )


@pytest.mark.parametrize(
    "line",
    [
        # Long before the fix: left as it was.
        "x = f(" + ", ".join(["argument"] * 12) + ")",
        # A condition: ruff splits it at its operator, which this does not do.
        "if await run_sync(find_one_book)(session, str(fields['isbn']), more_arguments,"
        " and_more_args) is None:",
        # A bare generator argument (no trailing comma allowed), too long for one line.
        "x = f(" + " + ".join(["item"] * 20) + " for item in items)",
    ],
)
def test_long_lines_of_other_shapes_stay_noop(line: str) -> None:
    from migrate.checker.wrapping import wrap

    before = "x = f(" + ", ".join(["argument"] * 12) + ")\n"
    after = line + ("\n    pass\n" if line.endswith(":") else "\n")
    assert len(line) > 99
    assert wrap(before, after) == after


def test_send_file_keeps_flasks_conditional_default(project: Path) -> None:
    check_transformed(
        project,
        IFLASK_VIEW
        + """
        @app.get("/a")
        def a():
            return send_file("a.png", conditional=False)
        """,
        IFLASK_VIEW
        + """
        @app.get("/a")
        async def a():
            return await send_file("a.png", conditional=False)
        """,
        ["QM205", "QM301"],
    )


def test_a_local_name_is_not_the_module_function_it_shadows(project: Path) -> None:
    # ``hello`` in the view is the macro it assigned, not the view: no ``await``.
    check_transformed(
        project,
        """\
        from flask import Flask

        app = Flask(__name__)


        @app.get("/<name>")
        def hello(name):
            hello = app.jinja_env.globals["hello"]
            return hello(name)
        """,
        """\
        from quart import Quart

        app = Quart(__name__)


        @app.get("/<name>")
        async def hello(name):
            hello = app.jinja_env.globals["hello"]
            return hello(name)
        """,
        select=["QM101", "QM102", "QM301", "QM307"],
    )


BLOCKING_HELPER = """\
import sqlite3

from flask import Flask, g

app = Flask(__name__)


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("app.db")
    return g.db


@app.get("/")
def index():
    db = get_db()
    return str(db)
"""


def test_the_await_of_a_function_an_unsafe_fix_makes_async_is_unsafe(project: Path) -> None:
    # Safe fixes alone keep ``get_db`` sync (its async form is the unsafe aiosqlite move):
    # ``await get_db()`` would await a connection. With unsafe fixes both edits are made.
    safe = check_transformed(
        project,
        BLOCKING_HELPER,
        BLOCKING_HELPER.replace("from flask import Flask, g", "from quart import Quart, g")
        .replace("app = Flask(", "app = Quart(")
        .replace("def index", "async def index"),
    )
    assert "await get_db()" not in safe[APP]
    (project / APP).write_text(BLOCKING_HELPER)
    result = _fix(project, {APP: BLOCKING_HELPER}, None, unsafe=True)
    assert "async def get_db():" in result[APP]
    assert "db = await get_db()" in result[APP]


def test_a_function_imported_inside_the_caller_is_still_awaited(project: Path) -> None:
    check_transformed(
        project,
        """\
        from flask import Flask, render_template

        app = Flask(__name__)


        def page():
            return render_template("page.html")


        @app.get("/")
        def index():
            from app import page

            return page()
        """,
        """\
        from quart import Quart, render_template

        app = Quart(__name__)


        async def page():
            return await render_template("page.html")


        @app.get("/")
        async def index():
            from app import page

            return await page()
        """,
    )


# -- QM609 the crash page, QM721 Vary: Cookie -------------------------------------------

ERROR_PAGE_APP = """\
from quart import Quart

app = Quart(__name__)


@app.post("/register")
async def register():
    return "Username is required."
"""


def test_status_checked_before_the_body(project: Path) -> None:
    check_transformed(
        project,
        """\
        async def test_register(client):
            response = await client.post(  # the form
                "/register", form={}
            )
            assert b"Log In" in await response.data
            assert b"Username is required." in await response.data
        """,
        """\
        async def test_register(client):
            response = await client.post(  # the form
                "/register", form={}
            )
            assert response.status_code != 500
            assert b"Log In" in await response.data
            assert b"Username is required." in await response.data
        """,
        ["QM609"],
        unsafe=True,
        name="tests/test_app.py",
        others={APP: ERROR_PAGE_APP},
    )


@pytest.mark.parametrize(
    "test",
    [
        # The status is checked already.
        "async def test_register(client):\n    response = await client.post('/register')\n"
        "    assert response.status_code == 200\n"
        "    assert b'Username is required.' in await response.data\n",
        # The response is not held in a name.
        "async def test_register(client):\n"
        "    assert b'Username is required.' in await (await client.post('/register')).data\n",
        # Assigned on a line shared with another statement.
        "async def test_register(client):\n    response = await client.post('/register'); n = 1\n"
        "    assert b'Username is required.' in await response.data\n",
    ],
)
def test_status_check_noop(project: Path, test: str) -> None:
    (project / APP).write_text(ERROR_PAGE_APP)
    check_noop(project, test, ["QM609"], name="tests/test_app.py")


SESSION_VIEWS = """\
from quart import Blueprint
from quart import g
from quart import session

bp = Blueprint("auth", __name__)


@bp.before_app_request
async def load_user():
    \"\"\"Load the user of the session.\"\"\"
    g.user = session.get("user_id")


@bp.get("/public")
async def public():
    return "hello"
"""


def test_vary_on_cookie(project: Path) -> None:
    check_transformed(
        project,
        SESSION_VIEWS,
        SESSION_VIEWS.replace(
            '    """Load the user of the session."""\n',
            '    """Load the user of the session."""\n    g.session_read = True\n',
        )
        + "\n\n@bp.after_app_request\nasync def vary_on_cookie(response):\n"
        "    # Flask adds Vary: Cookie when a request used the session; Quart 0.22 does not.\n"
        '    if g.get("session_read"):\n        response.vary.add("Cookie")\n'
        "    return response\n",
        ["QM721"],
        unsafe=True,
    )


def test_vary_on_cookie_of_an_app_imports_g(project: Path) -> None:
    check_transformed(
        project,
        """\
        from quart import Quart
        from quart import session

        app = Quart(__name__)


        @app.get("/me")
        async def me():
            return {"user": session.get("user_id")}
        """,
        """\
        from quart import Quart
        from quart import session
        from quart import g

        app = Quart(__name__)


        @app.get("/me")
        async def me():
            g.session_read = True
            return {"user": session.get("user_id")}


        @app.after_request
        async def vary_on_cookie(response):
            # Flask adds Vary: Cookie when a request used the session; Quart 0.22 does not.
            if g.get("session_read"):
                response.vary.add("Cookie")
            return response
        """,
        ["QM721"],
        unsafe=True,
    )


@pytest.mark.parametrize(
    "source",
    [
        # No blueprint or app in the module to hang the hook on.
        "from quart import session\n\n\nasync def user_id():\n    return session.get('id')\n",
        # A use outside a def.
        "from quart import Quart\nfrom quart import session\n\napp = Quart(__name__)\n"
        "current = lambda: session.get('id')\n",
        # A one-line def.
        "from quart import Quart\nfrom quart import session\n\napp = Quart(__name__)\n\n\n"
        "def user_id(): return session.get('id')\n",
    ],
)
def test_vary_on_cookie_noop(project: Path, source: str) -> None:
    check_noop(project, source, ["QM721"])
    report = fix_run(discover([project]), enabled_codes(["QM721"]), True, jobs=1).report
    assert [f.code for f in report.findings] == ["QM721"]


def test_vary_on_cookie_serves(project: Path) -> None:
    # The converted module, served by Quart's test client: the answer that read the
    # session varies on the cookie, the one that did not stays cacheable.
    import asyncio
    import importlib.util

    source = (
        "from quart import Quart\nfrom quart import session\n\napp = Quart(__name__)\n"
        'app.secret_key = "test"\n\n\n@app.get("/me")\nasync def me():\n'
        '    return {"user": session.get("user_id")}\n\n\n@app.get("/public")\n'
        'async def public():\n    return "hello"\n'
    )
    (project / APP).write_text(source)
    outcome = fix_run(discover([project]), enabled_codes(["QM721"]), True, jobs=1)
    (project / APP).write_text(outcome.texts[APP])
    spec = importlib.util.spec_from_file_location("converted_session_app", project / APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    async def answers() -> tuple[str, str]:
        client = module.app.test_client()
        me = await client.get("/me")
        public = await client.get("/public")
        assert me.status_code == public.status_code == 200
        return me.headers.get("Vary", ""), public.headers.get("Vary", "")

    me, public = asyncio.run(answers())
    assert "Cookie" in me
    assert "Cookie" not in public


# -- QM710 the environment prefix, QM211 in a function that stays sync ----------------


def test_env_prefix(project: Path) -> None:
    check_transformed(
        project,
        "from quart import Quart\n\napp = Quart(__name__)\napp.config.from_prefixed_env()\n",
        'from quart import Quart\n\napp = Quart(__name__)\napp.config.from_prefixed_env(prefix="FLASK")\n',
        ["QM710"],
    )


TASK_CLASS = """\
from quart import Quart
from quart import current_app

app = Quart(__name__)


class AppTask:
    def run(self, suffix):
        return current_app.name + suffix

    def __call__(self, *args, **kwargs):
        # Celery calls this in a worker, with no event loop running.
        with app.app_context():
            return self.run(*args, **kwargs)
"""


def test_app_context_in_a_special_method(project: Path) -> None:
    result = check_transformed(
        project,
        TASK_CLASS,
        "import asyncio\n\n"
        + TASK_CLASS.replace(
            "        with app.app_context():\n            return self.run(*args, **kwargs)\n",
            "        async def in_app_context():\n"
            "            async with app.app_context():\n"
            "                return self.run(*args, **kwargs)\n\n"
            "        return asyncio.run(in_app_context())\n",
        ),
        ["QM211"],
        unsafe=True,
    )
    # The rewritten task runs, in the app's context.
    namespace: dict[str, object] = {"__name__": "task_app"}
    exec(compile(result[APP], APP, "exec"), namespace)
    assert namespace["AppTask"]()("!") == "task_app!"  # type: ignore[operator]


@pytest.mark.parametrize(
    "source",
    [
        # Not the function's last statement: what the block assigns is read after it.
        TASK_CLASS.replace(
            "            return self.run(*args, **kwargs)\n",
            "            result = self.run(*args, **kwargs)\n        return result\n",
        ),
        # A plain function, which may still become async.
        "from quart import Quart\n\napp = Quart(__name__)\n\n\ndef task():\n"
        "    with app.app_context():\n        return 1\n",
    ],
)
def test_app_context_in_a_special_method_noop(project: Path, source: str) -> None:
    check_noop(project, source, ["QM211"])


def test_app_context_in_a_special_method_needs_unsafe(project: Path) -> None:
    check_noop(project, TASK_CLASS, ["QM211"], unsafe=False)
