"""A backup of what operators configured, as one versioned JSON document:
its keys found a few at a time (Redis serves the line meanwhile) and their
values read in one transaction; validated whole before anything is written
back, and written back in one Lua script that checks everything before its
first write, so a restore that is refused or fails changes nothing.

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

Blocks and opt-outs are keyed by `HELPLINE_SECRET_KEY` (`ivr.platform.privacy.
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

from ivr.operators.accounts import PASSWORD_KEY_PREFIX, ROLES, TOKEN_KEY_PREFIX, TOKENS_INDEX
from ivr.operators.audit import STREAM as AUDIT_STREAM
from ivr.operators.blocklist import INDEX as BLOCK_INDEX  # refs by when their block ends
from ivr.operators.blocklist import KEY_PREFIX as BLOCK_PREFIX
from ivr.platform.config import Settings
from ivr.platform.privacy import mask
from ivr.roster.parse import RosterError, parse_roster
from ivr.roster.store import ROSTER_KEY
from ivr.sms.optout import KEY_PREFIX as OPTOUT_PREFIX
from ivr.web.admin.sessions import KEY_PREFIX as SESSION_PREFIX

FORMAT = "helpline-backup"
VERSION = 1
SECTIONS = ("tokens", "passwords", "blocks", "optouts")
_AUDIT_BATCH = 5_000

_TOKEN_ID = re.compile(r"[0-9a-f]{12}")
_NAME = re.compile(r"[a-z0-9._@-]{1,64}")
_REF = re.compile(r"n_[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MASK = re.compile(r"…[0-9]{0,4}")
_OPTOUT = re.compile(r"[0-9]{1,12}( .*)?", re.DOTALL)

# The configuration keys are found with SCAN from Python, call by call (see
# `find_keys`), never by a SCAN loop inside a script: a script holds Redis for
# as long as it runs, and a loop over the whole keyspace (every call, text and
# job key too) would hold it for seconds on a busy line, while each webhook
# waits 0.5 s at most. Only the values, a handful of keys per operator, are then
# read or written atomically.
# The key names are their owners': a prefix changed there is followed here.
PATTERNS = {
    "tokens": TOKEN_KEY_PREFIX + "*",
    "passwords": PASSWORD_KEY_PREFIX + "*",
    "blocks": BLOCK_PREFIX + "n_*",
    "optouts": OPTOUT_PREFIX + "n_*",
}
OPERATOR_TOKENS = TOKENS_INDEX  # the ids of the tokens
_SCAN_COUNT = 1_000

# The times a backup holds are Unix times as the line writes them (`repr` of a
# float: digits, then maybe a point and digits); nothing else is accepted, not
# even what Python's float() takes ("1_999", " 12 ", "inf", "nan"), for Redis
# would refuse it half way through the restore, or the line would fail to read
# it back. LATEST is 2100-01-01: no time the line writes is later.
_TIME = re.compile(r"[0-9]{1,10}(\.[0-9]{1,20})?")
LATEST = 4_102_444_800
_MOST_VERSION = 10**12  # a roster version; a person saves a few a day
_MOST_FIELDS = 32  # fields in one record (each has at most eight)
_COUNT = re.compile(r"[0-9]{1,9}")

# KEYS[1] the roster, KEYS[2] OPERATOR_TOKENS, KEYS[3] BLOCK_INDEX, KEYS[4...] the
# token, password and block keys `find_keys` found just before (the keys a
# replace deletes); ARGV[1] "replace" or "empty", ARGV[2] the records as JSON
# (see `_payload`), ARGV[3] LATEST.
#
# Every check comes before the first write: Redis does not undo what a script
# wrote before it stopped, so it must not be able to stop once writing. The
# payload is checked here again, value by value (Python checked it already),
# so that no command below can be given a value it refuses.
#
# A key made between the SCAN and this script is one the script was not told
# about. It is refused, never deleted or overwritten unseen: an indexed token or
# block (a replace rebuilds the indexes, and would leave it unlisted, so a live
# token nobody could see to revoke) or any key the restore would write. Any
# other (say a password set meanwhile for a name the backup does not hold) is
# left in place, exactly as if it had been set just after the restore.
_APPLY_TEMPLATE = """
local replace, latest = ARGV[1] == 'replace', tonumber(ARGV[3])
local decoded, data = pcall(cjson.decode, ARGV[2])
if not decoded or type(data) ~= 'table' then return {'bad payload', 'not JSON'} end

local function whole(v, most)
  return type(v) == 'number' and v == math.floor(v) and v >= 0 and v <= most
