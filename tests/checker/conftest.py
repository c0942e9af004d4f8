"""Shared fixtures for the checker tests; the sample files are data, never collected."""

from __future__ import annotations

collect_ignore_glob = ["samples/*"]
