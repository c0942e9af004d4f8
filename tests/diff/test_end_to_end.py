"""The default flows against both live apps: legacy_flask on Waitress, quart_app on Hypercorn.

Each app runs as a server process on loopback with a fresh SQLite database of its own, seeded
by its own ``seed`` command, with the admin from ``BOOKSTORE_ADMIN_USERNAME`` /
``BOOKSTORE_ADMIN_PASSWORD``. The tests run in order on the same two databases: the second
run starts from what the first left, identically on both sides.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from compare.cli import main
from compare.diff import Answer
from compare.diff import Deployment
from compare.diff import normalise
from compare.diff import run_flows
from compare.flows import load_flows
from compare.flows import load_openapi
from tests.diff.servers import ADMIN
from tests.diff.servers import LiveApps
from tests.diff.servers import live_apps

#: Statuses the default flows must meet, so that "no differences" is not "all errors".
EXPECTED_STATUSES = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 415}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApps]:
    with live_apps(tmp_path_factory.mktemp("live")) as running:
        yield running


def test_the_default_flows_find_no_difference_and_no_server_error(apps: LiveApps) -> None:
    old, new = Deployment(apps.flask), Deployment(apps.quart)
    try:
        with httpx.Client() as client:
            document = load_openapi(f"{apps.quart}/openapi.json", client)
        comparisons = list(run_flows(load_flows(), old, new, document=document))
    finally:
        old.close()
        new.close()

    differences = "\n".join(c.diff() for c in comparisons if c.differs)
    assert not differences, differences
    statuses = Counter(c.old.status for c in comparisons)
    assert not [status for status in statuses if status >= 500], statuses
    assert set(statuses) >= EXPECTED_STATUSES, statuses
    # One request per documented operation, anonymous and as the admin (less login, logout
    # and password change).
    documented = [c for c in comparisons if c.flow.startswith("every documented operation")]
    assert len(documented) == 18 + 1 + 15


def test_the_command_line_agrees_on_a_second_run(
    apps: LiveApps, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["diff", "--old", apps.flask, "--new", apps.quart, "--json"])

    out, err = capsys.readouterr()
    report = json.loads(out)
    assert status == 0, json.dumps(report["differences"], indent=2)
    assert report["differences"] == []
    assert report["requests"] > 150
    assert err.endswith(" flows: no differences\n")


def both(apps: LiveApps, method: str, path: str, **kwargs: Any) -> tuple[Answer, Answer]:
    """Send one request, logged in as the admin, to each app; return the normalised answers."""
    answers = []
    for base_url in (apps.flask, apps.quart):
        with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as client:
            login = {"username": ADMIN[0], "password": ADMIN[1]}
            assert client.post("/auth/login", json=login).status_code == 204
            answers.append(normalise(client.request(method, path, **kwargs), base_url))
    return answers[0], answers[1]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "detail"),
    [
        # quart_app answered werkzeug's generic "The browser (or proxy) sent a request …".
        (
            "POST",
            "/books",
            {"content": b'{"title": ', "headers": {"Content-Type": "application/json"}},
            400,
            "the body is not valid JSON: Expecting value: line 1 column 11 (char 10)",
        ),
        # quart_app said "it is not UTF-8"; legacy_flask took UTF-16 and UTF-32 JSON (201).
        (
            "POST",
            "/books",
            {
                "content": '{"title": "Café", "author": "A"}'.encode("utf-16"),
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "the body is not valid JSON: 'utf-8' codec can't decode byte 0xff in position 0: "
            "invalid start byte",
        ),
        # quart-schema made a repeated key a list (400); legacy_flask takes the first value.
        ("GET", "/books?limit=2&limit=7", {}, 200, None),
        ("GET", "/books/2/reviews?offset=0&offset=x", {}, 200, None),
        # quart-schema read "q[]" as "q", a list (400); for legacy_flask it is an unknown key.
        ("GET", "/books?q[]=austen&limit=2", {}, 200, None),
    ],
)
def test_what_the_diff_found_now_agrees(
    apps: LiveApps,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    detail: str | None,
) -> None:
    flask, quart = both(apps, method, path, **kwargs)

    assert flask.render() == quart.render()
    assert flask.status == status
    if detail is not None:
        assert flask.body["detail"] == detail
    else:
        assert flask.body["limit"] == (2 if "limit=2" in path else 20)
