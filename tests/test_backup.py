"""`helpline backup` / `helpline restore` against a real Redis: what operators
configured goes to a private file and comes back whole, the line then
behaving as before; a file that is damaged, foreign, of another version or
taken under another key is refused with nothing changed; opt-outs are never
undone by a restore; nothing about calls or callers is in the file."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from ivr.callbacks.requests import Callbacks
from ivr.callers.blocklist import Blocklist
from ivr.cli.main import main
from ivr.operators.accounts import Accounts, LoginThrottle, Operator
from ivr.operators.audit import AuditLog
from ivr.operators.backup import (
    LATEST,
    BackupError,
    checksum,
    collect,
    find_keys,
    parse,
    restore,
    restoring,
)
from ivr.operators.sessions import Sessions
from ivr.platform.config import Settings
from ivr.roster import Roster, RosterStore, who_is_on_call
from ivr.roster.edit import RosterEditor
from ivr.roster.store import ROSTER_KEY
from ivr.routing.figures import Figures
from ivr.sms.optout import OptOuts
from tests.conftest import RedisServer
from tests.operators.test_status_cli import SECRET_KEY, ZONE, Run, _environment, _runner

COUNSELOR = "+12025550101"
BLOCKED = "+12025550177"
OPTED_OUT = "+12025550166"
CALLER = "+12025550155"
PASSWORD = "correct horse battery staple"
CONFIG_PATTERNS = ("helpline:roster", "operator:token*", "operator:password:*", "blocklist:*")
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class Line:
    token: str
    block_id: str


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    return _runner(_environment(redis_server.url, tmp_path))


@pytest.fixture
def line(redis_client: redis.Redis) -> Line:
    """A line as operators set it up: a roster edited item by item, a token,
    a password, a blocked number, an opt-out; and the traffic of a day."""
    audit = AuditLog(redis_client)
    editor = RosterEditor(RosterStore(redis_client), audit)
    editor.add_counselor(
        {"id": "maria", "name": "María", "phone": COUNSELOR, "languages": ["en", "es"]},
        "cli:dana",
    )
    editor.add_shift({"counselor": "maria", "days": WEEK, "start": "00:00", "end": "24:00"}, "x")
    accounts = Accounts(redis_client)
    _, token = accounts.create_token("alice", "admin")
    accounts.set_password("bob", PASSWORD, "viewer")
    _, block = Blocklist(redis_client, SECRET_KEY).block(BLOCKED, "threats", by="cli:dana")
    OptOuts(redis_client, SECRET_KEY).opt_out(OPTED_OUT, "stop keyword")
    # Per-call and short-lived state, which a backup leaves out.
    Callbacks(redis_client, SECRET_KEY, 3600).create(CALLER, "en", "voicemail")
    Figures(redis_client, ZONE).offered()
    LoginThrottle(redis_client).failed("bob", "192.0.2.1")
    return Line(token, block.id)


def _config(client: redis.Redis) -> dict[str, object]:
    """Every configuration key and value (opt-outs included), but the
    roster's version stamp, which a restore moves on."""
    found: dict[str, object] = {}
    for pattern in (*CONFIG_PATTERNS, "optout:*"):
        for raw in client.scan_iter(match=pattern):
            key = _text(raw)
            kind = _text(client.type(key))
            if kind == "hash":
                value = {_text(k): _text(v) for k, v in client.hgetall(key).items()}
                if key == "helpline:roster":
                    value = {"document": json.loads(value["document"])}
                found[key] = value
            elif kind == "set":
                found[key] = sorted(client.smembers(key))
            elif kind == "zset":
                found[key] = client.zrange(key, 0, -1, withscores=True)
            else:
                found[key] = client.get(key)
    return found


