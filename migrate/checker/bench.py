"""Benchmark: time ``check`` on a generated (or given) Flask codebase.

``python -m migrate.checker.bench`` writes a Flask package of about 50,000
lines (blueprints with views, helpers calling each other across modules,
blocking calls, tests) into a temporary folder and prints the wall time of a
full run (discovery, parsing, both passes, text rendering) in seconds, and
beside it, on the same input in the same run, the wall time of ``check --fix
--diff`` (the fixing rounds in memory and the unified diff, nothing written).
``--lines N`` changes the size; ``--path DIR`` times an existing codebase
instead; ``--jobs N`` caps the worker processes; ``--repeat N`` reports the
best of N runs. This is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from migrate.checker import output
from migrate.checker.discovery import discover
from migrate.checker.engine import Report
from migrate.checker.engine import run
from migrate.checker.fixing import fix_run
from migrate.checker.fixing import unified_diff
from migrate.checker.rules import enabled_codes

VIEWS = '''"""Blueprint {n}: catalogue pages and their JSON API."""

import os
import sqlite3
import time

import requests
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from shop.helpers_{n} import load_items_{n}
from shop.helpers_{n} import save_item_{n}

bp = Blueprint("shop{n}", __name__, url_prefix="/shop{n}")

'''
VIEW = '''

@bp.route("/items{i}", methods=["GET", "POST"])
def items_{i}():
    """List items and create one from the posted form."""
    if request.method == "POST":
        title = request.form["title"]
        price = int(request.form.get("price", 0))
        if not title:
            flash("Title is required.")
            return redirect(url_for("shop{n}.items_{i}"))
        save_item_{n}(title, price)
        return redirect(url_for("shop{n}.items_{i}"))
    page = int(request.args.get("page", 1))
    items = load_items_{n}(page)
    return render_template("items.html", items=items, page=page)


@bp.get("/api/items{i}")
def api_items_{i}():
    """Return items as JSON, enriched with a remote rate."""
    data = request.get_json(silent=True) or {{}}
    rate = requests.get(current_app.config["RATES_URL"], timeout=5).json()
    time.sleep(0.001)
    exists = os.path.exists(current_app.config["CACHE_DIR"])
    return jsonify(items=load_items_{n}(data.get("page", 1)), rate=rate, cached=exists)
'''
HELPERS = '''"""Database helpers of blueprint {n}."""

import sqlite3

from flask import current_app
from flask import g


def get_db_{n}():
    """Return the request's database connection."""
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


def load_items_{n}(page):
    """Return one page of items."""
    db = get_db_{n}()
    rows = db.execute("SELECT * FROM item LIMIT 20 OFFSET ?", ((page - 1) * 20,)).fetchall()
    return [dict(row) for row in rows]


def save_item_{n}(title, price):
    """Insert an item."""
    db = get_db_{n}()
    db.execute("INSERT INTO item (title, price) VALUES (?, ?)", (title, price))
    db.commit()
'''
TEST = """

def test_items_{i}(client):
    response = client.post("/shop{n}/items{i}", data={{"title": "a", "price": "1"}})
    assert response.status_code == 302
    response = client.get("/shop{n}/api/items{i}")
    assert response.get_json()["items"] == []
    assert b"items" in response.data
"""


def generate(root: Path, lines: int) -> int:
    """Write a package of about ``lines`` lines under ``root``; return the exact count."""
    package = root / "shop"
    tests = root / "tests"
    package.mkdir(parents=True)
    tests.mkdir()
    (package / "__init__.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    total, n = 3, 0
    while total < lines:
        views = VIEWS.format(n=n) + "".join(VIEW.format(n=n, i=i) for i in range(8))
        helpers = HELPERS.format(n=n)
        test = "".join(TEST.format(n=n, i=i) for i in range(8))
        (package / f"views_{n}.py").write_text(views)
        (package / f"helpers_{n}.py").write_text(helpers)
        (tests / f"test_views_{n}.py").write_text(test)
        total += sum(text.count("\n") for text in (views, helpers, test))
        n += 1
    return total


def _time(path: Path, jobs: int | None) -> tuple[float, Report]:
    start = time.perf_counter()
    report = run(discover([path]), enabled_codes(), jobs)
    output.text(report)
    return time.perf_counter() - start, report


def _time_fix(path: Path, jobs: int | None) -> tuple[float, int]:
    start = time.perf_counter()
    outcome = fix_run(discover([path]), enabled_codes(), jobs=jobs, display=False)
    unified_diff(outcome)
    return time.perf_counter() - start, sum(outcome.fixed.values())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one summary line; return 0."""
    parser = argparse.ArgumentParser(prog="python -m migrate.checker.bench")
    parser.add_argument("--lines", type=int, default=50_000, help="size of the generated code")
    parser.add_argument("--path", type=Path, help="check this folder instead of generating one")
    parser.add_argument("--jobs", type=int, help="worker processes (default: CPU count)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.path or Path(scratch)
        if args.path is None:
            generate(path, args.lines)
        runs = []
        fixes = []
        for _ in range(max(1, args.repeat)):
            runs.append(_time(path, args.jobs))
            fixes.append(_time_fix(path, args.jobs))
    best, report = min(runs, key=lambda pair: pair[0])
    best_fix, fixed = min(fixes, key=lambda pair: pair[0])
    print(
        f"{report.files} files, {report.lines} lines, {len(report.findings)} findings: "
        f"check best {best:.2f} s wall; check --fix --diff ({fixed} fixes) best "
        f"{best_fix:.2f} s wall ({best_fix / best:.1f}x) of {len(runs)} runs each"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
