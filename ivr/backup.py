"""A backup of what operators configured, as one versioned JSON document:
collected from Redis in one consistent read, validated whole before anything
is written back, and written back in one Lua script, so a restore that is
refused or fails changes nothing.

What it holds (see "Backup and restore" in the operations guide for why):

    roster      helpline:roster: the document, its version, when and from what
    tokens      operator:token:<id>: name, role, SHA-256 of the token, times
    passwords   operator:password:<name>: scrypt hash, role, set_at, generation
    blocks      blocklist:<n_…>: mask, reason, who, since, until (keyed hash)
    optouts     optout:<n_…>: when and why (keyed hash)
    audit       operator:audit: a copy of the log, kept for the record; a
                restore never writes it back (the log is append-only)
    settings    the environment settings in force, without secrets or clear
                numbers: compared on restore, never applied

Blocks and opt-outs are keyed by `HELPLINE_SECRET_KEY` (`ivr.privacy.
number_ref`), so they mean something only under that key: the document
carries a fingerprint of the key (an HMAC of a fixed label, never the key)
and a restore under another key is refused.

Restore replaces the roster, tokens, passwords and blocks (only when asked, if
any are configured), and adds the opt-outs to those present: an opt-out made
since the backup is a person's STOP, and a restore must never undo one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from ivr.config import Settings
from ivr.operators.accounts import ROLES
from ivr.operators.audit import STREAM as AUDIT_STREAM
from ivr.privacy import mask
from ivr.roster.parse import RosterError, parse_roster
from ivr.roster.store import ROSTER_KEY

FORMAT = "helpline-backup"
VERSION = 1
SECTIONS = ("tokens", "passwords", "blocks", "optouts")
_AUDIT_BATCH = 5_000

_TOKEN_ID = re.compile(r"[0-9a-f]{12}")
_NAME = re.compile(r"[a-z0-9._@-]{1,64}")
_REF = re.compile(r"n_[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MASK = re.compile(r"…\d{0,4}")
_OPTOUT = re.compile(r"\d+( .*)?", re.DOTALL)

# One consistent read of every configuration key (no write can fall between
# two of them). SCAN inside a script is allowed since Redis 5.
_COLLECT = """
local function records(pattern, read)
  local found, cursor = {}, '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do found[#found + 1] = {key, redis.call(read, key)} end
  until cursor == '0'
  return found
end
return {
  redis.call('HGETALL', KEYS[1]),
  records('operator:token:*', 'HGETALL'),
  records('operator:password:*', 'HGETALL'),
  records('blocklist:n_*', 'HGETALL'),
  records('optout:n_*', 'GET'),
}
"""

# ARGV[1]: "replace" or "empty"; ARGV[2]: the records as JSON (see `_payload`).
# Every check comes before the first write: a script that stops half way
# keeps what it wrote, so it must not be able to stop once writing.
_APPLY = """
local replace, data = ARGV[1] == 'replace', cjson.decode(ARGV[2])
local function keys_like(pattern)
  local found, cursor = {}, '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do found[#found + 1] = key end
  until cursor == '0'
  return found
