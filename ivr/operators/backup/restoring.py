"""Restoring a backup: written back in one Lua script (`apply.lua`, beside
this module) that checks everything before its first write, so a restore
that is refused or fails changes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources

import redis

from ivr.callers.blocklist import INDEX as BLOCK_INDEX  # refs by when their block ends
from ivr.callers.blocklist import KEY_PREFIX as BLOCK_PREFIX
from ivr.operators.accounts import PASSWORD_KEY_PREFIX, TOKEN_KEY_PREFIX
from ivr.operators.backup.document import Backup, BackupError, settings_record, summary
from ivr.operators.backup.keys import OPERATOR_TOKENS, PATTERNS, as_text, configured, find_keys
from ivr.operators.backup.validation import LATEST, roster_problems, time_problems
from ivr.operators.sessions import KEY_PREFIX as SESSION_PREFIX
from ivr.platform.config import Settings
from ivr.roster.store import ROSTER_KEY
from ivr.sms.optout import KEY_PREFIX as OPTOUT_PREFIX

# The script that writes a restore; it says what its KEYS and ARGV are. Read
# once, at import, from the installed package.
APPLY_SCRIPT = (
    resources.files("ivr.operators.backup").joinpath("apply.lua").read_text(encoding="utf-8")
)
# The owners' key prefixes, given to the script (its ARGV[4] to ARGV[7]): a
# prefix changed there is followed here.
KEY_PREFIXES = (TOKEN_KEY_PREFIX, PASSWORD_KEY_PREFIX, BLOCK_PREFIX, OPTOUT_PREFIX)


class NotEmpty(BackupError):
    """The line is configured already and `replace` was not asked for."""


class RestoreUncertain(BackupError):
    """Redis stopped answering while the restore was being written: it was
    applied whole or not at all, but which is not known."""


@dataclass(frozen=True)
class Restored:
    roster_version: int  # the stored roster's new version; 0: the backup had none
    counts: dict[str, int]
    optouts_added: int  # opt-outs that were not already there
    blocks_ended: int  # blocks in the backup that have ended since: not restored
    settings_changed: list[str] = field(default_factory=list)
    sessions_ended: int = 0  # admin pages' sessions: everyone signs in again


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
        for problem in time_problems(record, "until")
    ]
    if backup.roster is not None:
        problems += roster_problems(backup.roster)
    if problems:  # `parse` refuses these; a Backup made some other way is checked too
        raise BackupError(problems)
    live = {ref: record for ref, record in backup.blocks.items() if float(record["until"]) > now}
    payload = script_payload(backup, live, now)
    told = [
        key
        for kind in ("tokens", "passwords", "blocks")
        for key in find_keys(client, PATTERNS[kind])
    ]
    try:
        reply = client.register_script(APPLY_SCRIPT)(
            keys=[ROSTER_KEY, OPERATOR_TOKENS, BLOCK_INDEX, *told],
            args=["replace" if replace else "empty", payload, str(LATEST), *KEY_PREFIXES],
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
    outcome, detail = as_text(reply[0]), as_text(reply[1])
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


def script_payload(backup: Backup, blocks: Mapping[str, dict[str, str]], now: float) -> str:
    """The records the script writes, as its ARGV[2]: flat field lists, the
    BLOCKS still in force (of BACKUP's), and the roster saved as of NOW."""
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
            # the block's score in the index: numbers, checked by `time_problems`.
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
