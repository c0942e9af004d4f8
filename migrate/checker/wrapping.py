"""Split the lines a fix made too long, at a call's brackets, as ``ruff format`` would.

Fixes grow lines (``await run_sync(f)(...)``, ``asyncio.run(...)``, added keywords); a line
the fix changed that ends up longer than :data:`MAX_LINE` characters is split the way ruff's
formatter (and black) splits a call, its "right-hand split"::

    version = await run_sync(store.end_sessions)(db_session(), user.id, await run_sync(h)(p))

becomes::

    version = await run_sync(store.end_sessions)(
        db_session(), user.id, await run_sync(h)(p)
    )

and when the arguments do not fit on one line either, one argument per line with a trailing
comma. A line that is already the arguments of such a split is exploded the same way. Other
shapes (a condition ending in ``is None:``, a line inside a string, a line with a comment
among the arguments) stay as they are, long.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter
from dataclasses import dataclass

#: Lines longer than this many characters are split (ruff's E501 at ``line-length = 99``).
MAX_LINE = 99

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}
_SKIPPED = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)


@dataclass(slots=True)
class _Line:
    """One physical line's tokens and the bracket depth at its start."""

    tokens: list[tokenize.TokenInfo]
    depth: int
    in_string: bool = False


def wrap(before: str, after: str, limit: int = MAX_LINE) -> str:
    """Return ``after`` with each line longer than ``limit`` that ``before`` lacks split.

    ``before`` is the text the fixes started from: a long line it already had is left
    alone. The result is returned only when it still parses; otherwise ``after``.
    """
    lines = after.splitlines(keepends=True)
    had = Counter(before.splitlines())
    long = [
        number
        for number, line in enumerate(lines)
        if len(line.rstrip("\r\n")) > limit and not had[line.rstrip("\r\n")]
    ]
    if not long:
        return after
    table = _tokens(after)
    if table is None:
        return after
    for number in reversed(long):
        new = _split(lines, number, table, limit)
        if new is not None:
            lines[number] = new
    wrapped = "".join(lines)
    try:
        ast.parse(wrapped)
    except SyntaxError:
        return after
    return wrapped


def _tokens(text: str) -> dict[int, _Line] | None:
    """Return each line's tokens (0-based line numbers), or ``None`` when it does not tokenize."""
    table: dict[int, _Line] = {}
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            row = token.start[0] - 1
            if row not in table:
                table[row] = _Line([], depth)
            if token.end[0] > token.start[0]:
                for inner in range(row + 1, token.end[0]):
                    table.setdefault(inner, _Line([], depth)).in_string = True
            if token.type in _SKIPPED:
                continue
            table[row].tokens.append(token)
            if token.type == tokenize.OP and token.string in _OPEN:
                depth += 1
            elif token.type == tokenize.OP and token.string in _CLOSE:
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return None
    return table


def _split(lines: list[str], number: int, table: dict[int, _Line], limit: int) -> str | None:
    line = table.get(number)
    if line is None or line.in_string or not line.tokens:
        return None
    if any(t.type == tokenize.STRING and t.end[0] != t.start[0] for t in line.tokens):
        return None
    text = lines[number].rstrip("\r\n")
    newline = lines[number][len(text) :]
    if text.rstrip().endswith("\\") or (number and lines[number - 1].rstrip().endswith("\\")):
        return None
    indent = text[: len(text) - len(text.lstrip())]
    if line.depth == 0:
        return _split_call(text, indent, line.tokens, limit, newline)
    return _explode_arguments(lines, number, table, text, indent, limit, newline)


def _split_call(
    text: str, indent: str, tokens: list[tokenize.TokenInfo], limit: int, newline: str
) -> str | None:
    """Split a statement that ends with a call at the call's brackets (a comment may follow)."""
    code = [t for t in tokens if t.type != tokenize.COMMENT]
    if not code or code[-1].string != ")" or _depth_after(code) != 0:
        return None
    opening = _opening_of(code, len(code) - 1)
    if opening is None or opening == 0:
        return None
    before = code[opening - 1]
    if before.type != tokenize.NAME and before.string not in (")", "]"):
        return None  # a parenthesized expression or a tuple, not a call
    if before.type == tokenize.NAME and before.string in _KEYWORDS:
        return None
    head = text[: code[opening].end[1]]
    body = text[code[opening].end[1] : code[-1].start[1]].strip()
    tail = text[code[-1].start[1] :]
    if not body or len(head) > limit:
        return None
    inside = indent + "    "
    if len(inside + body) <= limit and not body.endswith(","):
        return f"{head}{newline}{inside}{body}{newline}{indent}{tail}{newline}"
    items = _items(text, code[opening + 1 : -1])
    if items is None or len(items) < 2:
        return None
    parts = "".join(f"{inside}{item},{newline}" for item in items)
    return f"{head}{newline}{parts}{indent}{tail}{newline}"


def _explode_arguments(
    lines: list[str],
    number: int,
    table: dict[int, _Line],
    text: str,
    indent: str,
    limit: int,
    newline: str,
) -> str | None:
    """Put each argument of an already split call on its own line, with a trailing comma."""
    line = table[number]
    above = table.get(number - 1)
    below = table.get(number + 1)
    if above is None or below is None or not above.tokens or not below.tokens:
        return None
    if any(t.type == tokenize.COMMENT for t in line.tokens) or _depth_after(line.tokens) != 0:
        return None
    if above.tokens[-1].string != "(" or below.tokens[0].string != ")":
        return None
    outer = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
    closing = lines[number + 1][: len(lines[number + 1]) - len(lines[number + 1].lstrip())]
    if indent != outer + "    " or closing != outer:
        return None
    items = _items(text, line.tokens)
    if items is None or len(items) < 2:
        return None
    return "".join(f"{indent}{item},{newline}" for item in items)


_KEYWORDS = frozenset(
    {"if", "elif", "while", "for", "in", "not", "and", "or", "is", "return", "yield", "await"}
    | {"assert", "del", "lambda", "else", "with", "as"}
)


def _depth_after(tokens: list[tokenize.TokenInfo]) -> int:
    depth = 0
    for token in tokens:
        if token.type == tokenize.OP and token.string in _OPEN:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSE:
            depth -= 1
    return depth


def _opening_of(tokens: list[tokenize.TokenInfo], closing: int) -> int | None:
    depth = 0
    for index in range(closing, -1, -1):
        token = tokens[index]
        if token.type == tokenize.OP and token.string in _CLOSE:
            depth += 1
        elif token.type == tokenize.OP and token.string in _OPEN:
            depth -= 1
            if depth == 0:
                return index
    return None


def _items(text: str, tokens: list[tokenize.TokenInfo]) -> list[str] | None:
    """Return the text of each top-level comma-separated item of ``tokens`` (one line)."""
    if not tokens:
        return None
    items: list[str] = []
    depth = 0
    start = tokens[0].start[1]
    for token in tokens:
        if token.type == tokenize.OP and token.string in _OPEN:
            depth += 1
        elif token.type == tokenize.OP and token.string in _CLOSE:
            depth -= 1
        elif token.type == tokenize.OP and token.string == "," and depth == 0:
            items.append(text[start : token.start[1]].strip())
            start = token.end[1]
        elif token.type == tokenize.NAME and token.string == "for" and depth == 0:
            return None  # ``f(x for x in y)``: a bare generator takes no trailing comma
    last = text[start : tokens[-1].end[1]].strip()
    if last:
        items.append(last)
    if any(not item for item in items):
        return None
    return items
