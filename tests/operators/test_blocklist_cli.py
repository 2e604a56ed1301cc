"""`helpline block add|remove|list` against a real Redis: the Blocked page
from a terminal. Numbers printed masked; changes audited as "cli:<os user>"
with the same actions as the pages and the API; bad input refused with the
option named, and nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from ivr.callers.blocklist import Blocklist
from ivr.operators.audit import AuditLog
from tests.conftest import RedisServer
from tests.operators.test_status_cli import SECRET_KEY, Run, _environment, _runner

NUMBER = "+12025550177"


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    return _runner(_environment(redis_server.url, tmp_path))


@pytest.fixture
def blocklist(redis_client: redis.Redis) -> Blocklist:
    return Blocklist(redis_client, SECRET_KEY)


def test_add_list_remove(run: Run, blocklist: Blocklist, redis_client: redis.Redis) -> None:
    added = run("block", "add", "(202) 555-0177", "--for", "2w", "--reason", "threats")
    assert added.exit_code == 0, added.output
    assert added.output.startswith("…0177 blocked until ")
    assert blocklist.is_blocked(NUMBER)
    (block,) = blocklist.list()
    assert round((block.until - block.created).total_seconds()) == 14 * 86400
    key = f"blocklist:{block.id}"
    assert 14 * 86400 - 5 <= redis_client.ttl(key) <= 14 * 86400 + 1
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "block.add", block.id)
    assert entry.after["number"] == "…0177"

    listed = run("block", "list")
    assert "…0177" in listed.output
    assert "threats" in listed.output
    assert "by cli:dana" in listed.output
    assert "2025550177" not in listed.output
    shown = json.loads(run("block", "list", "--json").output)
    assert [(b["id"], b["number"], b["crisis_texts"]) for b in shown] == [(block.id, "…0177", 0)]

    removed = run("block", "remove", "202-555-0177")
    assert removed.exit_code == 0, removed.output
    assert removed.output == "…0177 unblocked\n"
    assert not blocklist.is_blocked(NUMBER)
    assert AuditLog(redis_client).recent(1)[0].action == "block.remove"
    assert run("block", "list").output == "no number is blocked\n"
    again = run("block", "remove", NUMBER)
    assert again.exit_code == 1
    assert "not blocked" in again.output


def test_the_default_length_is_30_days(run: Run, blocklist: Blocklist) -> None:
    assert run("block", "add", NUMBER, "--reason", "prank calls").exit_code == 0
    (block,) = blocklist.list()
    assert round((block.until - block.created).total_seconds()) == 30 * 86400


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["add", "hello", "--reason", "x"], "NUMBER"),
        (["add", NUMBER, "--reason", "x", "--for", "400d"], "--for"),
        (["add", NUMBER, "--reason", "x", "--for", "soon"], "--for"),
        (["add", NUMBER, "--reason", "x", "--for", "30m"], "--for"),
        (["add", NUMBER, "--reason", "   "], "--reason"),
        (["add", NUMBER], "--reason"),
        (["remove", "12"], "NUMBER"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    run: Run, blocklist: Blocklist, redis_client: redis.Redis, args: list[str], named: str
) -> None:
    result = run("block", *args)
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert blocklist.list() == []
    assert AuditLog(redis_client).recent(5) == []


def test_crisis_texts_while_blocked_are_listed(run: Run, blocklist: Blocklist) -> None:
    blocklist.block(NUMBER, "abusive texts", by="web:sam")
    blocklist.note_crisis(NUMBER)
    listed = run("block", "list").output
    assert "1 crisis text(s) answered while blocked" in listed


def test_without_redis_a_clean_error(tmp_path: Path) -> None:
    result = _runner(_environment("redis://127.0.0.1:1/0", tmp_path))("block", "list")
    assert result.exit_code == 1
    assert "cannot reach Redis" in result.output
