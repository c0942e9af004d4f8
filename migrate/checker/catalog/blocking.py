"""Rule records of the blocking family; detection is in :mod:`migrate.checker.blocking`.

QM4xx blocking calls that end up on the event loop once views are async.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "blocking"


NOTE = (
    "Blocking calls are reported inside functions that run on the event loop: "
    "every existing `async def`, every function that becomes async (views, error "
    "handlers, request hooks, view-decorator wrappers, functions that await, and "
    "their callers, see QM301-QM307), and every synchronous function those call, "
    "transitively, through the calls the checker can resolve. A function that "
    "becomes async only because it pushes an app context of its own (`with "
    "app.app_context()`: a CLI command, a script, a worker thread), and a function "
    "that becomes async only by calling such functions, serves no request and is not "
    "counted; neither is a function reached only from a thread of the app's own "
    "(the `run` method of a `threading.Thread` subclass, `Thread(target=f)`, "
    "`Timer(s, f)`) and not from a view, hook or handler. Start-up work moved to "
    "`before_serving` (QM214) is counted. Calls at module "
    "level, in functions only reached from sync code, in generators (iterated by "
    "Quart in a thread), in functions decorated with `@run_sync`, and calls passed "
    "to `run_sync(...)`, `asyncio.to_thread(...)` or `loop.run_in_executor(...)` "
    "(also inside a `lambda` passed to them) are not reported. Method calls are "
    "reported on values known to hold a blocking client: assigned from a "
    "constructor in the table (`conn = sqlite3.connect(...)`, `with open(p) as f`), "
    "stored on `g` or `self`, or returned by a function of the checked code "
    "(`db = get_db()`)."
)


RUN_SYNC = "or `await run_sync(func)(...)` from `migrate`"


def _rule(
    code: str,
    name: str,
    summary: str,
    fix: str,
    before: str,
    after: str,
    rationale: str,
    source: str,
    minutes: float = 10.0,
) -> Rule:
    return Rule(
        code,
        name,
        CAT,
        summary,
        f"`{{call}}` blocks the event loop: {fix}",
        before,
        after,
        rationale,
        source,
        minutes,
    )


F = "flake8-async docs/rules.rst; Quart docs/how_to_guides/sync_code.rst"


RULES = (
    _rule(
        "QM401",
        "blocking-sleep",
        "`time.sleep`.",
        "use `await asyncio.sleep(seconds)`",
        "time.sleep(0.5)",
        "await asyncio.sleep(0.5)",
        "Mirrors flake8-async ASYNC251.",
        F,
        1.0,
    ),
    _rule(
        "QM402",
        "blocking-requests",
        "`requests` calls and sessions.",
        "use `httpx.AsyncClient` (`await client.get(...)`) or aiohttp, " + RUN_SYNC,
        "r = requests.get(url, timeout=5)",
        "async with httpx.AsyncClient() as client:\n    r = await client.get(url, timeout=5)",
        "Mirrors ASYNC210 and adds `requests.Session` and its methods.",
        F,
    ),
    _rule(
        "QM403",
        "blocking-httpx",
        "Synchronous `httpx` calls and `httpx.Client`.",
        "use `httpx.AsyncClient` and `await` its methods",
        "with httpx.Client() as client:\n    r = client.get(url)",
        "async with httpx.AsyncClient() as client:\n    r = await client.get(url)",
        "Mirrors ASYNC210/ASYNC212.",
        F,
        5.0,
    ),
    _rule(
        "QM404",
        "blocking-urllib",
        "`urllib.request`, `urllib3`, `http.client`.",
        "use `httpx.AsyncClient` or aiohttp, " + RUN_SYNC,
        "with urllib.request.urlopen(url) as r:\n    body = r.read()",
        "async with httpx.AsyncClient() as client:\n    body = (await client.get(url)).content",
        "Mirrors ASYNC210/ASYNC211.",
        F,
    ),
    _rule(
        "QM405",
        "blocking-subprocess",
        "`subprocess`, `os.system`, `os.popen`, `os.wait*`.",
        "use `await asyncio.create_subprocess_exec(...)` and `await proc.communicate()`",
        "out = subprocess.check_output(['git', 'rev-parse', 'HEAD'])",
        "proc = await asyncio.create_subprocess_exec(\n    'git', 'rev-parse', 'HEAD', "
        "stdout=asyncio.subprocess.PIPE\n)\nout, _ = await proc.communicate()",
        "Mirrors ASYNC220/221/222.",
        F,
    ),
    _rule(
        "QM406",
        "blocking-open",
        "`open()` and reads/writes on the file it returns.",
        "use `aiofiles.open` (a Quart dependency) " + RUN_SYNC,
        "with open(path) as f:\n    text = f.read()",
        "async with aiofiles.open(path) as f:\n    text = await f.read()",
        "Mirrors ASYNC230/231/232.",
        F,
        3.0,
    ),
    _rule(
        "QM407",
        "blocking-os-file",
        "`os`, `os.path` and `shutil` file-system calls.",
        "use `aiofiles.os` " + RUN_SYNC,
        "os.makedirs(folder, exist_ok=True)\nshutil.copy(src, dst)",
        "await aiofiles.os.makedirs(folder, exist_ok=True)\nawait run_sync(shutil.copy)(src, dst)",
        "Mirrors ASYNC240 and adds `os.remove`, `os.listdir`, `os.makedirs`, `os.stat`, "
        "`shutil`, `glob` (reported by neither flake8-async nor ruff).",
        F,
        3.0,
    ),
    _rule(
        "QM408",
        "blocking-pathlib",
        "`pathlib.Path` I/O methods.",
        "use `anyio.Path` (`await path.read_text()`) " + RUN_SYNC,
        "text = Path(folder, name).read_text()",
        "text = await anyio.Path(folder, name).read_text()",
        "Mirrors ruff's ASYNC240 for `Path` methods; pure path arithmetic is not reported.",
        F,
        3.0,
    ),
    _rule(
        "QM409",
        "blocking-sqlite3",
        "`sqlite3` connections and their methods.",
        "use aiosqlite (`await aiosqlite.connect(...)`, `await db.execute(...)`); not "
        "`run_sync`: a sqlite3 connection works only in the thread that opened it",
        "db = sqlite3.connect(path)\nrow = db.execute(sql, args).fetchone()",
        "db = await aiosqlite.connect(path)\nrow = await (await db.execute(sql, args)).fetchone()",
        "Reported by neither flake8-async nor ruff. A sqlite3 connection refuses calls from "
        "any thread but its own (`check_same_thread`), so `run_sync` on a connection kept in "
        "`g` fails as soon as two calls land on different worker threads. The fix (unsafe) "
        "moves the connection to aiosqlite and awaits every use of it across the run, tests "
        "included; aiosqlite raises `ValueError` where sqlite3 raises `ProgrammingError` for "
        "a closed connection.",
        F,
        15.0,
    ),
    _rule(
        "QM410",
        "blocking-psycopg",
        "`psycopg2` (and sync `psycopg`) connections.",
        "use `await psycopg.AsyncConnection.connect(...)` or asyncpg",
        "conn = psycopg2.connect(dsn)\ncur = conn.cursor()",
        "conn = await psycopg.AsyncConnection.connect(dsn)\ncur = conn.cursor()",
        "Reported by neither flake8-async nor ruff.",
        F,
        15.0,
    ),
    _rule(
        "QM411",
        "blocking-mysql",
        "`pymysql` / `MySQLdb` / `mysql.connector`.",
        "use aiomysql or asyncmy",
        "conn = pymysql.connect(host=host, user=user)",
        "conn = await aiomysql.connect(host=host, user=user)",
        "Reported by neither flake8-async nor ruff.",
        F,
        15.0,
    ),
    _rule(
        "QM412",
        "blocking-redis",
        "The synchronous `redis` client.",
        "use `redis.asyncio.Redis` and `await` its commands",
        "cache = redis.Redis.from_url(url)\nhits = cache.incr('hits')",
        "cache = redis.asyncio.Redis.from_url(url)\nhits = await cache.incr('hits')",
        "Reported by neither flake8-async nor ruff.",
        F,
        10.0,
    ),
    _rule(
        "QM413",
        "blocking-smtp",
        "`smtplib`.",
        "use aiosmtplib (`await aiosmtplib.send(message, hostname=...)`)",
        "with smtplib.SMTP(host) as smtp:\n    smtp.send_message(msg)",
        "await aiosmtplib.send(msg, hostname=host)",
        "Reported by neither flake8-async nor ruff; Flask-Mail has no Quart port.",
        F,
        15.0,
    ),
    _rule(
        "QM414",
        "blocking-socket",
        "`socket` connections and DNS look-ups.",
        "use `await asyncio.open_connection(...)` / `await loop.getaddrinfo(...)`",
        "sock = socket.create_connection((host, port))",
        "reader, writer = await asyncio.open_connection(host, port)",
        "Reported by neither flake8-async nor ruff.",
        F,
        15.0,
    ),
    _rule(
        "QM415",
        "blocking-hashing",
        "CPU-heavy password hashing.",
        "hash in a thread: `await run_sync(func)(...)` or `await asyncio.to_thread(func, ...)`",
        "user.password = generate_password_hash(password)",
        "user.password = await run_sync(generate_password_hash)(password)",
        "pbkdf2/scrypt/bcrypt/argon2 are designed to take tens of milliseconds of CPU; "
        "on the loop they stall every request.",
        F,
        3.0,
    ),
    _rule(
        "QM416",
        "blocking-sqlalchemy",
        "Synchronous SQLAlchemy engines and sessions.",
        "use `sqlalchemy.ext.asyncio` (`create_async_engine`, `AsyncSession`, `await "
        "session.execute(...)`) or an async ORM",
        "with Session(engine) as session:\n    book = session.get(Book, book_id)",
        "async with AsyncSession(engine) as session:\n    book = await session.get(Book, book_id)",
        "Covers `create_engine`, `Session`, `sessionmaker` and their I/O methods, and "
        "Flask-SQLAlchemy's `db.session.<method>`: sessions assigned or annotated "
        "(`session: Session`, `def db_session() -> Session`), kept in a module global "
        "(`ub.session.query(...)`), or reached as `<object>.session.<method>` with a method "
        "only SQLAlchemy sessions have (`query`, `execute`, `commit`, `rollback`, `flush`, "
        "`merge`, `scalars`, `scalar`, `refresh`) when a checked file imports SQLAlchemy; "
        "also DDL run with `metadata.create_all(engine)`. `Model.query` chains are not "
        "followed.",
        "SQLAlchemy docs: Asynchronous I/O (asyncio) extension",
        20.0,
    ),
    Rule(
        "QM417",
        "sync-event-stream",
        CAT,
        "A sync generator streamed as server-sent events.",
        "`{name}` is a sync generator streamed as an event stream: Quart runs each step in a "
        "worker thread, and a step that waits for the next event holds that thread; make it "
        "an `async def` generator (`await asyncio.sleep(...)`, an `asyncio.Queue`)",
        "def events():\n    while True:\n        time.sleep(1)\n        yield f'data: {now()}\\n\\n'\n\n"
        "@app.get('/events')\ndef stream():\n"
        "    return Response(events(), mimetype='text/event-stream')",
        "async def events():\n    while True:\n        await asyncio.sleep(1)\n"
        "        yield f'data: {now()}\\n\\n'\n\n"
        "@app.get('/events')\nasync def stream():\n"
        "    return Response(events(), mimetype='text/event-stream')",
        "Quart iterates a sync iterable with `run_sync_iterable`: every `next()` is a call in "
        "the default thread pool (min(32, CPUs + 4) threads). An event stream waits between "
        "events, so each open stream holds a thread; a few clients exhaust the pool and every "
        "other `run_sync` call queues behind them.",
        "Quart src/quart/wrappers/response.py (IterableBody), src/quart/utils.py "
        "(run_sync_iterable)",
        15.0,
    ),
    Rule(
        "QM418",
        "blocking-converter",
        CAT,
        "A URL converter that does I/O.",
        "`{name}` runs on the event loop while Quart matches the URL, and cannot be async: "
        "`{call}` blocks it; convert the text only, and load the object in the view with "
        "`await`",
        "class UserConverter(BaseConverter):\n    def to_python(self, value):\n"
        "        return User.query.get_or_404(int(value))",
        "class UserConverter(BaseConverter):\n    def to_python(self, value):\n"
        "        return int(value)\n\n@app.get('/users/<user:user_id>')\n"
        "async def show(user_id):\n    user = await load_user(user_id)",
        "Werkzeug calls `to_python` while matching the request's URL and `to_url` in "
        "`url_for`; Quart does both on the event loop, synchronously, so a query or file read "
        "there stalls every request, and no `await` can go there.",
        "Werkzeug src/werkzeug/routing/converters.py; Quart src/quart/ctx.py (match_request)",
        15.0,
    ),
    Rule(
        "QM419",
        "blocking-form-validator",
        CAT,
        "A form's inline validator that does I/O.",
        "`{name}` runs inside `form.validate_on_submit()`, on the event loop, and cannot "
        "await: `{call}` blocks it; with quart-wtforms, rename it `async_validators_{field}`, "
        "make it `async def` and await the look-up (`await form.validate_on_submit()` runs it)",
        "class SignupForm(FlaskForm):\n    username = StringField()\n\n"
        "    def validate_username(self, field):\n"
        "        if User.query.filter_by(name=field.data).first():\n"
        "            raise ValidationError('taken')",
        "class SignupForm(QuartForm):\n    username = StringField()\n\n"
        "    async def async_validators_username(self, field):\n"
        "        if await users.exists(field.data):\n"
        "            raise ValidationError('taken')",
        "WTForms calls `validate_<field>` methods synchronously from `validate()`; in a Quart "
        "view that is the event loop, so a query there stalls every request, and an `async "
        "def validate_<field>` would return an unawaited coroutine (the field always passes). "
        "quart-wtforms' `QuartForm.validate` awaits the methods named "
        "`async_validators_<field>` after the sync ones.",
        "quart-wtforms 1.0.3 src/quart_wtf/form.py (QuartForm.validate); WTForms "
        "src/wtforms/form.py (Form.validate)",
        10.0,
    ),
)
