"""Reading a backup back: the document checked whole, every problem named,
before anything is written. A restore checks again what it writes
(`roster_problems`, `time_problems`), for a `Backup` made some other way."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from typing import Any

from ivr.operators.accounts import ROLES
from ivr.operators.backup.document import (
    FORMAT,
    VERSION,
    Backup,
    BackupError,
    checksum,
    key_fingerprint,
)
from ivr.roster.parse import RosterError, parse_roster

_TOKEN_ID = re.compile(r"[0-9a-f]{12}")
_NAME = re.compile(r"[a-z0-9._@-]{1,64}")
_REF = re.compile(r"n_[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MASK = re.compile(r"…[0-9]{0,4}")
_OPTOUT = re.compile(r"[0-9]{1,12}( .*)?", re.DOTALL)

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
        problems += roster_problems(roster)
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


def roster_problems(roster: Any) -> list[str]:
    """Problems with a backup's roster: its version, its document as a roster
    file would be read, its texts."""
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


def time_problems(record: dict[str, str], *names: str) -> list[str]:
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
    return problems + time_problems(record, "created", "last_used")


def _password_problems(record: Any) -> list[str]:
    problems = _strings(record, ("hash", "role"))
    if problems:
        return problems
    if record["role"] not in ROLES:
        problems.append(f"unknown role {record['role']!r}")
    if record["hash"].count("$") != 2:
        problems.append("hash is not a password hash")
    return problems + time_problems(record, "set_at")


def _block_problems(record: Any) -> list[str]:
    problems = _strings(record, ("number", "reason", "by", "until"))
    if problems:
        return problems
    if not _MASK.fullmatch(record["number"]):
        problems.append("number is not masked (…1234)")  # never a number in clear
    if not _COUNT.fullmatch(record.get("crisis_texts", "0")):
        problems.append("crisis_texts is not a count")
    return problems + time_problems(record, "until", "created", "last_crisis")


def _optout_problems(value: Any) -> list[str]:
    if not isinstance(value, str) or not _OPTOUT.fullmatch(value):
        return ["not `<unix time> <reason>`"]
    return []
