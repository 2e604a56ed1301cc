"""Helpers for roster tests: write a roster file, read it back."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.config import PROJECT_ROOT
from ivr.roster import Roster, load_roster_file

EXAMPLE = PROJECT_ROOT / "examples" / "roster.yaml"

WriteRoster = Callable[[str], Path]


@pytest.fixture
def write_roster(tmp_path: Path) -> WriteRoster:
    def write(text: str) -> Path:
        path = tmp_path / "roster.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


def roster_from(text: str, tmp_path: Path) -> Roster:
    path = tmp_path / "roster.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return load_roster_file(path, "roster.yaml")
