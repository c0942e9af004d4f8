"""Fixtures of the docs tests: the repository's files and the runner of the docs' blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs import runner
from tests.docs.snippets import Block

#: Started first: they wait longest (demos, servers).
_SLOW_FIRST = ("per-app", "demo", "servers", "collect-only")


@pytest.fixture(scope="session")
def repository_files() -> list[Path]:
    """The repository's files (tracked and new, not ignored), relative to its root."""
    return runner.repository_files()


@pytest.fixture
def scratch_repo(tmp_path: Path, repository_files: list[Path]) -> Path:
    """A fresh copy of the repository, its ``.venv`` linked to the real one."""
    return runner.copy_repository(tmp_path / "repo", repository_files)


def _cost(block: Block) -> int:
    for rank, option in enumerate(_SLOW_FIRST):
        if option in block.options:
            return rank
    return len(_SLOW_FIRST)


@pytest.fixture(scope="session")
def block_runner(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    repository_files: list[Path],
) -> Iterator[runner.BlockRunner]:
    """Runs the blocks of every selected ``test_block_runs`` at once, the slowest first."""
    blocks_runner = runner.BlockRunner(tmp_path_factory.mktemp("blocks"), repository_files)
    params = [
        item.callspec.params["block"]
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_block_runs"
    ]
    selected = [block for block in params if isinstance(block, Block)]
    for block in sorted(selected, key=_cost):
        blocks_runner.submit(block)
    try:
        yield blocks_runner
    finally:
        blocks_runner.close()
