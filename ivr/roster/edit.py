"""Changing the roster one counselor, shift or override at a time: the one
core under the JSON API, the admin pages and `helpline roster counselor|shift|
override …`.

Every edit reads the stored roster, changes its document (the export format,
`ivr.roster.export`), validates the *whole* roster again through the file
parser — so an edit obeys exactly the rules a file does — and writes it with
`RosterStore.save_if`, only over the version it read. If someone saved in
between, the edit is made once more on their roster; a second race is a
`Conflict`. Each change is then written to the audit log with the item
before and after.

Items go in and come out as plain dicts in the file's format, `id` included,
with every field present on the way out (a shift's zone even when it is the
roster's, None for an optional field not set). On the way in, a missing field
or None means "not set"; an update changes only the fields it is given.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.content.yamlsrc import SourceList, SourceMap, Where
from ivr.platform.problems import Problem
from ivr.roster.export import counselor_data, override_data, shift_data, to_data
from ivr.roster.model import Counselor, Override, Roster, Shift
from ivr.roster.parse import RosterError, parse_roster
from ivr.roster.store import RosterStore

ATTEMPTS = 2
"""One edit, and once more if someone saved in between; then a Conflict."""

Item = dict[str, Any]


@dataclass(frozen=True)
class FieldProblem:
    field: str
    """The field at fault ("phone", "days", "timezone", …); "" for the whole item."""
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class EditError(Exception):
    """Base of every refusal of an edit; the message says why, for people."""


class NotFound(EditError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no {kind} '{ident}'")
        self.kind = kind
        self.id = ident


class Conflict(EditError):
    """The edit cannot be made as things are: the roster kept changing
    underneath, or what is removed is still referred to."""


class Invalid(EditError):
    """The roster the edit would make breaks the roster rules."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class AuditTrail(Protocol):
    """What the editor needs of `ivr.operators.audit.AuditLog`."""

    def record(
        self, who: str, action: str, target: str, before: Any = None, after: Any = None
    ) -> object: ...


DEFAULT_TIMEZONE = "America/New_York"  # of a roster made by editing, before any import


@dataclass(frozen=True)
class _Kind:
    name: str  # "shift": in messages and audit actions ("shift.update")
    key: str  # its list in the document: "shifts"
    ids: Callable[[Roster], list[str]]
    view: Callable[[Roster, int], Item]
    id_prefix: str | None  # for ids the editor makes; None: the caller must give one


