"""Property-based contract tests: schemathesis drives both live apps from the OpenAPI document.

The document is the one ``quart_app`` serves (``GET /openapi.json``); each app is tested
against it over a real socket, logged in as the admin (the session cookie goes with every
request), with the settings of ``schemathesis.toml`` next to this file: positive and negative
data, 25 examples per operation and phase, then the stateful phase along the document's links
(sequences of at most 10 steps), derandomised, no shrinking. ``POST /auth/logout`` is left out:
it ends every session of the admin, this run's cookie included. Every check runs except
``positive_data_acceptance`` (see the settings file for why): no 5xx, documented status codes,
content types, headers and schemas, negative data rejected with a 4xx, 405 with ``Allow`` for
undocumented methods.

schemathesis runs as its command line (``python -m schemathesis.cli run``): its report names
each failing operation with a ``curl`` line that reproduces it. Reproduce a run by hand with::

    python -m schemathesis.cli --config-file tests/schemathesis/schemathesis.toml run \\
        http://127.0.0.1:8001/openapi.json --url http://127.0.0.1:8000 -H 'Cookie: session=…'
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from tests.diff.servers import LiveApps
from tests.diff.servers import admin_cookie

SETTINGS: Final = Path(__file__).with_name("schemathesis.toml")
#: Seconds one run may take before it is stopped (it takes about 12).
RUN_TIMEOUT_S: Final = 90
#: Characters of the report quoted when a run fails.
REPORT_TAIL: Final = 12_000


@pytest.mark.parametrize("app", ["flask", "quart"])
def test_the_app_honours_the_openapi_document(app: str, apps: LiveApps, tmp_path: Path) -> None:
    base_url = apps.url(app)
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(SETTINGS),
        "--no-color",
        "run",
        f"{apps.quart}/openapi.json",
        "--url",
        base_url,
        "--header",
        f"Cookie: {admin_cookie(base_url)}",
        "--request-timeout",
        "10",
        "--workers",
        "1",
        # Logout ends every session of the admin, the cookie of this run included.
        "--exclude-path",
        "/auth/logout",
    ]
    # The working directory takes whatever schemathesis writes (it keeps nothing by the settings).
    run = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )

    report = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis against {app} ({base_url}):\n{report[-REPORT_TAIL:]}"
    assert "17 selected / 18 total" in report, report[-REPORT_TAIL:]
    # The stateful phase ran, along every link the document declares.
    assert "✅ Stateful" in report, report[-REPORT_TAIL:]
    assert "API Links:    9 covered / 9 selected / 9 total" in report, report[-REPORT_TAIL:]
