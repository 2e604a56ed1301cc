"""Helpers for roster tests: write a roster file, read it back, run
`helpline roster …` against the test Redis."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
import redis
from click.testing import CliRunner, Result

from ivr.cli.roster import roster
from ivr.platform.config import PROJECT_ROOT
from ivr.roster import Roster, load_roster_file
from tests.conftest import RedisServer, cli_environment

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


class Run(Protocol):
    """`helpline roster ARGS…` with the test line's settings."""

    def __call__(self, *args: str) -> Result: ...


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    env = cli_environment(redis_server.url, tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(roster, list(args), env=env, catch_exceptions=False)

    return invoke