def _everything(client: redis.Redis) -> dict[str, object]:
    """The whole database, byte for byte."""
    return {_text(key): client.dump(key) for key in sorted(client.keys("*"))}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def test_round_trip_restores_the_line_as_it_was(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path
) -> None:
    before = _config(redis_client)
    on_call = who_is_on_call(_roster(redis_client), datetime.now(UTC))
    version = RosterStore(redis_client).version()
    path = tmp_path / "line.json"

    backed_up = run("backup", str(path))
    assert backed_up.exit_code == 0, backed_up.output
    assert "a roster, 1 token, 1 password, 1 block, 1 opt-out" in backed_up.output
    redis_client.flushall()
    restored = run("restore", str(path))

    assert restored.exit_code == 0, restored.output
    assert "restored a roster, 1 token, 1 password, 1 block, 1 opt-out" in restored.output
    assert _config(redis_client) == before
    store = RosterStore(redis_client)
    assert store.version() > version  # a process caching the old version reloads
    assert who_is_on_call(_roster(redis_client), datetime.now(UTC)) == on_call
    accounts = Accounts(redis_client)
    assert accounts.verify_token(line.token) == Operator(
        "alice", "admin", f"token:{line.token[3:15]}"
    )
    signed_in = accounts.verify_password("bob", PASSWORD)
    assert signed_in is not None
    assert accounts.credential_valid(signed_in)
    blocklist = Blocklist(redis_client, SECRET_KEY)
    assert blocklist.is_blocked(BLOCKED)
    assert [b.id for b in blocklist.list()] == [line.block_id]
    assert 29 * 86400 < redis_client.ttl(f"blocklist:{line.block_id}") <= 30 * 86400 + 1
    assert OptOuts(redis_client, SECRET_KEY).is_opted_out(OPTED_OUT)
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "backup.restore", str(path))
    assert entry.after["tokens"] == 1
    assert entry.after["replace"] is False


def test_the_file_is_private_and_holds_no_callers_number_nor_secret(
    run: Run, line: Line, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    path.write_text("an older backup")
    path.chmod(0o644)
    old_umask = os.umask(0)
    try:
        assert run("backup", str(path)).exit_code == 0
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".line.json*"))  # no partial file left beside it
    text = path.read_text()
    for number in (BLOCKED, OPTED_OUT, CALLER):
        assert number[2:] not in text
    assert COUNSELOR in text  # the roster's own: counselors are rung from it
    assert SECRET_KEY not in text
    assert "test-auth-token" not in text
    document = json.loads(text)
    assert document["data"]["blocks"][line.block_id]["number"] == "…0177"
    assert set(document["data"]) == {"roster", "tokens", "passwords", "blocks", "optouts"}
    assert "callback" not in text
    assert "throttle" not in text
    assert document["settings"]["HELPLINE_BACKUP_NUMBER"] == "…0199"
    assert [e["action"] for e in document["audit"]][:2] == ["counselor.add", "shift.add"]


