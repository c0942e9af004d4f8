"""Rule records of the testing family; detection is in :mod:`migrate.checker.testing`.

QM6xx tests: the Flask test client used the Flask way.
"""

from __future__ import annotations

from migrate.checker.rules import Rule

CAT = "tests"


S = "Quart src/quart/testing/client.py, docs/how_to_guides/testing.rst"


_RULES = (
    Rule(
        "QM601",
        "sync-test-client",
        CAT,
        "A test-client request without `await`.",
        "`{what}` is a coroutine in Quart's test client: write `await {what}(...)`",
        "def test_index(client):\n    response = client.get('/')",
        "async def test_index(client):\n    response = await client.get('/')",
        "All request methods (`get`, `post`, ..., `open`) of `QuartClient` are async; "
        "the test function becomes `async def` (QM306) and runs under pytest-asyncio.",
        S,
        0.5,
        needs_async=True,
    ),
    Rule(
        "QM602",
        "sync-test-client-context",
        CAT,
        "`with client:` or `with client.session_transaction()`.",
        "`{what}` is an async context manager in Quart: write `async with {what}`",
        "with client.session_transaction() as session:\n    session['uid'] = 1",
        "async with client.session_transaction() as session:\n    session['uid'] = 1",
        "Quart's client and its session transaction only implement `__aenter__`/`__aexit__`.",
        S,
        0.5,
        needs_async=True,
    ),
    Rule(
        "QM603",
        "test-client-data-dict",
        CAT,
        "`data=` given a dict.",
        "Quart's test client sends an empty body for `data={{...}}`: pass form fields as "
        "`form={{...}}` (uploads as `files={{...}}`)",
        "client.post('/login', data={'username': 'a', 'password': 'b'})",
        "await client.post('/login', form={'username': 'a', 'password': 'b'})",
        "Quart's `data` accepts only `str`/`bytes`; a dict is silently dropped, so the view "
        "sees an empty form.",
        "Quart src/quart/testing/utils.py (make_test_body_with_headers)",
        1.0,
    ),
    Rule(
        "QM604",
        "test-client-keyword",
        CAT,
        "A test-client keyword Quart does not accept.",
        "Quart's test client has no `{keyword}=`: {fix}",
        "client.post('/upload', data=raw, content_type='text/csv')",
        "await client.post('/upload', data=raw, headers={'Content-Type': 'text/csv'})",
        "`content_type=` raises TypeError; `buffered`, `environ_base`, `environ_overrides` and "
        "`base_url` do not exist.",
        S,
        1.0,
    ),
    Rule(
        "QM605",
        "test-client-query-string",
        CAT,
        "`query_string=` given a string.",
        "Quart's `query_string` must be a dict: `query_string={{'key': 'value'}}` (or put "
        "`?key=value` in the path)",
        "client.get('/search', query_string='q=flask')",
        "await client.get('/search', query_string={'q': 'flask'})",
        "A string raises TypeError in Quart.",
        "Quart src/quart/testing/utils.py",
        0.5,
    ),
    Rule(
        "QM606",
        "test-client-cookie",
        CAT,
        "`set_cookie(key, value)` or `get_cookie`.",
        "{fix}",
        "client.set_cookie('theme', 'dark')",
        "client.set_cookie('localhost', 'theme', 'dark')",
        "Quart's `set_cookie(server_name, key, value)` takes the server name first: "
        "`set_cookie('theme', 'dark')` silently creates a cookie named `dark` for "
        "`theme.local`. There is no `get_cookie`; read `client.cookie_jar`.",
        "Quart src/quart/testing/client.py (set_cookie)",
        1.0,
    ),
    Rule(
        "QM607",
        "test-response-body",
        CAT,
        "A test response's body read without `await`.",
        "`{what}` is awaitable in Quart: {fix}",
        "assert response.get_json() == {'id': 1}\nassert b'Log In' in response.data",
        "assert await response.get_json() == {'id': 1}\nassert b'Log In' in await response.data",
        "`data`, `json`, `get_json()` and `get_data()` are async on Quart responses; there is "
        "no `text` (use `await response.get_data(as_text=True)`). `status_code`, `headers` "
        "and `location` stay synchronous.",
        S,
        0.5,
        needs_async=True,
    ),
    Rule(
        "QM608",
        "unittest-testcase",
        CAT,
        "A `unittest.TestCase` whose tests use the test client.",
        "`{name}` runs sync tests: Quart's test client is async, subclass "
        "`unittest.IsolatedAsyncioTestCase` and make its tests `async def` (set-up in "
        "`asyncSetUp`)",
        "class BooksTest(unittest.TestCase):\n    def setUp(self):\n"
        "        self.client = app.test_client()\n\n    def test_list(self):\n"
        "        assert self.client.get('/books').status_code == 200",
        "class BooksTest(unittest.IsolatedAsyncioTestCase):\n    async def asyncSetUp(self):\n"
        "        self.client = app.test_client()\n\n    async def test_list(self):\n"
        "        assert (await self.client.get('/books')).status_code == 200",
        "A `TestCase` method that is `async def` returns a coroutine that unittest never "
        "awaits (a DeprecationWarning, and the test passes without running); "
        "`IsolatedAsyncioTestCase` runs each test on its own event loop. Reported when a "
        "QM6xx finding is inside the class.",
        "Python docs: unittest.IsolatedAsyncioTestCase",
        10.0,
    ),
    Rule(
        "QM609",
        "testing-error-page",
        CAT,
        "A body assertion that a 500 error page can satisfy.",
        "`{what}` can contain the text on a crash: in TESTING mode Quart answers an unhandled "
        "exception with a 500 debug page that quotes the view's source; assert "
        "`response.status_code` first",
        "def test_register_twice(client):\n    response = client.post('/register', "
        "data=form)\n    assert b'already registered' in response.data",
        "async def test_register_twice(client):\n    response = await client.post('/register', "
        "form=form)\n    assert response.status_code == 200\n"
        "    assert b'already registered' in await response.data",
        "Flask's test client re-raises a view's exception in TESTING mode. Quart re-raises it "
        "to its ASGI layer, which answers with a traceback page holding the source lines "
        "around the failing frame, so a view that crashes on the line that builds the message "
        "still makes the assertion pass. Reported when the test never reads `status_code` "
        "or `status` and its needle could be on that page: not a literal (a parametrised "
        "message), or a literal that a Python file of the run holds (the page quotes Python "
        "source, not templates).",
        "Quart src/quart/asgi.py (_handle_exception), src/quart/app.py (handle_exception)",
        1.0,
    ),
)

