"""The configuration reference names every flag and variable the CLI accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faros import config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
OPTIONS = sorted(
    {option.flag for command in config.PROCESSES for option in config.options(command)}
)


@pytest.mark.parametrize("flag", OPTIONS)
def test_every_flag_is_documented(flag):
    text = DOC.read_text(encoding="utf-8")

    assert f"`{flag}`" in text
    assert f"`FAROS_{flag.removeprefix('--').upper().replace('-', '_')}`" in text


ROOT = DOC.parents[1]
TESTING = ROOT / "faros" / "testing"


def _variables(sources: list[Path]) -> list[str]:
    pattern = r"environ(?:\.get\(|\[)\"((?:FAROS|PROMETHEUS)_[A-Z_]+)\""
    found = {name for path in sources for name in re.findall(pattern, path.read_text("utf-8"))}
    return sorted(name for name in found if not name.startswith("FAROS_TEST_"))  # test hooks


RUNTIME = _variables(
    [
        ROOT / "celeryconfig.py",
        *(p for p in (ROOT / "faros").rglob("*.py") if TESTING not in p.parents),
    ]
)
TEST_BED = _variables(sorted(TESTING.rglob("*.py")))


def test_the_scan_finds_the_celery_settings():
    assert {"FAROS_LOCK_TTL", "FAROS_VISIBILITY_TIMEOUT", "PROMETHEUS_MULTIPROC_DIR"} <= set(
        RUNTIME
    )


@pytest.mark.parametrize("variable", RUNTIME)
def test_every_variable_faros_reads_is_in_the_configuration_doc(variable):
    assert f"`{variable}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("variable", TEST_BED)
def test_every_variable_of_the_test_bed_is_in_the_testing_doc(variable):
    assert f"`{variable}`" in (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
