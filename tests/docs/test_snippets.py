"""Every Python and shell block of the docs runs, or says why not; every excerpt is still true.

See :mod:`tests.docs.snippets` for the marks a block may carry and how shell blocks are
rewritten, and :mod:`tests.docs.runner` for how they run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.docs.runner import BLOCK_TIMEOUT_S
from tests.docs.runner import BlockRunner
from tests.docs.runner import left_in_repository
from tests.docs.runner import snippet_env
from tests.docs.snippets import ROOT
from tests.docs.snippets import RUN_OPTIONS
from tests.docs.snippets import Block
from tests.docs.snippets import all_blocks
from tests.docs.snippets import expected_statuses
from tests.docs.snippets import missing_excerpt_parts
from tests.docs.snippets import missing_output_lines

BLOCKS = all_blocks()
RUN = [pytest.param(block, id=block.id) for block in BLOCKS if block.kind == "run"]
EXCERPTS = [pytest.param(block, id=block.id) for block in BLOCKS if block.kind == "excerpt"]
OUTPUTS = [pytest.param(block, id=block.id) for block in BLOCKS if block.kind == "output"]
ILLUSTRATIVE = [block for block in BLOCKS if block.kind == "illustrative"]


@pytest.mark.parametrize("block", RUN)
def test_block_runs(block: Block, block_runner: BlockRunner) -> None:
    assert block.runner is not None, f"{block.lang!r} blocks cannot run: mark them otherwise"
    unknown = block.options - RUN_OPTIONS.keys()
    assert not unknown, f"unknown run options {sorted(unknown)}; known: {sorted(RUN_OPTIONS)}"
    assert block.runner == "sh" or not block.options, "run options apply to shell blocks only"
    block_runner.result(block)


@pytest.mark.parametrize("block", EXCERPTS)
def test_excerpt_is_still_in_its_file(block: Block) -> None:
    source = ROOT / block.value
    assert source.is_file(), f"{block.id}: the excerpt names {block.value}, which does not exist"
    missing = missing_excerpt_parts(block.text, source.read_text(encoding="utf-8"))
    assert missing == [], f"{block.id}: not found (in order) in {block.value}:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("block", OUTPUTS)
def test_output_block_is_what_the_command_prints(block: Block, scratch_repo: Path) -> None:
    result = subprocess.run(
        ["bash", "-c", block.value],
        cwd=scratch_repo,
        env=snippet_env(scratch_repo),
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
    )
    missing = missing_output_lines(block.text, result.stdout + result.stderr)
    assert missing == [], f"{block.id}: `{block.value}` no longer prints:\n" + "\n".join(missing)


def test_illustrative_blocks_give_a_reason() -> None:
    assert [block.id for block in ILLUSTRATIVE if len(block.value.split()) < 2] == []


def test_run_options_are_known() -> None:
    unknown = {block.id: sorted(block.options - RUN_OPTIONS.keys()) for block in BLOCKS}
    assert {key: value for key, value in unknown.items() if value} == {}


def test_the_docs_have_runnable_blocks() -> None:
    # A parser that found nothing would make every other test here pass.
    assert len(RUN) >= 10
    assert len(EXCERPTS) >= 10
    assert OUTPUTS


def _section_block(path: Path, heading: str) -> Block:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading) + 1
    end = next((n for n in range(start, len(lines)) if lines[n].startswith("## ")), len(lines))
    (block,) = [b for b in BLOCKS if b.path == path and start < b.line <= end]
    return block


def test_the_apps_on_their_own_run_as_written(block_runner: BlockRunner) -> None:
    # As a reader types it: the servers go to the background in the block itself (no "servers"
    # option rewrites them), the app is told where the inventory is, and availability is a 200.
    block = _section_block(ROOT / "README.md", "## The apps on their own")
    assert block.kind == "run"
    assert block.options == frozenset()
    assert "BOOKSTORE_INVENTORY_URL=http://127.0.0.1:8081" in block.text
    servers = [line for line in block.text.splitlines() if line.endswith("&")]
    assert [("compare inventory" in line, "legacy_flask serve" in line) for line in servers] == [
        (True, False),
        (False, True),
    ]
    assert expected_statuses(block.text) == [200]
    assert "/books/1/availability" in block.text
    block_runner.result(block)


def test_gitignore_covers_what_the_readme_commands_leave() -> None:
    left = ["compare-results/summary.md", "jar", "admin", "cover.png", "bookstore.db"]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *left],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split() == left


def test_files_a_block_leaves_are_reported_unless_gitignore_covers_them(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("kept\n")
    for name in ("bookstore.db", "docs_snippet_12.sh", "notes.txt", "demo-data/bookstore.db"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("written by a block\n")

    assert left_in_repository(tmp_path, [Path("README.md")]) == ["notes.txt"]
