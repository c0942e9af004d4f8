"""Find the code blocks of the Markdown docs and say how each one is tested.

A fenced block whose language is Python (```` ```python ````) or shell (```` ```sh ````,
``bash``, ``shell``, ``console``) is run by the docs tests unless the HTML comment on the line
right before it says otherwise:

- ``<!-- illustrative: REASON -->``: not run; the reason is required.
- ``<!-- excerpt: PATH -->``: not run, but every part of the block (parts are separated by a
  line holding only ``...``) must appear, in order, in ``PATH`` (relative to the repository
  root), whitespace normalised: an excerpt cannot drift from the code it quotes.
- ``<!-- run: OPTION ... -->``: run, with options for shell blocks (:data:`RUN_OPTIONS`).

Blocks in other languages (``text``, ``json``, ``toml`` …) are data and never run; they may be
marked as excerpts too, or as ``<!-- output: COMMAND -->``: every line of the block (but lines
holding only ``...``) must be a line of what the shell command prints (stdout and stderr,
whitespace normalised), run from the repository's root whatever its exit status.

Shell blocks are rewritten before they run (:func:`shell_script`): the well-known ports of the
kit's servers are replaced by free ones, a line ending in ``&`` is followed by a wait until the
server it starts listens, a line whose comment says ``exit N`` must end with status N, and every
``curl`` reports its HTTP status, which must equal the status a comment starting with three
digits gives (``curl -s $B/books/4242   # 404 application/problem+json``).
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Fence languages that are run, and how: ``python`` or ``sh``.
RUNNABLE = {
    "python": "python",
    "py": "python",
    "sh": "sh",
    "bash": "sh",
    "shell": "sh",
    "console": "sh",
}

#: Options of ``<!-- run: ... -->``, for shell blocks.
RUN_OPTIONS = {
    "demo": "start `python -m compare demo` on free ports first; the block's URLs point at it",
    "per-app": "with demo: run the block twice, each time on a fresh demo, the Flask port "
    "(8000) pointing at legacy_flask, then at quart_app",
    "collect-only": "pytest commands only collect the tests they select (and fail when they "
    "select none), with the plugins the configuration needs; the full runs are part of "
    "`make test`",
    "servers": "commands that serve until Ctrl-C, meant for terminals of their own, run in "
    "the background; the block goes on once each one listens",
}

#: Commands that serve until Ctrl-C.
_SERVER = re.compile(r"-m (legacy_flask serve|quart_app serve|compare inventory)\b")

#: Ports the docs use for the kit's servers: legacy_flask, quart_app, the inventory stand-in.
KNOWN_PORTS = ("8000", "8001", "8081")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(
    r"^\s*<!--\s*(?P<kind>illustrative|excerpt|run|output)\s*:(?P<value>.*?)-->\s*$"
)
_PORT = re.compile(r"(?<=:)(?P<port>8000|8001|8081)\b|(?<=port[ =])(?P<flag>8000|8001|8081)\b")
_EXIT = re.compile(r"\bexit (\d+)\b")
_STATUS = re.compile(r"^\s*([1-5]\d\d)\b")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    kind: str  # "run", "illustrative", "excerpt", "output" or "data"
    value: str = ""  # the reason, the excerpt's path, the run options, or the command

    @property
    def id(self) -> str:
        """``docs/migration-guide.md:120``."""
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def runner(self) -> str | None:
        """``python`` or ``sh`` for a runnable language, else ``None``."""
        return RUNNABLE.get(self.lang)

    @property
    def options(self) -> frozenset[str]:
        """The ``run:`` options."""
        return frozenset(self.value.split()) if self.kind == "run" else frozenset()


def markdown_files() -> list[Path]:
    """Return ``README.md`` and every Markdown file under ``docs/``."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path) -> Iterator[Block]:
    """Yield the fenced blocks of ``path`` with what the comment before each asks for."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        info = opening["info"].strip().split()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end])
            end += 1
        lang = info[0].lower() if info else ""
        directive = _DIRECTIVE.match(lines[index - 1]) if index > 0 else None
        if directive is not None:
            kind, value = directive["kind"], directive["value"].strip()
        elif lang in RUNNABLE:
            kind, value = "run", ""
        else:
            kind, value = "data", ""
        yield Block(path, index + 1, lang, "\n".join(body) + "\n", kind, value)
        index = end + 1


def all_blocks() -> list[Block]:
    """Return the blocks of every Markdown file the docs tests read."""
    return [block for path in markdown_files() for block in blocks(path)]


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


def excerpt_parts(text: str) -> list[str]:
    """Split an excerpt at lines that hold only ``...``; drop empty parts."""
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == "...":
            parts.append([])
        else:
            parts[-1].append(line)
    return [normalise("\n".join(part)) for part in parts if normalise("\n".join(part))]


def missing_output_lines(text: str, output: str) -> list[str]:
    """Return the lines of an output block that are not lines of ``output``."""
    printed = {normalise(line) for line in output.splitlines()}
    wanted = [normalise(line) for line in text.splitlines() if line.strip() not in ("", "...")]
    return [line for line in wanted if line not in printed]


def missing_excerpt_parts(text: str, source: str) -> list[str]:
    """Return the parts of an excerpt not found, in order, in ``source``."""
    haystack = normalise(source)
    missing = []
    position = 0
    for part in excerpt_parts(text):
        found = haystack.find(part, position)
        if found < 0:
            missing.append(part)
        else:
            position = found + len(part)
    return missing


# --- shell blocks ---------------------------------------------------------------------------


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Join lines continued with a trailing backslash; return (first line number, text)."""
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not current:
            start = number
        current.append(line)
        if not line.endswith("\\"):
            out.append((start, "\n".join(current)))
            current = []
    if current:
        out.append((start, "\n".join(current)))
    return out