end
local function moment(v) return type(v) == 'number' and v >= 0 and v <= latest end
local function fields(t)
  if type(t) ~= 'table' or #t == 0 or #t % 2 ~= 0 or #t > 64 then return false end
  for i = 1, #t do if type(t[i]) ~= 'string' then return false end end
  return true
end
local function id(v, pattern) return type(v) == 'string' and string.find(v, pattern) ~= nil end
local function list(t) return type(t) == 'table' end
local function problem()
  if not whole(data.roster_version, 1e12) then return 'roster version' end
  if not list(data.roster) or (#data.roster > 0 and not fields(data.roster)) then
    return 'roster'
  end
  for _, section in ipairs({'tokens', 'passwords', 'blocks', 'optouts'}) do
    if not list(data[section]) then return section end
  end
  for _, r in ipairs(data.tokens) do
    if not (list(r) and id(r[1], '^[0-9a-f]+$') and fields(r[2])) then return 'token' end
  end
  for _, r in ipairs(data.passwords) do
    if not (list(r) and id(r[1], '^[a-z0-9._@-]+$') and fields(r[2])) then return 'password' end
  end
  for _, r in ipairs(data.blocks) do
    if not (list(r) and id(r[1], '^n_[0-9a-f]+$') and fields(r[2])
            and whole(r[3], latest + 1) and moment(r[4])) then
      return 'block'
    end
  end
  for _, r in ipairs(data.optouts) do
    if not (list(r) and id(r[1], '^n_[0-9a-f]+$') and type(r[2]) == 'string') then
      return 'opt-out'
    end
  end
end
if not latest then return {'bad payload', 'no latest time'} end
local wrong = problem()
if wrong then return {'bad payload', wrong} end

local told, configured = {}, redis.call('EXISTS', KEYS[1])
for i = 4, #KEYS do
  told[KEYS[i]] = true
  configured = configured + redis.call('EXISTS', KEYS[i])
end
if not replace and configured > 0 then return {'not empty', configured} end
local kinds = {redis.call('TYPE', KEYS[2])['ok'], redis.call('TYPE', KEYS[3])['ok']}
if not replace then
  if kinds[1] ~= 'none' and kinds[1] ~= 'set' then return {'wrong type', KEYS[2]} end
  if kinds[2] ~= 'none' and kinds[2] ~= 'zset' then return {'wrong type', KEYS[3]} end
end
local function unseen(key) return not told[key] and redis.call('EXISTS', key) == 1 end
local appeared = replace and 'changed' or 'not empty'
if kinds[1] == 'set' then
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if unseen('<<TOKEN_PREFIX>>' .. member) then return {appeared, '<<TOKEN_PREFIX>>' .. member} end
  end
end
if kinds[2] == 'zset' then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if unseen('<<BLOCK_PREFIX>>' .. member) then return {appeared, '<<BLOCK_PREFIX>>' .. member} end
  end
end
for _, t in ipairs({{data.tokens, '<<TOKEN_PREFIX>>'}, {data.passwords, '<<PASSWORD_PREFIX>>'},
                    {data.blocks, '<<BLOCK_PREFIX>>'}}) do
  for _, r in ipairs(t[1]) do
    if unseen(t[2] .. r[1]) then return {appeared, t[2] .. r[1]} end
  end
end
local version = 0
if redis.call('TYPE', KEYS[1])['ok'] == 'hash' then
  version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
  if not whole(version, 1e12) then version = 0 end
end
if #data.roster > 0 then version = math.max(version, data.roster_version) + 1 end

-- Writing: nothing below can fail.
if replace then
  local doomed = {KEYS[1], KEYS[2], KEYS[3]}
  for i = 4, #KEYS do doomed[#doomed + 1] = KEYS[i] end
  for i = 1, #doomed, 500 do
    redis.call('DEL', unpack(doomed, i, math.min(i + 499, #doomed)))
  end
end
if #data.roster > 0 then
  redis.call('HSET', KEYS[1], 'version', string.format('%d', version), unpack(data.roster))
end
for _, token in ipairs(data.tokens) do
  redis.call('HSET', '<<TOKEN_PREFIX>>' .. token[1], unpack(token[2]))
  redis.call('SADD', KEYS[2], token[1])
end
for _, password in ipairs(data.passwords) do
  redis.call('HSET', '<<PASSWORD_PREFIX>>' .. password[1], unpack(password[2]))
end
for _, block in ipairs(data.blocks) do
  redis.call('HSET', '<<BLOCK_PREFIX>>' .. block[1], unpack(block[2]))
  redis.call('EXPIREAT', '<<BLOCK_PREFIX>>' .. block[1], string.format('%d', block[3]))
  redis.call('ZADD', KEYS[3], block[4], block[1])
end
local added = 0
for _, optout in ipairs(data.optouts) do
  if redis.call('SET', '<<OPTOUT_PREFIX>>' .. optout[1], optout[2], 'NX') then added = added + 1 end
end
return {'ok', version, added}
"""
# The owners' key prefixes, put into the script once, at import.
_APPLY = (
    _APPLY_TEMPLATE.replace("<<TOKEN_PREFIX>>", TOKEN_KEY_PREFIX)
    .replace("<<PASSWORD_PREFIX>>", PASSWORD_KEY_PREFIX)
    .replace("<<BLOCK_PREFIX>>", BLOCK_PREFIX)
    .replace("<<OPTOUT_PREFIX>>", OPTOUT_PREFIX)
)


class BackupError(Exception):
    """A backup that cannot be restored, or a restore that was refused;
    `problems` says every reason, for people."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotEmpty(BackupError):
    """The line is configured already and `replace` was not asked for."""


class RestoreUncertain(BackupError):
    """Redis stopped answering while the restore was being written: it was
    applied whole or not at all, but which is not known."""


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
    sessions_ended: int = 0  # admin pages' sessions: everyone signs in again


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
    """The backup document of the line's configuration as it is now.

    The keys are found first (`find_keys`), then read in one MULTI: the values
    are consistent with one another, and a key removed in between is left
    out. One made while the keys are being found may be missed, as if it had
    been made just after the backup."""
    found = {section: find_keys(client, pattern) for section, pattern in PATTERNS.items()}
    with client.pipeline(transaction=True) as pipe:
        pipe.hgetall(ROSTER_KEY)
        for section in ("tokens", "passwords", "blocks"):
            for key in found[section]:
                pipe.hgetall(key)
        for key in found["optouts"]:
            pipe.get(key)
        replies = iter(pipe.execute())
    roster = _fields(next(replies))
    tokens, passwords, blocks, optouts = (
        [(key, next(replies)) for key in found[section]] for section in PATTERNS
    )
    data: dict[str, Any] = {
        "roster": None
        if "document" not in roster
        else {
            "version": int(roster.get("version", "0")),
            "saved_at": roster.get("saved_at", ""),
            "source": roster.get("source", ""),
            "document": json.loads(roster["document"]),
        },
        "tokens": {_tail(key): _fields(raw) for key, raw in tokens if raw},
        "passwords": {_tail(key): _fields(raw) for key, raw in passwords if raw},
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


def find_keys(client: redis.Redis, pattern: str) -> list[str]:
    """The names of the keys matching PATTERN, sorted: found by SCAN calls
    made one after another from here, each looking at about a thousand keys,
    so that Redis answers the line between them however many keys it holds
    (a SCAN loop inside a script would hold it for the whole keyspace)."""
    return sorted({_text(key) for key in client.scan_iter(match=pattern, count=_SCAN_COUNT)})


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
    if not isinstance(roster, dict) or "document" not in roster:
        return ["roster: needs a version and a document"]
    version = roster.get("version")
    if type(version) is not int or not 0 <= version <= _MOST_VERSION:  # not True, not "3"
        return [f"roster: version {version!r} is not a whole number from 0 to {_MOST_VERSION}"]
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
    if len(record) > _MOST_FIELDS:
        return [f"more than {_MOST_FIELDS} fields"]
    return [f"no {name}" for name in required if name not in record]


def _times(record: dict[str, str], *names: str) -> list[str]:
    """Problems with the Unix times NAMES in RECORD (those present)."""
    problems = []
    for name in names:
        value = record.get(name)
        if value is not None and not is_time(value):
            problems.append(
                f"{name} {value!r} is not a Unix time as the line writes them "
                f"(digits, maybe a point and digits; at most {LATEST})"
            )
    return problems


def is_time(value: str) -> bool:
    """Whether VALUE is a Unix time as the line writes one: strict decimal
    digits (maybe a point and digits), from 0 to LATEST."""
    return bool(_TIME.fullmatch(value)) and float(value) <= LATEST


def _token_problems(record: Any) -> list[str]:
    problems = _strings(record, ("name", "role", "sha256", "created"))
    if problems:
        return problems
    if record["role"] not in ROLES:
        problems.append(f"unknown role {record['role']!r}")
    if not _HEX64.fullmatch(record["sha256"]):
        problems.append("sha256 is not a SHA-256 in hex")
    return problems + _times(record, "created", "last_used")


def _password_problems(record: Any) -> list[str]:
    problems = _strings(record, ("hash", "role"))
    if problems:
        return problems
    if record["role"] not in ROLES:
        problems.append(f"unknown role {record['role']!r}")
    if record["hash"].count("$") != 2:
        problems.append("hash is not a password hash")
    return problems + _times(record, "set_at")


def _block_problems(record: Any) -> list[str]:
    problems = _strings(record, ("number", "reason", "by", "until"))
    if problems:
        return problems
    if not _MASK.fullmatch(record["number"]):
        problems.append("number is not masked (…1234)")  # never a number in clear
    if not _COUNT.fullmatch(record.get("crisis_texts", "0")):
        problems.append("crisis_texts is not a count")
    return problems + _times(record, "until", "created", "last_crisis")


def _optout_problems(value: Any) -> list[str]:
    if not isinstance(value, str) or not _OPTOUT.fullmatch(value):
        return ["not `<unix time> <reason>`"]
    return []


# -- restoring it --------------------------------------------------------------------------


def configured(client: redis.Redis) -> dict[str, int]:
    """What is configured now, counted as `Backup.counts` counts."""
    counts = {"roster": int(client.exists(ROSTER_KEY))}
    for section, pattern in PATTERNS.items():
        counts[section] = len(find_keys(client, pattern))
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
    are only ever added. Blocks that have ended since the backup are left out.

    The keys a replace deletes are found first (`find_keys`: Redis is not held
    meanwhile); the script then checks everything again before its first
    write, and refuses (BackupError) when a key it was not told about would
    be lost. A ResponseError from Redis is a BackupError too; a connection
    lost during the script raises RestoreUncertain, for then nobody knows."""
    now = clock()
    problems = [
        f"blocks {ref}: {problem}"
        for ref, record in sorted(backup.blocks.items())
        for problem in _times(record, "until")
    ]
    if backup.roster is not None:
        problems += _roster_problems(backup.roster)
    if problems:  # `parse` refuses these; a Backup made some other way is checked too
        raise BackupError(problems)
    live = {ref: record for ref, record in backup.blocks.items() if float(record["until"]) > now}
    payload = _payload(backup, live, now)
    told = [
        key
        for kind in ("tokens", "passwords", "blocks")
        for key in find_keys(client, PATTERNS[kind])
    ]
    try:
        reply = client.register_script(_APPLY)(
            keys=[ROSTER_KEY, OPERATOR_TOKENS, BLOCK_INDEX, *told],
            args=["replace" if replace else "empty", payload, str(LATEST)],
        )
    except redis.ResponseError as error:
        raise BackupError([f"Redis refused the restore: {error}"]) from None
    except redis.RedisError as error:
        raise RestoreUncertain(
            [
                f"Redis stopped answering during the restore ({error}): it was written whole "
                "or not at all, but which is not known. When Redis answers again, run the "
                "restore again with --replace."
            ]
        ) from None
    outcome, detail = _text(reply[0]), _text(reply[1])
    if outcome == "not empty":
        raise NotEmpty([f"the line is configured already ({summary(configured(client))})"])
    if outcome == "changed":
        raise BackupError(
            [f"{detail} was made while the restore was being prepared: run the restore again"]
        )
    if outcome == "bad payload":
        raise BackupError([f"the backup's {detail} has a value Redis would not take"])
    if outcome != "ok":
        raise BackupError([f"{detail} holds something else: nothing was restored"])
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
        sessions_ended=end_sessions(client),
    )


def end_sessions(client: redis.Redis) -> int:
    """Sign everyone out of the pages. A password session stays valid while its
    password's generation is current; a restore can bring back an older
    generation, and with it sessions a password change had ended."""
    ended = 0
    keys = find_keys(client, SESSION_PREFIX + "*")
    for start in range(0, len(keys), 500):
        ended += int(client.delete(*keys[start : start + 500]))
    return ended


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
            # When Redis expires the block (a whole second, after it ends) and
            # the block's score in the index: numbers, checked by `_times`.
            "blocks": [
                [ref, _flat(r), int(float(r["until"])) + 1, float(r["until"])]
                for ref, r in sorted(blocks.items())
            ],
            "optouts": [[ref, value] for ref, value in sorted(backup.optouts.items())],
        },
        ensure_ascii=False,
        allow_nan=False,
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
