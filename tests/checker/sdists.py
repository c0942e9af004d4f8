"""Download a distribution's sdist from the package index, for the whole-app conversion tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def download_sdist(name: str, version: str, dest: Path) -> Path:
    """Download ``name==version``'s sdist (no dependencies, no wheel) into ``dest``.

    :returns: the ``.tar.gz`` archive.
    :raises AssertionError: pip failed (its stderr is the message) or left no single archive.
    """
    download = subprocess.run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", f"{name}=={version}", "-d", str(dest),
        ],
        cwd=dest, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert download.returncode == 0, download.stderr
    (archive,) = dest.glob("*.tar.gz")
    return archive
