"""`helpline token …`, `helpline password …` and `helpline audit` against a
real Redis: a token is printed once and only its hash is kept, weak passwords
are refused, and every change lands in the audit log under the OS user."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, cast

import pytest
import redis
from click.testing import CliRunner, Result

from ivr.cli.main import main
from ivr.operators.accounts import Accounts, Operator
from ivr.operators.audit import AuditLog
from tests.conftest import RedisServer, cli_environment
from tests.raw_replies import RawHash, RawList, RawStream

PASSWORD = "correct horse battery staple"


class Run(Protocol):
    """`helpline ARGS…` with the test line's settings, as OS user "dana"."""

    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    env = {
        **cli_environment(redis_server.url, tmp_path),
        # getpass.getuser() reads LOGNAME first.
        "LOGNAME": "dana",
    }

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


def _everything_in(client: redis.Redis) -> bytes:
    """Every key and value in Redis, read by type (DUMP may compress)."""
    parts: list[bytes] = []
    for key in client.scan_iter():
        parts.append(key)
        kind = client.type(key)
        if kind == b"hash":
            parts += [item for pair in cast(RawHash, client.hgetall(key)).items() for item in pair]
        elif kind == b"set":
            parts += list(cast(set[bytes], client.smembers(key)))
        elif kind == b"string":
            parts.append(cast(bytes | None, client.get(key)) or b"")
        elif kind == b"list":
            parts += cast(RawList, client.lrange(key, 0, -1))
        elif kind == b"zset":
            parts += cast(RawList, client.zrange(key, 0, -1))
        elif kind == b"stream":
            parts += [
                item
                for _, fields in cast(RawStream, client.xrange(key))
                for pair in fields.items()
                for item in pair
            ]
        else:
            raise AssertionError(f"cannot read {key!r} of type {kind!r}")
    return b"\n".join(parts)


def test_token_create_prints_the_token_once_and_keeps_only_its_hash(
    run: Run, redis_client: redis.Redis
) -> None:
    result = run("token", "create", "alice")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.output.count(token) == 1
    assert "shown this once" in result.stderr
    assert "Authorization: Bearer" in result.stderr
    operator = Accounts(redis_client).verify_token(token)
    assert operator is not None
    assert (operator.name, operator.role) == ("alice", "viewer")
    stored = _everything_in(redis_client)
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    secret = token[len("hl_") + 13 :]  # hl_<12-digit id>_<secret>
    assert token.encode() not in stored
    assert secret.encode() not in stored


def test_token_create_with_the_admin_role(run: Run, redis_client: redis.Redis) -> None:
    token = run("token", "create", "ci-bot", "--role", "admin").stdout.strip()
    operator = Accounts(redis_client).verify_token(token)
    assert operator is not None
    assert operator.can_change


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["token", "create", "alice", "--role", "root"], 2, "'root' is not one of"),
        (["token", "create", "Alice Smith"], 1, "lowercase letters"),
    ],
)
def test_token_create_refuses_bad_input(
    run: Run, redis_client: redis.Redis, args: list[str], exit_code: int, says: str
) -> None:
    result = run(*args)
    assert result.exit_code == exit_code
    assert says in result.output
    assert redis_client.keys("operator:*") == []


def test_token_list_shows_tokens_but_not_their_secrets(run: Run) -> None:
    token = run("token", "create", "alice", "--role", "admin").stdout.strip()
    result = run("token", "list")
    assert result.exit_code == 0
    token_id = token.split("_")[1]
    assert token_id in result.output
    assert "alice" in result.output
    assert "admin" in result.output
    assert "last used never" in result.output
    assert token not in result.output


def test_token_list_when_there_are_none(run: Run) -> None:
    assert "no tokens" in run("token", "list").output


