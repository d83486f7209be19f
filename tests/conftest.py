"""Test tiers by directory: tests under integration/, scenarios/ and chaos/ need real servers."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

pytest_plugins = ["tests.harness.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tiers by folder so a test cannot forget its marker."""
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(TESTS).parts
        if parts[0] in {"integration", "scenarios", "chaos"}:
            item.add_marker(pytest.mark.integration)
        if parts[0] in {"scenarios", "chaos"}:
            item.add_marker(pytest.mark.heavy)
        if parts[0] == "chaos":
            item.add_marker(pytest.mark.chaos)
