"""Deployment and packaging files: how the app is started, and what it depends on.

Read line by line, so every finding has its line and column:

* start commands in ``Procfile``, supervisor programs (``*.conf`` / ``*.ini`` files with a
  ``[program:...]`` section), ``docker-compose*.yml`` / ``compose*.yaml`` (``command``,
  ``entrypoint``), ``Dockerfile`` (``CMD``, ``ENTRYPOINT``, ``RUN``) and shell scripts
  (``*.sh``): a WSGI server (QM703: ``gunicorn`` without an ASGI worker class,
  ``waitress-serve``, ``uwsgi``, not as the package of ``pip install``), gevent or eventlet
  workers (QM715), ``flask run`` (QM719); a ``[uwsgi]`` section of an ``.ini`` file (QM703);
* Flask's environment variables (QM718) in ``.env``, ``.flaskenv``, in ``export`` lines of
  shell scripts and in compose files;
* dependencies in ``setup.py`` (``install_requires``, ``extras_require``) and ``setup.cfg``
  (``[options] install_requires``, ``[options.extras_require]``), reported as
  :mod:`migrate.checker.depfiles` reports requirement files (QM502/QM503/QM504, QM704,
  QM715).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

from migrate.checker import rules
from migrate.checker.model import Finding

#: Quart's CLI reads these instead (``auto_envvar_prefix="QUART"``, ``QUART_APP``).
ENV_VARS = {
    "FLASK_APP": "QUART_APP",
    "FLASK_DEBUG": "QUART_DEBUG",
    "FLASK_ENV": "QUART_DEBUG",
    "FLASK_RUN_HOST": "QUART_RUN_HOST",
    "FLASK_RUN_PORT": "QUART_RUN_PORT",
}
ASGI_WORKERS = ("uvicorn", "hypercorn")
GREEN_WORKERS = ("gevent", "eventlet")
_ENV = re.compile(r"\b(FLASK_[A-Z_]+)\b")
_GUNICORN = re.compile(r"\bgunicorn\b(?![.\w-])")
_WORKER = re.compile(r"(?:-k|--worker-class)(?:\s+|=)[\"']?([\w.:-]+)")
_SERVERS = re.compile(r"(?<![\w.-])(waitress-serve|uwsgi)(?![\w.-])")
_FLASK_RUN = re.compile(r"(?<![\w.-])(?:python3?\s+-m\s+)?flask\s+(?:--app\s+\S+\s+)?run\b")
_INSTALL = re.compile(r"\b(install|add|download)\b")
_COMPOSE_KEYS = re.compile(r"^\s*-?\s*(command|entrypoint)\s*:")
_DOCKER_KEYS = re.compile(r"^\s*(CMD|ENTRYPOINT|RUN)\b", re.IGNORECASE)


def _kind(path: Path) -> str | None:
    name = path.name
    if name == "Procfile" or name.startswith("Procfile."):
        return "commands"
    if name in (".env", ".flaskenv") or name.startswith(".env."):
        return "env"
    if name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
        return "docker"
    if re.fullmatch(r"(docker-)?compose[\w.-]*\.ya?ml", name):
        return "compose"
    if path.suffix == ".sh":
        return "shell"
    if path.suffix in (".conf", ".ini") and name != "setup.cfg":
        return "supervisor"
    if name == "setup.cfg":
        return "setup.cfg"
    if name == "setup.py":
        return "setup.py"
    return None


def is_deploy_file(path: Path) -> bool:
    """Return true for the file names this module reads (``setup.py`` included)."""
    return _kind(path) is not None


def _finding(path: str, line: int, col: int, width: int, code: str, **fields: str) -> Finding:
    message = rules.get(code).format(**fields)
    return Finding(path, line, col + 1, code, message, line, col + 1 + width)


def _strip_comment(line: str) -> str:
    # A ``#`` that starts a word starts a comment (shell, Procfile, YAML, dotenv).
    match = re.search(r"(^|\s)#", line)
    return line[: match.start()] if match else line


def _installing(text: str, at: int) -> bool:
    # ``pip install gunicorn``, ``poetry add waitress``: a package name, not a command.
    segment = re.split(r"&&|\|\||;|\|", text[:at])[-1]
    return bool(_INSTALL.search(segment))


def commands(path: str, number: int, line: str) -> Iterator[Finding]:
    """Yield the findings of one command line (a start command or a shell line)."""
    text = _strip_comment(line)
    for match in _GUNICORN.finditer(text):
        if _installing(text, match.start()):
            continue
        worker = _WORKER.search(text, match.end())
        value = worker.group(1).lower() if worker else ""
        if any(w in value for w in GREEN_WORKERS):
            assert worker is not None
            yield _finding(
                path, number, worker.start(1), len(worker.group(1)), "QM715", name=worker.group(1)
            )
        elif not any(w in value for w in ASGI_WORKERS):
            yield _finding(path, number, match.start(), 8, "QM703", name="gunicorn")
    for match in _SERVERS.finditer(text):
        if _installing(text, match.start()):
            continue
        yield _finding(path, number, match.start(), len(match.group(1)), "QM703", name=match[1])
    for match in _FLASK_RUN.finditer(text):
        yield _finding(path, number, match.start(), len(match.group(0)), "QM719")
    yield from env_vars(path, number, text)


def env_vars(path: str, number: int, text: str) -> Iterator[Finding]:
    """Yield QM718 for each Flask CLI variable named on the line."""
    for match in _ENV.finditer(_strip_comment(text)):
        name = match.group(1)
        if name in ENV_VARS:
            yield _finding(
                path, number, match.start(1), len(name), "QM718", name=name, quart=ENV_VARS[name]
            )


def _supervisor(path: str, text: str) -> Iterator[Finding]:
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        # A uWSGI configuration (``uwsgi.ini``): the app is served as WSGI.
        if _strip_comment(line).strip() == "[uwsgi]":
            yield _finding(path, number, line.index("["), 7, "QM703", name="uwsgi")
    if "[program:" not in text:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("command", "environment")) and "=" in stripped:
            yield from commands(path, number, line)


def _compose(path: str, text: str) -> Iterator[Finding]:
    lines = text.splitlines()
    in_command = False
    for number, line in enumerate(lines, start=1):
        if _COMPOSE_KEYS.match(line):
            in_command = True
            yield from commands(path, number, line)
            continue
        stripped = line.strip()
        if in_command and stripped.startswith("- "):
            yield from commands(path, number, line)  # a command written as a list
            continue
        in_command = False
        yield from env_vars(path, number, line)


def _docker(path: str, text: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        if _DOCKER_KEYS.match(line):
            yield from commands(path, number, line.replace('", "', " ").replace('","', " "))
        elif re.match(r"^\s*ENV\b", line):
            yield from env_vars(path, number, line)


def _lines(check: Callable[[str, int, str], Iterator[Finding]]) -> Callable[..., Iterator[Finding]]:
    def run(path: str, text: str) -> Iterator[Finding]:
        for number, line in enumerate(text.splitlines(), start=1):
            yield from check(path, number, line)

    return run


def _setup_cfg(path: str, text: str) -> Iterator[Finding]:
    from migrate.checker import depfiles

    section = ""
    in_requires = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section, in_requires = stripped[1:-1], False
            continue
        key, sep, value = line.partition("=")
        if section == "options" and sep and not line[:1].isspace():
            in_requires = key.strip() == "install_requires"
            line = " " * (len(key) + 1) + value if in_requires else line
        elif section == "options.extras_require" and sep and not line[:1].isspace():
            in_requires = True
            line = " " * (len(key) + 1) + value
        elif not line[:1].isspace():
            in_requires = False
        if in_requires and line.strip():
            yield from depfiles.check_requirements_line(path, number, line.strip(), line)


def _setup_py(path: str, text: str) -> Iterator[Finding]:
    from migrate.checker import depfiles

    tree = ast.parse(text, filename=path)
    lines = text.splitlines()
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg not in (
            "install_requires",
            "extras_require",
        ):
            continue
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                line = lines[sub.lineno - 1]
                yield from depfiles.check_requirements_line(path, sub.lineno, sub.value, line)


CHECKS: dict[str, Callable[[str, str], Iterator[Finding]]] = {
    "commands": _lines(commands),
    "shell": _lines(commands),
    "env": _lines(env_vars),
    "supervisor": _supervisor,
    "compose": _compose,
    "docker": _docker,
    "setup.cfg": _setup_cfg,
    "setup.py": _setup_py,
}


def check_file(path: str, text: str) -> list[Finding]:
    """Return the findings of one deployment or packaging file (see the module docstring).

    Raises ``SyntaxError`` for a ``setup.py`` that does not parse.
    """
    kind = _kind(Path(path))
    return list(CHECKS[kind](path, text)) if kind is not None else []
