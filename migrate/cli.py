"""Command line: ``python -m migrate check [PATH ...]``.

Exit codes follow ruff: 0 no findings, 1 findings (0 with ``--exit-zero``),
2 usage, configuration or internal error, or nothing to check (every named path
excluded, or no Python or dependency file under it). Findings go to stdout; notes and
skipped files (not UTF-8, syntax errors) go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from migrate.checker import config
from migrate.checker import fixing
from migrate.checker import output
from migrate.checker import project
from migrate.checker import sarif
from migrate.checker.discovery import DEFAULT_EXCLUDE
from migrate.checker.discovery import discover_explained
from migrate.checker.engine import run
from migrate.checker.rules import SelectionError
from migrate.checker.rules import enabled_codes

FORMATS = ("text", "json", "sarif", "github")


class UsageError(Exception):
    """A bad flag or value: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _codes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _parser(check_prog: str | None = None) -> _Parser:
    parser = _Parser(prog="python -m migrate", description="Flask → Quart migration kit.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = commands.add_parser(
        "check", prog=check_prog, help="report what a Flask codebase must change to run on Quart"
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default .)")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format")
    check.add_argument(
        "--select",
        action="append",
        metavar="CODES",
        help="comma-separated codes or prefixes to enable (default: all)",
    )
    check.add_argument(
        "--extend-select",
        action="append",
        metavar="CODES",
        help="codes or prefixes to enable in addition",
    )
    check.add_argument(
        "--ignore", action="append", metavar="CODES", help="codes or prefixes to disable"
    )
    check.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="glob patterns replacing the default excludes",
    )
    check.add_argument(
        "--extend-exclude",
        action="append",
        metavar="PATTERN",
        help="glob patterns excluded in addition",
    )
    check.add_argument(
        "--no-respect-gitignore",
        action="store_true",
        help="also check files that .gitignore excludes",
    )
    check.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply the excludes and .gitignore to files named on the command line too",
    )
    check.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read [tool.migrate] from FILE instead of the nearest pyproject.toml",
    )
    check.add_argument("--isolated", action="store_true", help="ignore pyproject.toml settings")
    check.add_argument("--docs-url", metavar="URL", help="base of the rule page links")
    check.add_argument("--statistics", action="store_true", help="print counts per rule only")
    check.add_argument("--list-rules", action="store_true", help="print every rule and exit")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument("--no-summary", action="store_true", help="text format: findings only")
    check.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes (default: CPU count; 1 = serial)"
    )
    check.add_argument(
        "--fix", action="store_true", help="apply the safe fixes and write the files"
    )
    check.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="apply the unsafe fixes too (with --fix, --diff)",
    )
    check.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff, write nothing; exit 1 if a file would change",
    )
    check.add_argument(
        "--show-fixes",
        action="store_true",
        help="with --fix: list the fixed findings by rule; without: mark fixable findings",
    )
    check.add_argument(
        "--fix-only", action="store_true", help="apply fixes, do not report what remains"
    )
    return parser


def _settings(args: argparse.Namespace, paths: list[Path]) -> config.Settings:
    if args.isolated:
        return config.Settings()
    if args.config is not None:
        if not args.config.is_file():
            raise UsageError(f"config file not found: {args.config}")
        return config.load(args.config)
    found = config.find(paths[0] if paths else Path.cwd())
    return config.load(found) if found else config.Settings()


