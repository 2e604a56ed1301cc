"""The backup document itself: its format and version, what a validated one
holds, the fingerprint of the key it was taken under, the settings it
records, its checksum, and how it is written out and summed up in words."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.platform.config import Settings
from ivr.platform.privacy import mask

FORMAT = "helpline-backup"
VERSION = 1
SECTIONS = ("tokens", "passwords", "blocks", "optouts")


class BackupError(Exception):
    """A backup that cannot be restored, or a restore that was refused;
    `problems` says every reason, for people."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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
        # The days the figures and reports are counted in: a restore under
        # another zone files new counts under other days.
        "HELPLINE_TIMEZONE": settings.timezone,
    }


def checksum(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document without its checksum, in a canonical form (so
    the file's layout does not matter)."""
    body = {key: value for key, value in document.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


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
