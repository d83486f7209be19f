"""The configuration reference names every flag and variable the CLI accepts."""

from __future__ import annotations

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