def test_token_revoke(run: Run, redis_client: redis.Redis) -> None:
    token = run("token", "create", "alice").stdout.strip()
    token_id = token.split("_")[1]
    result = run("token", "revoke", token_id)
    assert result.exit_code == 0, result.output
    assert Accounts(redis_client).verify_token(token) is None
    again = run("token", "revoke", token_id)
    assert again.exit_code == 1
    assert f"no token {token_id}" in again.output


def test_token_changes_are_audited(run: Run, redis_client: redis.Redis) -> None:
    token_id = run("token", "create", "alice").stdout.strip().split("_")[1]
    run("token", "revoke", token_id)
    revoked, created = AuditLog(redis_client).recent()
    assert (created.who, created.action, created.target) == ("cli:dana", "token.create", token_id)
    assert (created.before, created.after) == (None, {"name": "alice", "role": "viewer"})
    assert (revoked.who, revoked.action, revoked.target) == ("cli:dana", "token.revoke", token_id)
    assert (revoked.before, revoked.after) == ({"name": "alice", "role": "viewer"}, None)


def test_password_set_from_stdin(run: Run, redis_client: redis.Redis) -> None:
    result = run("password", "set", "erin", "--role", "admin", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert Accounts(redis_client).verify_password("erin", PASSWORD) == Operator(
        "erin", "admin", "password"
    )


def test_password_set_asks_twice_without_echo(run: Run, redis_client: redis.Redis) -> None:
    result = run("password", "set", "erin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Repeat for confirmation" in result.output
    assert Accounts(redis_client).verify_password("erin", PASSWORD) == Operator(
        "erin", "viewer", "password"
    )


def test_a_weak_password_is_refused_and_nothing_changes(
    run: Run, redis_client: redis.Redis
) -> None:
    result = run("password", "set", "erin", "--password-stdin", input="hunter2\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert redis_client.keys("operator:*") == []


def test_password_remove(run: Run, redis_client: redis.Redis) -> None:
    run("password", "set", "erin", "--password-stdin", input=PASSWORD)
    result = run("password", "remove", "erin")
    assert result.exit_code == 0, result.output
    assert Accounts(redis_client).verify_password("erin", PASSWORD) is None
    again = run("password", "remove", "erin")
    assert again.exit_code == 1
    assert "erin has no password" in again.output


def test_password_changes_are_audited_without_the_password(
    run: Run, redis_client: redis.Redis
) -> None:
    run("password", "set", "erin", "--password-stdin", input=PASSWORD)
    run("password", "set", "erin", "--role", "admin", "--password-stdin", input=PASSWORD + "!")
    run("password", "remove", "erin")
    removed, changed, made = AuditLog(redis_client).recent()
    assert [(e.who, e.action, e.target) for e in (made, changed, removed)] == [
        ("cli:dana", "password.set", "erin"),
        ("cli:dana", "password.set", "erin"),
        ("cli:dana", "password.remove", "erin"),
    ]
    assert (made.before, made.after) == (None, {"role": "viewer"})
    assert (changed.before, changed.after) == ({"role": "viewer"}, {"role": "admin"})
    assert (removed.before, removed.after) == ({"role": "admin"}, None)
    stored = _everything_in(redis_client)
    assert PASSWORD.encode() not in stored


def test_audit_shows_changes_newest_first(run: Run, redis_client: redis.Redis) -> None:
    AuditLog(redis_client).record(
        "web:erin", "counselor.update", "ana", {"phone": "+12025550101"}, {"active": False}
    )
    run("token", "create", "alice")
    result = run("audit")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "cli:dana" in lines[0]
    assert "token.create" in lines[0]
    assert any("web:erin" in line and "counselor.update" in line for line in lines)
    assert '"phone": "…0101"' in result.output
    assert "2025550101" not in result.output
    limited = run("audit", "--limit", "1").output
    assert "token.create" in limited
    assert "counselor.update" not in limited


def test_audit_when_nothing_changed(run: Run) -> None:
    assert "no changes recorded yet" in run("audit").output