end
local configured = keys_like('operator:token:*')
for _, pattern in ipairs({'operator:password:*', 'blocklist:n_*'}) do
  for _, key in ipairs(keys_like(pattern)) do configured[#configured + 1] = key end
end
if redis.call('EXISTS', KEYS[1]) == 1 then configured[#configured + 1] = KEYS[1] end
if not replace and #configured > 0 then return {'not empty', #configured} end
for _, key in ipairs({'operator:tokens', 'blocklist:index'}) do
  local kind = redis.call('TYPE', key)['ok']
  if not replace and kind ~= 'none' and kind ~= (key == 'blocklist:index' and 'zset' or 'set') then
    return {'wrong type', key}
  end
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0') or 0
if replace then
  configured[#configured + 1] = 'operator:tokens'
  configured[#configured + 1] = 'blocklist:index'
  for i = 1, #configured, 500 do
    redis.call('DEL', unpack(configured, i, math.min(i + 499, #configured)))
  end
end
if #data.roster > 0 then
  version = math.max(version, tonumber(data.roster_version)) + 1
  redis.call('HSET', KEYS[1], 'version', version, unpack(data.roster))
end
for _, token in ipairs(data.tokens) do
  redis.call('HSET', 'operator:token:' .. token[1], unpack(token[2]))
  redis.call('SADD', 'operator:tokens', token[1])
end
for _, password in ipairs(data.passwords) do
  redis.call('HSET', 'operator:password:' .. password[1], unpack(password[2]))
end
for _, block in ipairs(data.blocks) do
  redis.call('HSET', 'blocklist:' .. block[1], unpack(block[2]))
  redis.call('EXPIREAT', 'blocklist:' .. block[1], block[3])
  redis.call('ZADD', 'blocklist:index', block[4], block[1])
end
local added = 0
for _, optout in ipairs(data.optouts) do
  if redis.call('SET', 'optout:' .. optout[1], optout[2], 'NX') then added = added + 1 end
end
return {'ok', version, added}
"""


class BackupError(Exception):
    """A backup that cannot be restored, or a restore that was refused;
    `problems` says every reason, for people."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotEmpty(BackupError):
    """The line is configured already and `replace` was not asked for."""


@dataclass(frozen=True)
class Backup:
    """A validated backup document."""

    created: str
    roster: dict[str, Any] | None
    tokens: dict[str, dict[str, str]]
    passwords: dict[str, dict[str, str]]
    blocks: dict[str, dict[str, str]]
    optouts: dict[str, str]
    settings: dict[str, str]
    audit_entries: int

    def counts(self) -> dict[str, int]:
        return {"roster": int(self.roster is not None)} | {
            section: len(getattr(self, section)) for section in SECTIONS
        }


@dataclass(frozen=True)
class Restored:
    roster_version: int  # the stored roster's new version; 0: the backup had none
    counts: dict[str, int]
    optouts_added: int  # opt-outs that were not already there
    blocks_ended: int  # blocks in the backup that have ended since: not restored
    settings_changed: list[str] = field(default_factory=list)


def key_fingerprint(secret_key: str) -> str:
    """Which HELPLINE_SECRET_KEY a backup was taken under; the key cannot be
    recovered from it."""
    return hmac.new(secret_key.encode(), b"helpline backup key", hashlib.sha256).hexdigest()[:16]


def settings_record(settings: Settings) -> dict[str, str]:
    """The environment settings in force, without secrets (no token, key or
    REDIS_URL, which may hold a password) and with numbers masked."""
    return {
        "HELPLINE_ENV": settings.env,
        "HELPLINE_PUBLIC_URL": settings.public_url,
        "HELPLINE_TWILIO_API_URL": settings.twilio_api_url or "",
        "HELPLINE_NUMBER": mask(settings.line_number),
        "HELPLINE_BACKUP_NUMBER": mask(settings.backup_number),
        "HELPLINE_FLOWS_DIR": str(settings.flows_dir),
        "HELPLINE_RETENTION_DAYS": str(settings.retention_days),
        "HELPLINE_RING_STRATEGY": settings.ring_strategy,
        "HELPLINE_RING_SECONDS": str(settings.ring_seconds),
        "HELPLINE_RING_ROUNDS": str(settings.ring_rounds),
        "HELPLINE_MAX_HOLD_SECONDS": str(settings.max_hold_seconds),
        "HELPLINE_HOLD_MUSIC_URL": settings.hold_music_url or "",
        "HELPLINE_SMS_SEGMENTS_PER_SECOND": str(settings.sms_segments_per_second),
        "HELPLINE_SMS_PER_RECIPIENT_PER_HOUR": str(settings.sms_per_recipient_per_hour),
        "HELPLINE_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
        "HELPLINE_TRUSTED_PROXIES": str(settings.trusted_proxies),
    }


def checksum(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document without its checksum, in a canonical form (so
    the file's layout does not matter)."""
    body = {key: value for key, value in document.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# -- taking a backup ---------------------------------------------------------------


def collect(
    client: redis.Redis, settings: Settings, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The backup document of the line's configuration as it is now."""
    roster_raw, tokens, passwords, blocks, optouts = client.register_script(_COLLECT)(
        keys=[ROSTER_KEY]
    )
    roster = _fields(roster_raw)
    data: dict[str, Any] = {
        "roster": None
        if "document" not in roster
        else {
            "version": int(roster.get("version", "0")),
            "saved_at": roster.get("saved_at", ""),
            "source": roster.get("source", ""),
            "document": json.loads(roster["document"]),
        },
        "tokens": {_tail(key): _fields(raw) for key, raw in tokens},
        "passwords": {_tail(key): _fields(raw) for key, raw in passwords},
        "blocks": {_tail(key): _fields(raw) for key, raw in blocks if raw},
        "optouts": {_tail(key): _text(raw) for key, raw in optouts if raw is not None},
    }
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds"),
        "key_fingerprint": key_fingerprint(settings.secret_key),
        "settings": settings_record(settings),
        "data": data,
        "audit": list(_audit_entries(client)),
    }
    document["checksum"] = checksum(document)
    return document


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def summary(counts: Mapping[str, int]) -> str:
    """What COUNTS hold, in words: "a roster, 2 tokens, 1 password, 0 blocks, 3 opt-outs"."""
    words = {"tokens": "token", "passwords": "password", "blocks": "block", "optouts": "opt-out"}
    parts = ["a roster" if counts.get("roster") else "no roster"]
    for section, word in words.items():
        count = counts.get(section, 0)
        parts.append(f"{count} {word}{'' if count == 1 else 's'}")
    return ", ".join(parts)


def _audit_entries(client: redis.Redis) -> Iterator[dict[str, str]]:
    start = "-"
    while True:
        rows = client.xrange(AUDIT_STREAM, min=start, count=_AUDIT_BATCH) or []
        for entry_id, fields in rows:
            yield {"id": _text(entry_id)} | _fields(fields)
        if len(rows) < _AUDIT_BATCH:
            return
        start = "(" + _text(rows[-1][0])


# -- reading one back ------------------------------------------------------------------


def parse(text: str, secret_key: str) -> Backup:
    """The backup in TEXT, checked whole; BackupError says every problem."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BackupError(
            [f"not a whole backup: the JSON breaks at line {error.lineno} ({error.msg})"]
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(["not a helpline backup (no `format: helpline-backup`)"])
    if document.get("version") != VERSION or isinstance(document.get("version"), bool):
        raise BackupError(
            [
                f"backup format version {document.get('version')!r} is not one this helpline "
                f"reads (version {VERSION}); restore it with the helpline that made it"
            ]
        )
    stated = str(document.get("checksum", "")).encode()
    if not hmac.compare_digest(stated, checksum(document).encode()):
        raise BackupError(["the checksum does not match: the file was changed or damaged"])
    theirs = str(document.get("key_fingerprint", "")).encode()
    if not hmac.compare_digest(theirs, key_fingerprint(secret_key).encode()):
        raise BackupError(
            [
                "this backup was taken under another HELPLINE_SECRET_KEY: its blocked numbers "
                "and opt-outs are keyed by that key and would match no number under this one. "
                "Restore it with the key that was in force when it was taken."
            ]
        )
    return _validated(document)


def _validated(document: dict[str, Any]) -> Backup:
    problems: list[str] = []
    data = document.get("data")
    if not isinstance(data, dict):
        raise BackupError(["`data` is missing"])
    roster = data.get("roster")
    if roster is not None:
        problems += _roster_problems(roster)
    checks: dict[str, tuple[re.Pattern[str], Callable[[Any], list[str]]]] = {
        "tokens": (_TOKEN_ID, _token_problems),
        "passwords": (_NAME, _password_problems),
        "blocks": (_REF, _block_problems),
        "optouts": (_REF, _optout_problems),
    }
    for section, (id_pattern, check) in checks.items():
        records = data.get(section)
        if not isinstance(records, dict):
            problems.append(f"{section}: missing")
            continue
        for ident, record in records.items():
            if not id_pattern.fullmatch(ident):
                problems.append(f"{section}: {ident!r} is not a valid id")
            problems += [f"{section} {ident}: {problem}" for problem in check(record)]
    settings = document.get("settings", {})
    audit = document.get("audit", [])
    if not isinstance(settings, dict) or not all(isinstance(v, str) for v in settings.values()):
        problems.append("settings: not a table of texts")
    if not isinstance(audit, list):
        problems.append("audit: not a list")
    if problems:
        raise BackupError(problems)
    return Backup(
        created=str(document.get("created", "")),
        roster=roster,
        tokens=data["tokens"],
        passwords=data["passwords"],
        blocks=data["blocks"],
        optouts=data["optouts"],
        settings=settings,
        audit_entries=len(audit),
    )


def _roster_problems(roster: Any) -> list[str]:
    if not isinstance(roster, dict) or not isinstance(roster.get("version"), int):
        return ["roster: needs a version and a document"]
    try:
        parse_roster(roster.get("document"), "backup:roster")
    except RosterError as error:
        return [f"roster: {problem.message}" for problem in error.problems]
    if not all(isinstance(roster.get(name, ""), str) for name in ("saved_at", "source")):
        return ["roster: saved_at and source must be texts"]
    return []


def _strings(record: Any, required: tuple[str, ...]) -> list[str]:
    if not isinstance(record, dict) or not all(isinstance(v, str) for v in record.values()):
        return ["not a table of texts"]
    return [f"no {name}" for name in required if name not in record]


def _numbers(record: dict[str, str], *names: str) -> list[str]:
    problems = []
    for name in names:
        try:
            float(record.get(name, "0"))
        except ValueError:
            problems.append(f"{name} is not a number")
    return problems


def _token_problems(record: Any) -> list[str]:
    problems = _strings(record, ("name", "role", "sha256", "created"))
    if problems:
        return problems
    if record["role"] not in ROLES:
        problems.append(f"unknown role {record['role']!r}")
    if not _HEX64.fullmatch(record["sha256"]):
        problems.append("sha256 is not a SHA-256 in hex")
    return problems + _numbers(record, "created", "last_used")


def _password_problems(record: Any) -> list[str]:
    problems = _strings(record, ("hash", "role"))
    if problems:
        return problems
    if record["role"] not in ROLES:
        problems.append(f"unknown role {record['role']!r}")
    if record["hash"].count("$") != 2:
        problems.append("hash is not a password hash")
    return problems + _numbers(record, "set_at")


def _block_problems(record: Any) -> list[str]:
    problems = _strings(record, ("number", "reason", "by", "until"))
    if problems:
        return problems
    if not _MASK.fullmatch(record["number"]):
        problems.append("number is not masked (…1234)")  # never a number in clear
    if not record.get("crisis_texts", "0").isdecimal():
        problems.append("crisis_texts is not a count")
    return problems + _numbers(record, "until", "created", "last_crisis")


def _optout_problems(value: Any) -> list[str]:
    if not isinstance(value, str) or not _OPTOUT.fullmatch(value):
        return ["not `<unix time> <reason>`"]
    return []


# -- restoring it --------------------------------------------------------------------------


def configured(client: redis.Redis) -> dict[str, int]:
    """What is configured now, counted as `Backup.counts` counts."""
    patterns = {
        "tokens": "operator:token:*",
        "passwords": "operator:password:*",
        "blocks": "blocklist:n_*",
        "optouts": "optout:n_*",
    }
    counts = {"roster": int(client.exists(ROSTER_KEY))}
    for section, pattern in patterns.items():
        counts[section] = sum(1 for _ in client.scan_iter(match=pattern, count=1000))
    return counts


def restore(
    client: redis.Redis,
    backup: Backup,
    settings: Settings,
    *,
    replace: bool,
    clock: Callable[[], float] = time.time,
) -> Restored:
    """Write BACKUP to Redis in one script: everything or nothing.

    Without REPLACE, refuses (NotEmpty) while a roster, token, password or
    block is configured; with it, those are replaced by the backup's. Opt-outs
    are only ever added. Blocks that have ended since the backup are left out."""
    now = clock()
    live = {ref: record for ref, record in backup.blocks.items() if float(record["until"]) > now}
    payload = _payload(backup, live, now)
    reply = client.register_script(_APPLY)(
        keys=[ROSTER_KEY], args=["replace" if replace else "empty", payload]
    )
    outcome = _text(reply[0])
    if outcome == "not empty":
        raise NotEmpty([f"the line is configured already ({summary(configured(client))})"])
    if outcome != "ok":
        raise BackupError([f"{_text(reply[1])} holds something else: nothing was restored"])
    counts = backup.counts() | {"blocks": len(live)}
    ours = settings_record(settings)
    changed = [
        f"{name}: {value or '(unset)'} then, {ours[name] or '(unset)'} now"
        for name, value in sorted(backup.settings.items())
        if name in ours and ours[name] != value
    ]
    return Restored(
        roster_version=int(reply[1]) if backup.roster is not None else 0,
        counts=counts,
        optouts_added=int(reply[2]),
        blocks_ended=len(backup.blocks) - len(live),
        settings_changed=changed,
    )


def _payload(backup: Backup, blocks: Mapping[str, dict[str, str]], now: float) -> str:
    roster: list[str] = []
    if backup.roster is not None:
        document = json.dumps(backup.roster["document"], ensure_ascii=False, separators=(",", ":"))
        saved_at = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        roster = _flat(
            {"document": document, "saved_at": saved_at, "source": f"backup of {backup.created}"}
        )
    return json.dumps(
        {
            "roster": roster,
            "roster_version": backup.roster["version"] if backup.roster else 0,
            "tokens": [[i, _flat(r)] for i, r in sorted(backup.tokens.items())],
            "passwords": [[n, _flat(r)] for n, r in sorted(backup.passwords.items())],
            "blocks": [
                [ref, _flat(r), str(int(float(r["until"])) + 1), r["until"]]
                for ref, r in sorted(blocks.items())
            ],
            "optouts": [[ref, value] for ref, value in sorted(backup.optouts.items())],
        },
        ensure_ascii=False,
    )


def _flat(record: Mapping[str, str]) -> list[str]:
    return [item for pair in sorted(record.items()) for item in pair]


def _fields(raw: Any) -> dict[str, str]:
    """A hash from HGETALL inside a script (a flat list) or from redis-py (a dict)."""
    if isinstance(raw, dict):
        return {_text(k): _text(v) for k, v in raw.items()}
    items = [_text(item) for item in raw or []]
    return dict(zip(items[::2], items[1::2], strict=True))


def _tail(key: bytes | str) -> str:
    return _text(key).rsplit(":", 1)[1]


def _text(value: bytes | str | Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
