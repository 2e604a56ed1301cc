"""A `Roster` back to plain data and YAML, in the import format, so that
exporting and importing again gives an equal roster — shift and override ids
included, so they stay the same across an export and an import."""

from __future__ import annotations

from typing import Any

import yaml

from ivr.roster.localtime import format_clock, format_local
from ivr.roster.model import DAYS, Counselor, Override, Roster, Shift


def to_data(roster: Roster) -> dict[str, Any]:
    """Plain, JSON-ready data that `parse_roster` reads back to an equal roster."""
    data: dict[str, Any] = {
        "timezone": roster.timezone,
        "counselors": [counselor_data(c) for c in roster.counselors],
        "shifts": [shift_data(s, roster.timezone) for s in roster.shifts],
        "overrides": [override_data(o, roster.timezone) for o in roster.overrides],
        "coverage": {
            "minimum": roster.coverage.minimum,
            "languages": dict(sorted(roster.coverage.languages.items())),
            "supervisors": roster.coverage.supervisors,
        },
    }
    return data


def dump_yaml(roster: Roster, header: str | None = None) -> str:
    """The roster file, optionally under a `# header` comment."""
    text = yaml.safe_dump(
        to_data(roster), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
    )
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + text
    return text


def counselor_data(counselor: Counselor) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": counselor.id,
        "name": counselor.name,
        "phone": counselor.phone,
        "languages": list(counselor.languages),
    }
    if not counselor.active:
        data["active"] = False
    if counselor.priority is not None:
        data["priority"] = counselor.priority
    if counselor.supervises:
        data["role"] = counselor.role
    return data


def shift_data(shift: Shift, default_zone: str | None) -> dict[str, Any]:
    """The shift as the file writes it; its zone is left out when it is
    `default_zone` (None: always written)."""
    data: dict[str, Any] = {"id": shift.id} if shift.id else {}
    data |= {
        "counselor": shift.counselor,
        "days": [DAYS[d] for d in shift.days],
        "start": format_clock(shift.start),
        "end": format_clock(shift.end),
    }
    if shift.timezone != default_zone:
        data["timezone"] = shift.timezone
    if shift.valid_from is not None:
        data["valid_from"] = shift.valid_from.isoformat()
    if shift.valid_until is not None:
        data["valid_until"] = shift.valid_until.isoformat()
    return data


def override_data(override: Override, default_zone: str | None) -> dict[str, Any]:
    """The override as the file writes it; zone as for `shift_data`."""
    data: dict[str, Any] = {"id": override.id} if override.id else {}
    data |= {
        "counselor": override.counselor,
        "start": format_local(override.start),
        "end": format_local(override.end),
    }
    if override.timezone != default_zone:
        data["timezone"] = override.timezone
    if override.replaces:
        data["replaces"] = list(override.replaces)
    if override.note is not None:
        data["note"] = override.note
    return data
