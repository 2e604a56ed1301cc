"""Why a form was refused, said beside the field at fault.

A refusal names the form (its element id) and, for each of its fields that is
at fault, one message; the page marks that input (`aria-invalid`,
`aria-describedby` pointing at the message) and puts the message under it.
What is about no field of the form (a conflict, an item gone) is said at the
top. Problems come from the form's model (pydantic: shapes) or from the
roster editor (the roster's own rules, through the file parser), with the
field each one names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from ivr.roster.edit import EditError, Invalid

COUNSELOR_FIELDS = ("id", "name", "phone", "languages", "priority", "active", "role")
SHIFT_FIELDS = ("counselor", "days", "start", "end", "timezone", "valid_from", "valid_until")
OVERRIDE_FIELDS = ("counselor", "start", "end", "timezone", "replaces", "note")

FIELDS = {
    "add-counselor": COUNSELOR_FIELDS,
    "edit-counselor": COUNSELOR_FIELDS[1:],  # the id is not for changing
    "add-shift": SHIFT_FIELDS,
    "edit-shift": SHIFT_FIELDS,
    "add-override": OVERRIDE_FIELDS,
    "add-block": ("number", "reason", "days"),
}

# The parser names the item ("counselor 'maria': …"); beside its field, that is plain.
_WHOSE = re.compile(r"^(?:counselor|shift|override)(?: of| by)?(?: '[^']*')?: ")

CLOCK = "a 24-hour time, HH:MM, like 09:00 or 22:30"
# Messages for a field whose text is not in the expected shape: what to write
# rather than the pattern it failed.
SHAPES = {
    ("shift", "start"): f"give {CLOCK}",
    ("shift", "end"): f"give {CLOCK}; 24:00 is midnight at the end of the day",
    ("override", "start"): f"give a date and {CLOCK}",
    ("override", "end"): f"give a date and {CLOCK} (24:00: the end of that day)",
    ("counselor", "id"): "letters, digits, '_', '.' or '-', starting with a letter or digit",
    ("counselor", "languages"): "language codes like en, es, separated by commas",
}


@dataclass(frozen=True)
class Refusal:
    form: str  # the form's element id: "add-counselor", "edit-shift", …
    fields: dict[str, str] = field(default_factory=dict)  # field → the message beside it
    general: tuple[str, ...] = ()  # about no field of the form: said at the top

    @property
    def first(self) -> str | None:
        """The first field at fault, in the form's order: it takes the focus."""
        return next((name for name in FIELDS.get(self.form, ()) if name in self.fields), None)


def refusal(form: str, problems: Iterable[tuple[str, str]]) -> Refusal:
    """(field, message) pairs sorted into the form's fields and the rest;
    two messages about one field are shown together."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for name, message in problems:
        if name in FIELDS.get(form, ()):
            fields[name] = f"{fields[name]}; {message}" if name in fields else message
        else:
            general.append(f"{name}: {message}" if name else message)
    return Refusal(form, fields, tuple(general))


def from_validation(form: str, kind: str, error: ValidationError) -> Refusal:
    """A model's refusal: each problem under the field it is about."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        where = problem["loc"]
        name = str(where[0]) if where else ""
        message = problem["msg"]
        shape = problem["type"] in ("string_pattern_mismatch", "literal_error")
        if shape and (kind, name) in SHAPES:
            message = SHAPES[(kind, name)]
        problems.append((name, message))
    return refusal(form, problems)


def from_edit(form: str, error: EditError) -> Refusal:
    """The editor's refusal: the roster rules broken, field by field, or why
    the edit cannot be made at all."""
    if isinstance(error, Invalid):
        return refusal(form, [(p.field, _plain(p.message)) for p in error.problems])
    return Refusal(form, general=(str(error),))


def _plain(message: str) -> str:
    """The parser's "counselor 'maria': phone is …", beside the phone field: "Phone is …"."""
    shown = _WHOSE.sub("", message)
    return shown[:1].upper() + shown[1:]