def test_backup_to_standard_output_and_restore_from_standard_input(
    run: Run, line: Line, redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    backed_up = run("backup", "-")
    assert backed_up.exit_code == 0
    assert json.loads(backed_up.stdout)["format"] == "helpline-backup"
    redis_client.flushall()

    restored = CliRunner().invoke(
        main, ["restore", "-"], input=backed_up.stdout, env=_environment(redis_server.url, tmp_path)
    )

    assert restored.exit_code == 0, restored.output
    assert Accounts(redis_client).verify_token(line.token) is not None


def _roster(client: redis.Redis) -> Roster:
    roster = RosterStore(client).load()
    assert roster is not None, "no roster stored"
    return roster


def _edited(path: Path, change: str) -> None:
    document = json.loads(path.read_text())
    if change == "checksum":
        document["data"]["tokens"] = {}  # checksum left as it was
    elif change == "version":
        document["version"] = 2
        document["checksum"] = checksum(document)
    elif change == "clear number":
        (block,) = document["data"]["blocks"].values()
        block["number"] = BLOCKED
        document["checksum"] = checksum(document)
    elif change == "bad roster":
        document["data"]["roster"]["document"]["counselors"][0]["phone"] = "+1202"
        document["checksum"] = checksum(document)
    elif change == "bad role":
        (token,) = document["data"]["tokens"].values()
        token["role"] = "root"
        document["checksum"] = checksum(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("checksum", "checksum does not match"),
        ("version", "format version 2 is not one this helpline reads"),
        ("clear number", "number is not masked"),
        ("bad roster", "E.164"),
        ("bad role", "unknown role 'root'"),
    ],
)
def test_a_changed_file_is_refused_and_nothing_changes(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, change: str, message: str
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    _edited(path, change)
    redis_client.flushall()

    result = run("restore", str(path))

    assert result.exit_code == 1
    assert "refused, nothing was restored" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _everything(redis_client) == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("truncated", "not a whole backup"),
        ('{"format": "something-else"}', "not a helpline backup"),
        ("[1, 2]", "not a helpline backup"),
        ("\udcff", "cannot read"),
    ],
)
def test_a_file_that_is_no_backup_is_refused_and_nothing_changes(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    if content == "truncated":
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif content == "\udcff":
        path.write_bytes(b"\xff\xfe not text")
    else:
        path.write_text(content)
    redis_client.flushall()

    result = run("restore", str(path))

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert _everything(redis_client) == {}


def test_a_missing_file_is_a_clear_error(run: Run, redis_client: redis.Redis) -> None:
    result = run("restore", "/nonexistent/line.json")
    assert result.exit_code == 1
    assert "cannot read /nonexistent/line.json" in result.output
    failed = run("backup", "/nonexistent/dir/line.json")
    assert failed.exit_code == 1
    assert "cannot write /nonexistent/dir/line.json" in failed.output


def test_a_backup_taken_under_another_key_is_refused(
    line: Line, redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    assert _runner(_environment(redis_server.url, tmp_path))("backup", str(path)).exit_code == 0
    redis_client.flushall()
    other = _environment(redis_server.url, tmp_path) | {"HELPLINE_SECRET_KEY": "another" * 8}

    result = _runner(other)("restore", str(path))

    assert result.exit_code == 1
    assert "taken under another HELPLINE_SECRET_KEY" in result.output
    assert _everything(redis_client) == {}


def test_a_configured_line_is_left_alone_without_replace(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    Accounts(redis_client).create_token("carol", "viewer")
    before = _everything(redis_client)

    result = run("restore", str(path))

    assert result.exit_code == 1
    assert "the line is configured already (a roster, 2 tokens" in result.output
    assert "give --replace" in result.output
    assert _everything(redis_client) == before


@pytest.mark.parametrize("only", ["roster", "token", "password", "block"])
def test_any_one_configured_thing_makes_the_line_not_empty(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, only: str
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    keep = {"roster": "helpline:roster", "token": "operator:token:*"}.get(only, "")
    keep = keep or {"password": "operator:password:*", "block": "blocklist:n_*"}[only]
    for raw in redis_client.keys("*"):
        if not _text(raw).startswith(keep.rstrip("*")):
            redis_client.delete(raw)
    before = _everything(redis_client)

    refused = run("restore", str(path))
    assert refused.exit_code == 1
    assert "the line is configured already" in refused.output
    assert "give --replace" in refused.output
    assert _everything(redis_client) == before


def test_replace_replaces_the_configuration_but_keeps_newer_opt_outs(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    accounts = Accounts(redis_client)
    _, later = accounts.create_token("carol", "viewer")
    accounts.remove_password("bob")
    optouts = OptOuts(redis_client, SECRET_KEY)
    optouts.opt_out(CALLER, "stop keyword")  # a STOP since the backup
    optouts.opt_in(OPTED_OUT)  # and a START: the restore errs towards silence

    result = run("restore", "--replace", str(path))

    assert result.exit_code == 0, result.output
    assert "opt-outs: 1 added, 0 there already (a restore never removes one)" in result.output
    assert accounts.verify_token(later) is None
    assert accounts.verify_token(line.token) is not None
    assert accounts.verify_password("bob", PASSWORD) is not None
    assert optouts.is_opted_out(CALLER)
    assert optouts.is_opted_out(OPTED_OUT)
    assert AuditLog(redis_client).recent(1)[0].after["replace"] is True


def test_check_reads_the_file_and_writes_nothing(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    redis_client.flushall()

    result = run("restore", "--check", str(path))

    assert result.exit_code == 0, result.output
    assert "a good backup of" in result.output
    assert "a roster, 1 token, 1 password, 1 block, 1 opt-out" in result.output
    assert _everything(redis_client) == {}


def test_blocks_that_ended_since_the_backup_are_left_out(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    redis_client.flushall()
    later = (datetime.now(UTC) + timedelta(days=31)).timestamp()

    restored = restore(redis_client, backup, settings, replace=False, clock=lambda: later)

    assert restored.blocks_ended == 1
    assert restored.counts["blocks"] == 0
    assert redis_client.keys("blocklist:*") == []
    assert Accounts(redis_client).verify_token(line.token) is not None


def test_a_key_of_the_wrong_kind_stops_the_restore_before_any_write(
    line: Line, redis_client: redis.Redis, settings: Settings, tmp_path: Path, run: Run
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    redis_client.flushall()
    redis_client.set("operator:tokens", "not a set")
    before = _everything(redis_client)

    result = run("restore", str(path))

    assert result.exit_code == 1
    assert "operator:tokens holds something else" in result.output
    assert _everything(redis_client) == before
    assert backup.counts()["tokens"] == 1


def test_settings_that_differ_are_named_not_changed(
    line: Line, redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    path = tmp_path / "line.json"
    env = _environment(redis_server.url, tmp_path)
    assert _runner(env)("backup", str(path)).exit_code == 0
    redis_client.flushall()

    result = _runner(env | {"HELPLINE_RETENTION_DAYS": "14"})("restore", str(path))

    assert result.exit_code == 0, result.output
    assert "HELPLINE_RETENTION_DAYS: 30 then, 14 now" in result.output
    # Listed, never applied: the restore wrote no setting anywhere.
    assert not (tmp_path / ".env").exists()
    assert not [k for k in redis_client.scan_iter("*setting*")]


# -- hostile values: refused whole, before anything is written -------------------------


def _with(path: Path, section: str, name: str, value: object) -> None:
    """PATH's backup with NAME in its one SECTION record (or the roster) set
    to VALUE, and the checksum made to match: a file edited by hand."""
    document = json.loads(path.read_text())
    if section == "roster":
        document["data"]["roster"][name] = value
    else:
        (record,) = document["data"][section].values()
        record[name] = value
    document["checksum"] = checksum(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("section", "name", "value", "message"),
    [
        # float() takes all of these; Redis, or the line reading them back, does not.
        ("blocks", "until", "1999999999 ", "until '1999999999 ' is not a Unix time"),
        ("blocks", "until", " 1999999999", "is not a Unix time"),
        ("blocks", "until", "1_999999999", "until '1_999999999' is not a Unix time"),
        ("blocks", "until", "inf", "until 'inf' is not a Unix time"),
        ("blocks", "until", "nan", "until 'nan' is not a Unix time"),
        ("blocks", "until", "-5", "until '-5' is not a Unix time"),
        ("blocks", "until", "99999999999", "until '99999999999' is not a Unix time"),
        ("blocks", "until", "2e9", "until '2e9' is not a Unix time"),
        ("blocks", "until", 1999999999, "not a table of texts"),
        ("blocks", "created", "0x10", "created '0x10' is not a Unix time"),
        ("blocks", "crisis_texts", "١٢", "crisis_texts is not a count"),
        ("tokens", "last_used", "1e9", "last_used '1e9' is not a Unix time"),
        ("passwords", "set_at", "Infinity", "set_at 'Infinity' is not a Unix time"),
        ("roster", "version", True, "version True is not a whole number"),
        ("roster", "version", "3", "version '3' is not a whole number"),
        ("roster", "version", -1, "version -1 is not a whole number"),
        ("roster", "version", 2.5, "version 2.5 is not a whole number"),
        ("roster", "version", 10**20, "is not a whole number"),
    ],
)
def test_a_hostile_value_is_refused_and_nothing_changes(
    run: Run,
    line: Line,
    redis_client: redis.Redis,
    tmp_path: Path,
    section: str,
    name: str,
    value: object,
    message: str,
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    _with(path, section, name, value)
    before = _everything(redis_client)  # the audit log too: a refusal changes nothing

    result = run("restore", "--replace", str(path))

    assert result.exit_code == 1, result.output
    assert "refused, nothing was restored" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _everything(redis_client) == before


def _apply(client: redis.Redis, payload: dict[str, object]) -> list[object]:
    script = client.register_script(restoring.APPLY_SCRIPT)
    keys = [
        ROSTER_KEY,
        "operator:tokens",
        "blocklist:index",
        *(_text(k) for pattern in CONFIG_PATTERNS[1:] for k in client.keys(pattern)),
    ]
    args = ["replace", json.dumps(payload), str(LATEST), *restoring.KEY_PREFIXES]
    reply = script(keys=keys, args=args)
    return [_text(item) if isinstance(item, bytes) else item for item in reply]


@pytest.mark.parametrize(
    ("change", "what"),
    [
        ("score with a space", "block"),
        ("expiry as text", "block"),
        ("version true", "roster version"),
        ("version as text", "roster version"),
        ("a number among the fields", "token"),
        ("a token id with a colon", "token"),
        ("not JSON", "not JSON"),
    ],
)
def test_the_script_checks_every_value_before_its_first_write(
    line: Line,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    run: Run,
    change: str,
    what: str,
) -> None:
    """Python refuses these first; the script refuses them again, whole,
    whatever called it, rather than stopping half way through its writes."""
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    payload = json.loads(restoring.script_payload(backup, backup.blocks, 0.0))
    if change == "score with a space":
        payload["blocks"][0][3] = "1999999999 "
    elif change == "expiry as text":
        payload["blocks"][0][2] = "1999999999"
    elif change == "version true":
        payload["roster_version"] = True
    elif change == "version as text":
        payload["roster_version"] = "3"
    elif change == "a number among the fields":
        payload["tokens"][0][1][1] = 5
    elif change == "a token id with a colon":
        payload["tokens"][0][0] = "ab:cd"
    before = _everything(redis_client)

    if change == "not JSON":
        script = redis_client.register_script(restoring.APPLY_SCRIPT)
        reply = script(keys=[ROSTER_KEY, "a", "b"], args=["replace", "{", "1"])
        reply = [_text(item) for item in reply]
    else:
        reply = _apply(redis_client, payload)

    assert reply == ["bad payload", what]
    assert _everything(redis_client) == before


def test_an_error_from_redis_is_a_refusal_not_a_traceback(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    monkeypatch.setattr(restoring, "APPLY_SCRIPT", "return redis.error_reply('ERR out of luck')")
    before = _everything(redis_client)

    result = run("restore", "--replace", str(path))

    assert result.exit_code == 1
    assert "refused, nothing was restored" in result.output
    assert "Redis refused the restore: out of luck" in result.output
    assert "Traceback" not in result.output
    assert _everything(redis_client) == before


def test_a_connection_lost_during_the_restore_says_the_outcome_is_unknown(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0

    def lost(*args: object, **kwargs: object) -> object:
        raise redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(redis.commands.core.Script, "__call__", lost)
    result = run("restore", "--replace", str(path))

    assert result.exit_code == 1
    assert "written whole or not at all, but which is not known" in result.output
    assert "nothing was restored" not in result.output
    assert "Traceback" not in result.output


# -- the keys are found a few at a time, never by a loop inside a script ------------------


def test_find_keys_finds_every_match_and_nothing_else(redis_client: redis.Redis) -> None:
    redis_client.mset({f"call:{i}": "x" for i in range(2_500)})
    redis_client.mset({f"operator:token:{i:012x}": "x" for i in range(3)})
    redis_client.set("operator:tokens", "x")

    assert find_keys(redis_client, "operator:token:*") == [
        f"operator:token:{i:012x}" for i in range(3)
    ]
    assert find_keys(redis_client, "optout:n_*") == []


def test_backup_and_restore_scan_call_by_call_from_python_never_inside_a_script(
    run: Run,
    line: Line,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With many unrelated keys, every SCAN Redis runs is one this process
    sent, each looking at about a thousand keys: Redis serves the line
    between them. (A SCAN loop inside a script held it for the whole
    keyspace: seconds, with a million keys.)"""
    for start in range(0, 10_000, 2_500):
        redis_client.mset({f"callstate:{i}": "x" for i in range(start, start + 2_500)})
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    sent = 0
    scan = redis_client.scan

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        return scan(*args, **kwargs)

    monkeypatch.setattr(redis_client, "scan", counted)
    redis_client.config_resetstat()

    document = collect(redis_client, settings)
    restore(redis_client, backup, settings, replace=True)

    stats = redis_client.info("commandstats")
    assert document["data"]["tokens"].keys() == backup.tokens.keys()
    assert sent >= 4 * 10  # four families, ten thousand keys: ten calls or more each
    assert stats["cmdstat_scan"]["calls"] == sent  # none from inside a script
    assert "cmdstat_eval" not in stats or stats["cmdstat_eval"]["calls"] <= 1
    assert stats["cmdstat_evalsha"]["calls"] == 1  # the restore's one script


@pytest.mark.parametrize("replace", [True, False])
def test_a_token_made_while_a_restore_is_prepared_is_never_lost(
    run: Run,
    line: Line,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    replace: bool,
) -> None:
    """Made after the keys were found, it is no key the script was told to
    delete: a replace that went on would unlist it (a live token nobody
    sees to revoke), and a restore onto an empty line would find it no longer
    empty. The restore is refused instead, with nothing changed."""
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    if not replace:
        redis_client.flushall()
    find = find_keys

    def then_a_token(client: redis.Redis, pattern: str) -> list[str]:
        found = find(client, pattern)
        if pattern == "blocklist:n_*":  # the last family the restore looks for
            Accounts(client).create_token("carol", "viewer")
            before.update(_everything(client))
        return found

    before: dict[str, object] = {}
    monkeypatch.setattr(restoring, "find_keys", then_a_token)

    refusal = "was made while the restore was being prepared" if replace else "configured already"
    with pytest.raises(BackupError, match=refusal):
        restore(redis_client, backup, settings, replace=replace)
    assert _everything(redis_client) == before
    assert "carol" in [t.name for t in Accounts(redis_client).list_tokens()]


def test_a_password_made_meanwhile_for_another_name_is_left_in_place(
    run: Run,
    line: Line,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As if it had been set just after the restore; one for a name the
    backup holds would be overwritten unseen, and is refused."""
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    backup = parse(path.read_text(), SECRET_KEY)
    find = find_keys
    name = "carol"

    def then_a_password(client: redis.Redis, pattern: str) -> list[str]:
        found = find(client, pattern)
        if pattern == "blocklist:n_*":
            Accounts(client).set_password(name, PASSWORD, "viewer")
        return found

    monkeypatch.setattr(restoring, "find_keys", then_a_password)
    restore(redis_client, backup, settings, replace=True)
    assert Accounts(redis_client).verify_password("carol", PASSWORD) is not None
    assert Accounts(redis_client).verify_token(line.token) is not None

    name = "bob"
    Accounts(redis_client).remove_password("bob")  # and set again while the restore prepares
    with pytest.raises(BackupError, match="operator:password:bob was made while"):
        restore(redis_client, backup, settings, replace=True)


def test_a_restore_signs_everyone_out_of_the_pages(
    run: Run, line: Line, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """A session lasts while its password's generation is current; a backup
    from before a password change brings the old generation back, and with it
    the sessions the change had ended. So a restore ends them all."""
    accounts = Accounts(redis_client)
    sessions = Sessions(redis_client, accounts)
    path = tmp_path / "line.json"
    assert run("backup", str(path)).exit_code == 0
    before_change = sessions.open(accounts.verify_password("bob", PASSWORD) or _no_login())
    accounts.set_password("bob", "another long passphrase", "admin")  # ends that session
    assert sessions.find(before_change) is None
    after_change = sessions.open(
        accounts.verify_password("bob", "another long passphrase") or _no_login()
    )

    result = run("restore", "--replace", str(path))

    assert result.exit_code == 0, result.output
    assert "admin page session(s) ended: sign in again" in result.output
    assert sessions.find(before_change) is None
    assert sessions.find(after_change) is None
    assert not list(redis_client.scan_iter(match="operator:session:*"))


def _no_login() -> Operator:
    raise AssertionError("the test's password did not verify")