def split_comment(line: str) -> tuple[str, str]:
    """Split a shell line into command and comment, as the shell does (quotes respected)."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip(), line[position + 1 :].strip()
    return line.rstrip(), ""


def _last_line_comment(logical: str) -> str:
    return split_comment(logical.splitlines()[-1])[1]


def expected_statuses(text: str) -> list[int | None]:
    """Return, for each ``curl`` command of a shell block, the status its comment gives."""
    out: list[int | None] = []
    for _, logical in logical_lines(text):
        if not logical.strip():
            continue
        command = split_comment(logical.splitlines()[0])[0].strip()
        if not command.startswith("curl "):
            continue
        status = _STATUS.match(_last_line_comment(logical))
        out.append(int(status[1]) if status else None)
    return out


def substitute_ports(text: str, ports: Mapping[str, int]) -> str:
    """Replace the kit's well-known ports (``:8000``, ``--port 8000``) by ``ports``."""

    def replace(match: re.Match[str]) -> str:
        return str(ports[match["port"] or match["flag"]])

    return _PORT.sub(replace, text)


#: Run before every shell block: stop at the first failing command (a pipeline's status is its
#: last command's, as in an interactive shell, so ``curl … | head -3`` stays fine); curl reports
#: each HTTP status on stderr; __wait_port polls until a server started in the background
#: listens.
PREAMBLE = r"""set -e
curl() { command curl --show-error "$@" -w '%{stderr}__docs_status %{http_code}\n'; }
__wait_port() {
  local deadline=$((SECONDS + 60))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if ! kill -0 "$2" 2>/dev/null; then echo "docs: the server for port $1 exited" >&2; exit 98; fi
    if [ "$SECONDS" -ge "$deadline" ]; then echo "docs: nothing listens on port $1" >&2; exit 98; fi
    sleep 0.1
  done
}
"""


@dataclass
class ShellScript:
    """A shell block rewritten to run under test."""

    script: str
    statuses: list[int | None] = field(default_factory=list)


def shell_script(block: Block, ports: Mapping[str, int]) -> ShellScript:
    """Rewrite ``block`` (a shell block) into a bash script with the checks described above."""
    text = substitute_ports(block.text, ports)
    body: list[str] = [PREAMBLE]
    for number, logical in logical_lines(text):
        line_no = block.line + number
        if not logical.strip():
            continue
        command = split_comment(logical.splitlines()[-1])[0]
        server = _SERVER.search(command)
        if "servers" in block.options and server and not command.endswith("&"):
            # As if typed into a terminal of its own: in the background, on one line.
            command = split_comment(logical.replace("\\\n", " "))[0] + " &"
            logical = command
        expected = _EXIT.search(_last_line_comment(logical))
        if expected and expected[1] != "0":
            body += [
                "set +e",
                logical,
                "__rc=$?",
                "set -e",
                f'if [ "$__rc" -ne {expected[1]} ]; then '
                f'echo "docs: line {line_no} ended with status $__rc, expected {expected[1]}" >&2; '
                "exit 99; fi",
            ]
        else:
            body.append(logical)
        if command.endswith("&"):
            port = _started_port(logical)
            if port is not None:
                body.append(f"__wait_port {port} $!")
    return ShellScript("\n".join(body) + "\n", expected_statuses(text))


def _started_port(logical: str) -> str | None:
    """Return the ``--port`` of a command run in the background.

    :raises ValueError: a kit server without ``--port`` (it would take a well-known port).
    """
    command = split_comment(logical.replace("\\\n", " "))[0].rstrip("& ")
    words = shlex.split(command)
    for flag, value in itertools.pairwise(words):
        if flag == "--port" and value.isdigit():
            return value
    if _SERVER.search(command):
        raise ValueError(f"give the port of {command!r} with --port, so the test can move it")
    return None


def reported_statuses(stderr: str) -> list[int]:
    """Return the HTTP statuses the curl wrapper reported, in order."""
    return [
        int(line.split()[1]) for line in stderr.splitlines() if line.startswith("__docs_status")
    ]
