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

The package, one job a module:

    document.py    the format: what a backup holds, its checksum and key
                   fingerprint, the settings it records; BackupError
    keys.py        where the configuration lives in Redis, found a few keys
                   at a time
    taking.py      taking a backup (`collect`)
    validation.py  reading one back (`parse`), checked whole
    restoring.py   writing one back (`restore`), by the script in apply.lua
"""

from ivr.operators.backup.document import (
    FORMAT,
    SECTIONS,
    VERSION,
    Backup,
    BackupError,
    checksum,
    dumps,
    key_fingerprint,
    settings_record,
    summary,
)
from ivr.operators.backup.keys import OPERATOR_TOKENS, PATTERNS, configured, find_keys
from ivr.operators.backup.restoring import (
    NotEmpty,
    Restored,
    RestoreUncertain,
    end_sessions,
    restore,
)
from ivr.operators.backup.taking import collect
from ivr.operators.backup.validation import LATEST, is_time, parse

__all__ = [
    "FORMAT",
    "LATEST",
    "OPERATOR_TOKENS",
    "PATTERNS",
    "SECTIONS",
    "VERSION",
    "Backup",
    "BackupError",
    "NotEmpty",
    "RestoreUncertain",
    "Restored",
    "checksum",
    "collect",
    "configured",
    "dumps",
    "end_sessions",
    "find_keys",
    "is_time",
    "key_fingerprint",
    "parse",
    "restore",
    "settings_record",
    "summary",
]