def fingerprint(item: Item) -> str:
    """A short digest of an item as shown: a form carries it, so a save can
    tell whether the item changed since the form was opened."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def counselor_view(counselor: Counselor) -> Item:
    return counselor_data(counselor) | {"active": counselor.active, "priority": counselor.priority}


def shift_view(shift: Shift) -> Item:
    return {"valid_from": None, "valid_until": None} | shift_data(shift, None)


def override_view(override: Override) -> Item:
    return {"replaces": [], "note": None} | override_data(override, None)


_COUNSELOR = _Kind(
    "counselor",
    "counselors",
    lambda r: [c.id for c in r.counselors],
    lambda r, n: counselor_view(r.counselors[n]),
    None,
)
_SHIFT = _Kind(
    "shift",
    "shifts",
    lambda r: [s.id for s in r.shifts],
    lambda r, n: shift_view(r.shifts[n]),
    "s-",
)
_OVERRIDE = _Kind(
    "override",
    "overrides",
    lambda r: [o.id for o in r.overrides],
    lambda r, n: override_view(r.overrides[n]),
    "o-",
)


class RosterEditor:
    def __init__(
        self,
        store: RosterStore,
        audit: AuditTrail,
        default_timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.store = store
        self.audit = audit
        self.default_timezone = default_timezone
        """The zone of the roster the first edit starts when none is stored."""

    # -- reading ---------------------------------------------------------

    def counselors(self) -> list[Item]:
        return [counselor_view(c) for c in self._current()[0].counselors]

    def counselor(self, ident: str) -> Item:
        return self._one(_COUNSELOR, ident)

    def shifts(self, counselor: str | None = None) -> list[Item]:
        """Every shift, or one counselor's (NotFound if there is no such counselor)."""
        roster = self._current()[0]
        if counselor is not None and counselor not in roster.by_id:
            raise NotFound("counselor", counselor)
        return [shift_view(s) for s in roster.shifts if counselor in (None, s.counselor)]

    def shift(self, ident: str) -> Item:
        return self._one(_SHIFT, ident)

    def overrides(self) -> list[Item]:
        return [override_view(o) for o in self._current()[0].overrides]

    def override(self, ident: str) -> Item:
        return self._one(_OVERRIDE, ident)

    def timezone(self) -> str:
        return self._current()[0].timezone

    # -- changing --------------------------------------------------------

    def add_counselor(self, data: Mapping[str, Any], who: str) -> Item:
        return self._add(_COUNSELOR, data, who)

    def update_counselor(
        self, ident: str, data: Mapping[str, Any], who: str, *, if_unchanged: str | None = None
    ) -> Item:
        return self._update(_COUNSELOR, ident, data, who, if_unchanged)

    def remove_counselor(self, ident: str, who: str) -> None:
        def still_named(roster: Roster) -> None:
            shifts = [s.id for s in roster.shifts if s.counselor == ident]
            overrides = [
                o.id for o in roster.overrides if ident == o.counselor or ident in o.replaces
            ]
            named = ([f"shifts {', '.join(shifts)}"] if shifts else []) + (
                [f"overrides {', '.join(overrides)}"] if overrides else []
            )
            if named:
                raise Conflict(
                    f"counselor '{ident}' is still on {' and '.join(named)}: "
                    "remove those first, or make the counselor inactive instead"
                )

        self._remove(_COUNSELOR, ident, who, still_named)

    def add_shift(self, data: Mapping[str, Any], who: str) -> Item:
        return self._add(_SHIFT, data, who)

    def update_shift(
        self, ident: str, data: Mapping[str, Any], who: str, *, if_unchanged: str | None = None
    ) -> Item:
        return self._update(_SHIFT, ident, data, who, if_unchanged)

    def remove_shift(self, ident: str, who: str) -> None:
        self._remove(_SHIFT, ident, who)

    def add_override(self, data: Mapping[str, Any], who: str) -> Item:
        return self._add(_OVERRIDE, data, who)

    def update_override(
        self, ident: str, data: Mapping[str, Any], who: str, *, if_unchanged: str | None = None
    ) -> Item:
        return self._update(_OVERRIDE, ident, data, who, if_unchanged)

    def remove_override(self, ident: str, who: str) -> None:
        self._remove(_OVERRIDE, ident, who)

    def set_timezone(self, name: str, who: str) -> str:
        """Make NAME the roster's zone: the one times are shown in and new
        shifts and overrides default to. No shift or override moves: each
        keeps the zone it was in."""
        before = ""

        def change(roster: Roster, document: dict[str, Any]) -> str:
            nonlocal before
            before = roster.timezone
            document["timezone"] = name
            document["shifts"] = [shift_data(s, None) for s in roster.shifts]
            document["overrides"] = [override_data(o, None) for o in roster.overrides]
            return "timezone"

        new = self._edit(who, "roster.timezone", change)[0]
        self.audit.record(who, "roster.timezone", "timezone", before, new.timezone)
        return new.timezone

    # -- the one way every change goes -------------------------------------

    def _add(self, kind: _Kind, data: Mapping[str, Any], who: str) -> Item:
        def change(roster: Roster, document: dict[str, Any]) -> str:
            item = _given(kind, data)
            if kind.id_prefix is not None and "id" not in item:
                item = {"id": _new_id(kind.id_prefix, roster)} | item
            document[kind.key].append(item)
            return str(item.get("id", ""))

        roster, ident = self._edit(who, f"{kind.name}.add", change)
        after = kind.view(roster, kind.ids(roster).index(ident))
        self.audit.record(who, f"{kind.name}.add", ident, None, after)
        return after

    def _update(
        self,
        kind: _Kind,
        ident: str,
        data: Mapping[str, Any],
        who: str,
        if_unchanged: str | None = None,
    ) -> Item:
        """Change the fields given. With `if_unchanged` (the item's
        `fingerprint` when a person opened it to edit), refuse when someone
        else changed it meanwhile, rather than save over their change."""
        before: Item = {}

        def change(roster: Roster, document: dict[str, Any]) -> str:
            nonlocal before
            index = _index(kind, roster, ident)
            given = _given(kind, data, keep_none=True)
            if "id" in given and given["id"] != ident:
                raise Invalid([FieldProblem("id", f"a {kind.name}'s id cannot be changed")])
            before = kind.view(roster, index)
            if if_unchanged is not None and fingerprint(before) != if_unchanged:
                raise Conflict(
                    f"{kind.name} '{ident}' was changed by someone else since it was opened "
                    "for editing; reload it and make the change again"
                )
            merged = before | given
            document[kind.key][index] = {k: v for k, v in merged.items() if v is not None}
            return ident

        roster, _ = self._edit(who, f"{kind.name}.update", change)
        after = kind.view(roster, kind.ids(roster).index(ident))
        self.audit.record(who, f"{kind.name}.update", ident, before, after)
        return after

    def _remove(
        self,
        kind: _Kind,
        ident: str,
        who: str,
        check: Callable[[Roster], None] = lambda roster: None,
    ) -> None:
        before: Item = {}

        def change(roster: Roster, document: dict[str, Any]) -> str:
            nonlocal before
            index = _index(kind, roster, ident)
            check(roster)
            before = kind.view(roster, index)
            del document[kind.key][index]
            return ident

        self._edit(who, f"{kind.name}.remove", change)
        self.audit.record(who, f"{kind.name}.remove", ident, before, None)

    def _edit(
        self, who: str, action: str, change: Callable[[Roster, dict[str, Any]], str]
    ) -> tuple[Roster, str]:
        """Apply CHANGE to the stored roster's document and save the result
        over the version read; on a race, once more from the new version."""
        for _ in range(ATTEMPTS):
            roster, version = self._current()
            document = to_data(roster)
            target = change(roster, document)
            new = _validated(document)
            if self.store.save_if(new, version, source=f"{who} ({action} {target})") is not None:
                return new, target
        raise Conflict("the roster changed while this edit was saved, twice; try again")

    def _current(self) -> tuple[Roster, int]:
        stored = self.store.load_stored()
        if stored is None:
            return Roster(self.default_timezone), 0
        return stored.roster, stored.version

    def _one(self, kind: _Kind, ident: str) -> Item:
        roster = self._current()[0]
        return kind.view(roster, _index(kind, roster, ident))