QM680 = Rule(
    "QM680",
    "pytest-asyncio-config",
    CAT,
    "Tests become async but pytest-asyncio is not configured.",
    'tests become `async def`: run them with pytest-asyncio, `asyncio_mode = "auto"` '
    "in `[tool.pytest.ini_options]`",
    "[tool.pytest.ini_options]\ntestpaths = ['tests']",
    "[tool.pytest.ini_options]\nasyncio_mode = 'auto'\n"
    "asyncio_default_fixture_loop_scope = 'function'\ntestpaths = ['tests']",
    "Without it pytest skips `async def` tests (strict mode needs `@pytest.mark.asyncio` on "
    "each test and `@pytest_asyncio.fixture` on each async fixture). Reported at "
    "`pyproject.toml` when a test function or fixture of the run becomes async (QM3xx) and "
    "`asyncio_mode` is not set there; a project configuring pytest in `pytest.ini`, "
    "`setup.cfg` or `tox.ini` sets it there by hand.",
    "pytest-asyncio docs/reference/configuration.rst",
    2.0,
)
QM681 = Rule(
    "QM681",
    "sqlite3-closed-error-message",
    CAT,
    "A test checks the message of sqlite3's error on a closed connection.",
    "`{what}` checks sqlite3's message for a closed connection; aiosqlite raises "
    '`ValueError("no active connection")` instead: decide what the test should prove '
    "(that the connection is closed) and assert that, or keep the connection on sqlite3",
    "with pytest.raises(sqlite3.ProgrammingError) as e:\n    db.execute('SELECT 1')\n"
    "assert 'closed' in str(e.value)",
    "with pytest.raises((sqlite3.ProgrammingError, ValueError)):\n    await db.execute('SELECT 1')",
    "QM409's fix moves a sqlite3 connection to aiosqlite, whose closed connection raises "
    '`ValueError` with another message, where sqlite3 raises `ProgrammingError("Cannot '
    'operate on a closed database.")`. The fix widens `pytest.raises(sqlite3.ProgrammingError)` '
    "to accept both; a test that also reads the error's message (`e.value`, `match=`) fails "
    "after it. Reported in test files that use `pytest.raises` with "
    "`sqlite3.ProgrammingError` and read the message, when the run connects with "
    "`sqlite3.connect` or `aiosqlite.connect`.",
    "aiosqlite src/aiosqlite/core.py (Connection._conn: no active connection); "
    "CPython Modules/_sqlite/connection.c (Cannot operate on a closed database.)",
    5.0,
)
RULES: tuple[Rule, ...] = (*_RULES, QM680, QM681)
