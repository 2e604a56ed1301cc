"""Roster YAML → `Roster`, all or nothing.

Every problem in a file is collected with its place (`file:line: message`)
before anything is built, so one look shows them all, and a file with any
problem yields no roster at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from ivr.content.yamlsrc import SourceList, SourceMap, Where, YamlProblem
from ivr.platform.config import to_e164
from ivr.platform.problems import FileProblems, Problem
from ivr.roster.localtime import instant, parse_clock, parse_local, zone
from ivr.roster.model import (
    COUNSELOR,
    DAYS,
    ROLES,
    Counselor,
    Coverage,
    Override,
    Roster,
    Shift,
)
from ivr.roster.source import load_roster_yaml, located

COUNSELOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ITEM_ID = COUNSELOR_ID
"""Shift and override ids: safe in a URL path and on a command line."""
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PHONE_PROBLEM = (
    "is not a valid phone number: write it in E.164 like +12025550101, "
    "or as dialled in the US like (202) 555-0101"
)

T = TypeVar("T")
Item = TypeVar("Item", Shift, Override)


class RosterError(FileProblems):
    """A roster that cannot be used, with every reason and its place."""


def load_roster_file(path: Path, display_name: str | None = None) -> Roster:
    """Read and validate a roster file; RosterError lists every problem."""
    name = display_name if display_name is not None else str(path)
    try:
        data = load_roster_yaml(path, name)
    except YamlProblem as problem:
        raise RosterError(
            [Problem(problem.where.file, problem.where.line, problem.message)]
        ) from None
    return parse_roster(data, name)


def check_roster_file(path: Path, display_name: str | None = None) -> list[Problem]:
    try:
        load_roster_file(path, display_name)
    except RosterError as error:
        return error.problems
    return []


def parse_roster(data: Any, source: str) -> Roster:
    """Validate located YAML (or plain data, e.g. from JSON) into a Roster."""
    if not isinstance(data, SourceMap):
        data = located(data, Where(source, 1))
    reader = _Reader()
    roster = reader.roster(data) if reader.mapping(data, Where(source, 1), "roster") else None
    if reader.problems or roster is None:
        raise RosterError(sorted(set(reader.problems)))
    return roster


@dataclass
class _Reader:
    problems: list[Problem] = field(default_factory=list)
    ids: dict[str, Where] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    item_ids: dict[str, Where] = field(default_factory=dict)
    """Shift and override ids given in the file: one namespace for both."""
    default_zone: str = "UTC"

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(Problem(where.file, where.line, message))

    def mapping(self, value: Any, where: Where, what: str) -> bool:
        if isinstance(value, SourceMap):
            return True
        self.problem(where, f"{what} must be a mapping")
        return False

    def fields(self, data: SourceMap, what: str, required: set[str], optional: set[str]) -> bool:
        missing = sorted(required - data.keys())
        for name in missing:
            self.problem(data.where, f"{what}: missing '{name}'")
        for name in data:
            if name not in required | optional:
                self.problem(data.at(name), f"{what}: unknown field '{name}'")
        return not missing

    def items(self, data: SourceMap, key: str, what: str) -> list[tuple[Any, Where]]:
        value = data.get(key, [])
        if isinstance(value, SourceList):
            return list(zip(value, value.item_where, strict=True))
        if isinstance(value, list):
            return [(item, data.at(key)) for item in value]
        self.problem(data.at(key), f"{what}: '{key}' must be a list")
        return []

    def text(self, data: SourceMap, key: str, what: str) -> str | None:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if key in data:
            self.problem(data.at(key), f"{what}: '{key}' must be non-empty text")
        return None

    def parsed(self, data: SourceMap, key: str, what: str, parse: Callable[[str], T | None],
               expected: str) -> T | None:  # fmt: skip
        value = data.get(key)
        result = parse(value) if isinstance(value, str) else None
        if result is None and key in data:
            self.problem(data.at(key), f"{what}: '{key}' must be {expected}, not {value!r}")
        return result

    def zone_name(self, data: SourceMap, key: str, what: str) -> str | None:
        name = self.text(data, key, what)
        if name is None:
            return None
        try:
            zone(name)
        except (KeyError, ValueError):
            self.problem(data.at(key), f"{what}: unknown time zone '{name}'")
            return None
        return name

    def known_counselor(self, value: Any, where: Where, what: str) -> str | None:
        if isinstance(value, str) and value in self.ids:
            return value
        self.problem(where, f"{what}: unknown counselor {value!r}")
        return None

    # -- the file ----------------------------------------------------------

    def roster(self, data: SourceMap) -> Roster | None:
        self.fields(data, "roster", {"timezone", "counselors"}, {"shifts", "overrides", "coverage"})
        default_zone = self.zone_name(data, "timezone", "roster")
        self.default_zone = default_zone or "UTC"
        counselors = [
            c
            for value, where in self.items(data, "counselors", "roster")
            if (c := self.counselor(value, where)) is not None
        ]
        shifts = [
            s
            for value, where in self.items(data, "shifts", "roster")
            if (s := self.shift(value, where)) is not None
        ]
        overrides = [
            o
            for value, where in self.items(data, "overrides", "roster")
            if (o := self.override(value, where)) is not None
        ]
        coverage = self.coverage(data)
        if default_zone is None:
            return None
        taken = set(self.item_ids)
        shifts = _with_ids(shifts, "s-", taken, _shift_content)
        overrides = _with_ids(overrides, "o-", taken, _override_content)
        return Roster(default_zone, tuple(counselors), tuple(shifts), tuple(overrides), coverage)

    def counselor(self, value: Any, where: Where) -> Counselor | None:
        if not self.mapping(value, where, "counselor"):
            return None
        data: SourceMap = value
        ident = self.text(data, "id", "counselor")
        what = f"counselor '{ident}'" if ident else "counselor"
        ok = self.fields(
            data, what, {"id", "name", "phone", "languages"}, {"active", "priority", "role"}
        )
        if ident is not None:
            if not COUNSELOR_ID.fullmatch(ident):
                self.problem(data.at("id"), f"{what}: id must be letters, digits, '_', '.', '-'")
                ident = None
            elif ident in self.ids:
                first = self.ids[ident].line
                self.problem(
                    data.at("id"), f"duplicate counselor id '{ident}' (first on line {first})"
                )
                ident = None
            else:
                self.ids[ident] = data.at("id")
        name = self.text(data, "name", what)
        if isinstance(data.get("phone"), int):  # YAML read the digits as a number
            self.problem(data.at("phone"), f'{what}: write the phone in quotes, like "2025550101"')
        written = self.text(data, "phone", what) if not isinstance(data.get("phone"), int) else None
        # As a person writes it, "(202) 555-0101", kept as Twilio dials it: +12025550101.
        phone = to_e164(written) if written is not None else None
        if written is not None and phone is None:
            self.problem(data.at("phone"), f"{what}: phone {PHONE_PROBLEM}")
        elif phone is not None and phone in self.phones:
            self.problem(
                data.at("phone"), f"{what}: phone is already counselor '{self.phones[phone]}'s"
            )
        elif phone is not None and ident is not None:
            self.phones[phone] = ident
        languages = self.languages(data, what)
        active = data.get("active", True)
        if not isinstance(active, bool):
            self.problem(data.at("active"), f"{what}: 'active' must be true or false")
        priority = data.get("priority")
        if priority is not None and (
            not isinstance(priority, int) or isinstance(priority, bool) or priority < 0
        ):
            self.problem(
                data.at("priority"), f"{what}: 'priority' must be a whole number, 0 or more"
            )
            priority = None
        role = data.get("role", COUNSELOR)
        if role not in ROLES:
            self.problem(data.at("role"), f"{what}: 'role' must be one of {', '.join(ROLES)}")
            role = COUNSELOR
        if not ok or ident is None or name is None or phone is None or languages is None:
            return None
        return Counselor(ident, name, phone, languages, active is not False, priority, str(role))

    def languages(self, data: SourceMap, what: str) -> tuple[str, ...] | None:
        found: list[str] = []
        items = self.items(data, "languages", what) if "languages" in data else []
        for value, where in items:
            if not isinstance(value, str) or not LANGUAGE.fullmatch(value):
                self.problem(where, f"{what}: {value!r} is not a language code like en or es")
            elif value in found:
                self.problem(where, f"{what}: language '{value}' listed twice")
            else:
                found.append(value)
        if "languages" in data and not items and isinstance(data["languages"], list):
            self.problem(data.at("languages"), f"{what}: 'languages' must list at least one")
        return tuple(found) if found and len(found) == len(items) else None

    def shift(self, value: Any, where: Where) -> Shift | None:
        if not self.mapping(value, where, "shift"):
            return None
        data: SourceMap = value
        ok = self.fields(
            data,
            "shift",
            {"counselor", "days", "start", "end"},
            {"id", "timezone", "valid_from", "valid_until"},
        )
        ident = self.item_id(data, "shift")
        who = self.known_counselor(data.get("counselor"), data.at("counselor"), "shift")
        what = f"shift of '{who}'" if who else "shift"
        days = self.days(data, what)
        start = self.parsed(data, "start", what, lambda t: parse_clock(t, False), '"HH:MM"')
        end = self.parsed(data, "end", what, lambda t: parse_clock(t, True), '"HH:MM" or "24:00"')
        if start is not None and end is not None and start == end:
            self.problem(
                data.at("end"),
                f"{what}: starts and ends at the same time; a whole day is 00:00 to 24:00",
            )
            end = None
        zone_name = (
            self.zone_name(data, "timezone", what) if "timezone" in data else self.default_zone
        )
        since = self.parsed(data, "valid_from", what, _date, "a date YYYY-MM-DD")
        until = self.parsed(data, "valid_until", what, _date, "a date YYYY-MM-DD")
        if since is not None and until is not None and until < since:
            self.problem(data.at("valid_until"), f"{what}: valid_until is before valid_from")
            until = None
        if not ok or who is None or days is None or start is None or end is None:
            return None
        if zone_name is None or ("valid_from" in data) != (since is not None):
            return None
        if ("valid_until" in data) != (until is not None):
            return None
        return Shift(who, days, start, end, zone_name, since, until, ident)

    def item_id(self, data: SourceMap, what: str) -> str:
        """The shift's or override's own id, or "" when the file gives none
        (one is made from its content once the whole file is read)."""
        if "id" not in data:
            return ""
        ident = self.text(data, "id", what)
        if ident is None:
            return ""
        if not ITEM_ID.fullmatch(ident):
            self.problem(data.at("id"), f"{what}: id must be letters, digits, '_', '.', '-'")
            return ""
        if ident in self.item_ids:
            first = self.item_ids[ident].line
            self.problem(data.at("id"), f"duplicate {what} id '{ident}' (first on line {first})")
            return ""
        self.item_ids[ident] = data.at("id")
        return ident

    def days(self, data: SourceMap, what: str) -> tuple[int, ...] | None:
        if "days" not in data:
            return None
        items = self.items(data, "days", what)
        found: set[int] = set()
        for value, where in items:
            if value not in DAYS:
                self.problem(where, f"{what}: {value!r} is not a day (mon, tue, … sun)")
                return None
            if DAYS.index(value) in found:
                self.problem(where, f"{what}: day '{value}' listed twice")
            found.add(DAYS.index(value))
        if not found:
            self.problem(data.at("days"), f"{what}: 'days' must list at least one day")
            return None
        return tuple(sorted(found))

    def override(self, value: Any, where: Where) -> Override | None:
        if not self.mapping(value, where, "override"):
            return None
        data: SourceMap = value
        ok = self.fields(
            data, "override", {"counselor", "start", "end"}, {"id", "timezone", "replaces", "note"}
        )
        ident = self.item_id(data, "override")
        who = self.known_counselor(data.get("counselor"), data.at("counselor"), "override")
        what = f"override by '{who}'" if who else "override"
        local = '"YYYY-MM-DDTHH:MM" (local time, no offset)'
        start = self.parsed(data, "start", what, parse_local, local)
        end = self.parsed(data, "end", what, parse_local, local)
        zone_name = (
            self.zone_name(data, "timezone", what) if "timezone" in data else self.default_zone
        )
        if (
            start
            and end
            and zone_name
            and instant(end, zone(zone_name)) <= instant(start, zone(zone_name))
        ):
            self.problem(data.at("end"), f"{what}: ends before it starts")
            end = None
        replaced: list[str] = []
        for item, item_where in self.items(data, "replaces", what) if "replaces" in data else []:
            other = self.known_counselor(item, item_where, what)
            if other is not None and other == who:
                self.problem(item_where, f"{what}: cannot replace themselves")
            elif other is not None and other not in replaced:
                replaced.append(other)
        note = self.text(data, "note", what) if "note" in data else None
        if not ok or who is None or start is None or end is None or zone_name is None:
            return None
        if "note" in data and note is None:
            return None
        return Override(who, start, end, zone_name, tuple(replaced), note, ident)

    def coverage(self, data: SourceMap) -> Coverage:
        if "coverage" not in data:
            return Coverage()
        value = data["coverage"]
        if not self.mapping(value, data.at("coverage"), "coverage"):
            return Coverage()
        block: SourceMap = value
        self.fields(block, "coverage", set(), {"minimum", "languages", "supervisors"})
        minimum = self.count(block, "minimum", "coverage")
        supervisors = self.count(block, "supervisors", "coverage") if "supervisors" in block else 1
        languages: dict[str, int] = {}
        if "languages" in block:
            wanted = block["languages"]
            if self.mapping(wanted, block.at("languages"), "coverage: 'languages'"):
                for language in wanted:
                    count = self.count(wanted, language, f"coverage of '{language}'")
                    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
                        self.problem(
                            wanted.at(language), f"coverage: {language!r} is not a language code"
                        )
                    elif count is not None:
                        languages[language] = count
            return Coverage(1 if minimum is None else minimum, languages, supervisors or 0)
        return Coverage(
            1 if minimum is None else minimum, supervisors=1 if supervisors is None else supervisors
        )

    def count(self, data: SourceMap, key: str, what: str) -> int | None:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if key in data:
            self.problem(data.at(key), f"{what}: must be a whole number, 0 or more")
        return None


def _with_ids(
    items: list[Item], prefix: str, taken: set[str], content: Callable[[Item], Iterable[object]]
) -> list[Item]:
    """Give each item without an id one made from what it says, so importing
    the same id-less file again gives every unchanged shift its old id
    (whatever the order); identical items get -2, -3, … in file order."""
    result: list[Item] = []
    for item in items:
        if not item.id:
            digest = hashlib.sha256(json.dumps(list(content(item)), default=str).encode())
            base = prefix + digest.hexdigest()[:8]
            ident, n = base, 1
            while ident in taken:
                n += 1
                ident = f"{base}-{n}"
            taken.add(ident)
            item = replace(item, id=ident)
        result.append(item)
    return result


def _shift_content(shift: Shift) -> Iterable[object]:
    return (shift.counselor, shift.days, shift.start, shift.end, shift.timezone,
            shift.valid_from, shift.valid_until)  # fmt: skip


def _override_content(override: Override) -> Iterable[object]:
    return (override.counselor, override.start, override.end, override.timezone,
            override.replaces, override.note)  # fmt: skip


def _date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