def _check(args: argparse.Namespace) -> int:
    if args.list_rules:
        sys.stdout.write(output.list_rules())
        return 0
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    paths = [Path(p) for p in args.paths] or [Path(".")]
    settings = _settings(args, paths)
    select = _codes(args.select) if args.select else settings.select
    ignore = [*settings.ignore, *(_codes(args.ignore) or [])]
    extend = [*settings.extend_select, *(_codes(args.extend_select) or [])]
    enabled = enabled_codes(select, ignore, extend)
    exclude = list(args.exclude or settings.exclude or DEFAULT_EXCLUDE)
    exclude += [*settings.extend_exclude, *(args.extend_exclude or [])]
    respect = settings.respect_gitignore and not args.no_respect_gitignore
    force = args.force_exclude or settings.force_exclude
    try:
        files, notes = discover_explained(paths, exclude, respect, force)
    except FileNotFoundError as exc:
        raise UsageError(f"path not found: {exc}") from exc
    for note in notes:
        print(f"migrate: warning: {note}", file=sys.stderr)
    if not files:
        # A gate that passes on nothing is worse than one that fails: say so, exit 2.
        raise UsageError("no files to check under " + ", ".join(str(p) for p in paths))
    context = project.context_files(files, paths, exclude, respect)
    base = settings.source.parent if settings.source is not None else Path.cwd()
    mounted = [(base / name).resolve() for name in settings.mounted_wsgi]
    docs_url = args.docs_url or settings.docs_url
    if args.fix or args.fix_only or args.diff:
        return _fix(args, files, enabled, docs_url, context, mounted)
    report = run(files, enabled, args.jobs, context, mounted)
    for error in report.errors:
        print(error, file=sys.stderr)
    if args.format in ("json", "sarif") or args.show_fixes:
        # Working the fixes out costs a second parse of each file with findings.
        report.findings = fixing.attach(report, enabled, unsafe=True, sqlite_uses=False)
    if args.statistics:
        sys.stdout.write(output.statistics(report))
    elif args.format == "json":
        sys.stdout.write(output.as_json(report, docs_url))
    elif args.format == "sarif":
        sys.stdout.write(sarif.as_sarif(report, docs_url))
    elif args.format == "github":
        sys.stdout.write(output.github(report))
    else:
        text = output.text(report, summary=not args.no_summary, fixes=args.show_fixes)
        sys.stdout.write(text)
    return 1 if report.findings and not args.exit_zero else 0


def _fix(
    args: argparse.Namespace,
    files: list[Path],
    enabled: frozenset[str],
    docs: str | None,
    context: Sequence[Path],
    mounted: Sequence[Path],
) -> int:
    outcome = fixing.fix_run(
        files,
        enabled,
        args.unsafe_fixes,
        args.jobs,
        display=not args.diff,
        context=context,
        mounted=mounted,
    )
    report = outcome.report
    errors = list(report.errors)
    errors += [
        f"{path}: not fixed: its fixed text does not parse ({why})"
        for path, why in sorted(outcome.broken.items())
    ]
    if args.diff:
        for error in errors:
            print(error, file=sys.stderr)
        sys.stdout.write(fixing.unified_diff(outcome))
        total = sum(outcome.fixed.values())
        print(f"Would fix {total} findings in {len(outcome.changed())} files.", file=sys.stderr)
        if errors:
            return 2
        return 1 if outcome.changed() else 0
    errors += fixing.write(outcome)
    for error in errors:
        print(error, file=sys.stderr)
    if args.show_fixes or args.fix_only:
        sys.stdout.write(output.fixed(outcome.fixed))
    if not args.fix_only:
        if args.format == "json":
            sys.stdout.write(output.as_json(report, docs))
        elif args.format == "sarif":
            sys.stdout.write(sarif.as_sarif(report, docs))
        elif args.format == "github":
            sys.stdout.write(output.github(report))
        elif args.statistics:
            sys.stdout.write(output.statistics(report))
        else:
            text = output.text(
                report, summary=not args.no_summary, fixed=outcome.fixed, unsafe=args.unsafe_fixes
            )
            sys.stdout.write(text)
    if errors:
        return 2
    if args.fix_only or args.exit_zero:
        return 0
    return 1 if report.findings else 0


def main(argv: Sequence[str] | None = None, *, check_prog: str | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    ``check_prog`` names the ``check`` command in its usage line (default
    ``python -m migrate check``).
    """
    parser = _parser(check_prog)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("missing command (available: check)")
        return _check(args)
    except UsageError as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return 2
    except (config.ConfigError, SelectionError) as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:
        print(f"migrate: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def check_main(argv: Sequence[str] | None = None) -> int:
    """Run ``flask-quart-check [OPTION ...] [PATH ...]``, the console script.

    The same as ``python -m migrate check`` with the same arguments (default
    ``sys.argv[1:]``), the same output and exit codes; it is also the entry of the
    pre-commit hook (``.pre-commit-hooks.yaml``).
    """
    args = sys.argv[1:] if argv is None else argv
    return main(["check", *args], check_prog="flask-quart-check")
