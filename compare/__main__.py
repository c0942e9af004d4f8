"""Run ``python -m compare``: see :func:`compare.cli.main`."""

from __future__ import annotations

from compare.cli import main

raise SystemExit(main())