def _index(kind: _Kind, roster: Roster, ident: str) -> int:
    ids = kind.ids(roster)
    if ident not in ids:
        raise NotFound(kind.name, ident)
    return ids.index(ident)


def _given(kind: _Kind, data: Mapping[str, Any], keep_none: bool = False) -> Item:
    """The caller's fields; None means "not set" (kept for an update, where
    it clears the field)."""
    if not isinstance(data, Mapping):
        raise Invalid([FieldProblem("", f"a {kind.name} must be an object of fields")])
    return {str(k): v for k, v in data.items() if keep_none or v is not None}


def _new_id(prefix: str, roster: Roster) -> str:
    """A fresh, never-derived id: a removed shift's id is not reused for a
    new one, so a stale page cannot change the wrong shift."""
    taken = {s.id for s in roster.shifts} | {o.id for o in roster.overrides}
    while (ident := prefix + secrets.token_hex(4)) in taken:
        pass
    return ident


def _validated(document: dict[str, Any]) -> Roster:
    try:
        return parse_roster(_located(document, ""), "edit")
    except RosterError as error:
        raise Invalid([FieldProblem(_field(p), p.message) for p in error.problems]) from None


def _located(value: Any, path: str) -> Any:
    """Plain data located by path rather than line: each problem the parser
    finds then says which field it is about ("shifts[3].days[1]")."""
    if isinstance(value, dict):
        keys = {key: f"{path}.{key}" if path else str(key) for key in value}
        mapping = SourceMap((key, _located(item, keys[key])) for key, item in value.items())
        mapping.where = Where(path, 1)
        mapping.key_where = {key: Where(place, 1) for key, place in keys.items()}
        return mapping
    if isinstance(value, list):
        places = [f"{path}[{n}]" for n in range(len(value))]
        items = SourceList(_located(item, place) for item, place in zip(value, places, strict=True))
        items.where = Where(path, 1)
        items.item_where = [Where(place, 1) for place in places]
        return items
    return value


_ITEM_PATH = re.compile(r"^(?:counselors|shifts|overrides)\[\d+\]\.?")
_MISSING = re.compile(r"missing '([^']+)'")


def _field(problem: Problem) -> str:
    """The field a problem is about: `shifts[3].days[1]` → "days", `timezone`
    → "timezone"; for the item as a whole, the missing field it names, or ""."""
    rest = _ITEM_PATH.sub("", problem.file, count=1)
    name = re.split(r"[.\[]", rest, maxsplit=1)[0]
    if name:
        return name
    missing = _MISSING.search(problem.message)
    return missing.group(1) if missing else ""
