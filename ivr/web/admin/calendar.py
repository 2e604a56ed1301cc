"""The Roster page's week: who is on call when, as blocks on a wall calendar.

One row per active counselor (in routing order), one column per local day of
the viewing zone, and the line's coverage gaps under them. Shift times come
from the on-call index itself (`Schedule.occurrences`), overrides from the
same instants it uses, and gaps from `coverage_gaps`: the picture cannot say
something the router would not do. `ivr.web.admin.localday` turns instants into
wall-clock minutes, whatever the shift's own zone and whatever the clocks do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ivr.roster.localtime import format_clock, format_local, from_epoch, zone
from ivr.roster.model import DAYS, Counselor, Override, Roster, Shift
from ivr.roster.oncall import coverage_gaps
from ivr.roster.schedule import Occurrence, schedule_of
from ivr.web.admin.localday import LocalDay, cut, local_days

WEEK_DAYS = 7
BlockKind = Literal["shift", "override", "off"]
_KIND_ORDER = {"override": 0, "shift": 1, "off": 2}
Window = tuple[Override, int, int]  # an override and its [start, end) in epoch seconds


@dataclass(frozen=True)
class Block:
    """Part of one day in a counselor's row. Minutes are wall-clock minutes
    since local midnight in the viewing zone, 0..1440, start before end."""

    start: int
    end: int
    kind: BlockKind  # "off": a shift an override's `replaces` takes away
    source: str  # the id of the shift ("shift", "off") or of the override
    label: str  # the rule as written, for a tooltip
    by: str = ""  # "off": the id of the override that takes the shift away
    from_before: bool = False  # began on an earlier day: draw it open on the left
    goes_on: bool = False  # goes on into the next day: open on the right


@dataclass(frozen=True)
class GapBlock:
    """Part of one day short of cover: fewer than `required` counselors (who
    speak the language, unless "overall") were on call, `available` at worst."""

    start: int
    end: int
    requirement: str  # "overall" or a language code
    required: int
    available: int


@dataclass(frozen=True)
class Day:
    date: date
    minutes: int  # how long the day really is: 1440; 1380 or 1500 when clocks change
    gaps: tuple[GapBlock, ...]


@dataclass(frozen=True)
class Row:
    counselor: Counselor
    days: tuple[tuple[Block, ...], ...]  # one tuple per Day, blocks by start


@dataclass(frozen=True)
class WeekView:
    start: date
    zone: str
    days: tuple[Day, ...]
    rows: tuple[Row, ...]
    now: tuple[int, int] | None = None  # (day index, minute) when `now` is in the week


def week_containing(moment: datetime, zone_name: str) -> date:
    """The Monday, in `zone_name`, of the week `moment` (aware) falls in."""
    local = moment.astimezone(_zone(zone_name)).date()
    return local - timedelta(days=local.weekday())


def week_view(
    roster: Roster, week_start: date, zone_name: str, now: datetime | None = None
) -> WeekView:
    """The 7 local days from `week_start` as seen in `zone_name`; `now` (aware)
    places the "now" line, if it falls in the week."""
    days = local_days(week_start, WEEK_DAYS, _zone(zone_name))
    first, last = days[0].start, days[-1].end
    occurrences = schedule_of(roster).occurrences(first, last)
    windows: list[Window] = [
        (override, start, end)
        for override, (start, end) in zip(
            roster.overrides,
            ((span.start, span.end) for span in schedule_of(roster).overrides),
            strict=True,
        )
        if start < last and end > first
    ]
    rows = tuple(
        Row(counselor, _row(roster, counselor, occurrences, windows, days))
        for counselor in roster.routing_order
        if counselor.active
    )
    return WeekView(week_start, zone_name, _days(roster, days), rows, _now(now, days))


def _zone(zone_name: str) -> ZoneInfo:
    try:
        return zone(zone_name)
    except KeyError:
        raise ValueError(f"unknown time zone: {zone_name!r}") from None


def _row(
    roster: Roster,
    counselor: Counselor,
    occurrences: Sequence[Occurrence],
    windows: Sequence[Window],
    days: tuple[LocalDay, ...],
) -> tuple[tuple[Block, ...], ...]:
    found: list[list[Block]] = [[] for _ in days]

    def place(start: int, end: int, kind: BlockKind, source: str, label: str, by: str = "") -> None:
        for piece in cut(start, end, days):
            found[piece.index].append(
                Block(
                    piece.start,
                    piece.end,
                    kind,
                    source,
                    label,
                    by,
                    piece.from_before,
                    piece.goes_on,
                )
            )

    replacing = sorted(
        (w for w in windows if counselor.id in w[0].replaces), key=lambda w: (w[1], w[2])
    )
    for occurrence in occurrences:
        shift = occurrence.shift
        if shift.counselor != counselor.id:
            continue
        label = _shift_label(shift)
        cursor = occurrence.start
        for override, start, end in replacing:
            if end <= cursor or start >= occurrence.end:
                continue
            if start > cursor:
                place(cursor, start, "shift", shift.id, label)
            stop = min(end, occurrence.end)
            off = _off_label(roster, override)
            place(max(start, cursor), stop, "off", shift.id, off, override.id)
            cursor = stop
        if cursor < occurrence.end:
            place(cursor, occurrence.end, "shift", shift.id, label)
    for override, start, end in windows:
        if override.counselor == counselor.id:
            place(start, end, "override", override.id, _override_label(override))
    return tuple(
        tuple(sorted(blocks, key=lambda b: (b.start, _KIND_ORDER[b.kind], b.end)))
        for blocks in found
    )


def _days(roster: Roster, days: tuple[LocalDay, ...]) -> tuple[Day, ...]:
    first, last = days[0].start, days[-1].end
    # A local week is 167 to 169 hours: ask for 8 whole days, keep what is in it.
    gaps = coverage_gaps(roster, from_epoch(first), days=WEEK_DAYS + 1)
    found: list[list[GapBlock]] = [[] for _ in days]
    for gap in gaps:
        start, end = max(int(gap.start.timestamp()), first), min(int(gap.end.timestamp()), last)
        if start >= end:
            continue
        for piece in cut(start, end, days):
            found[piece.index].append(
                GapBlock(piece.start, piece.end, gap.requirement, gap.required, gap.available)
            )
    return tuple(
        Day(day.day, day.minutes, tuple(sorted(blocks, key=_gap_order)))
        for day, blocks in zip(days, found, strict=True)
    )


def _gap_order(gap: GapBlock) -> tuple[int, bool, str]:
    return gap.start, gap.requirement != "overall", gap.requirement


def _now(now: datetime | None, days: tuple[LocalDay, ...]) -> tuple[int, int] | None:
    if now is None:
        return None
    moment = int(now.timestamp())
    for index, day in enumerate(days):
        minute = day.minute_of(moment)
        if minute is not None:
            return index, minute
    return None


def days_text(days: Sequence[int]) -> str:
    """mon–fri, sat sun, sun–wed: runs of three or more days as a range."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == len(DAYS) - 1:
        runs[0] = runs.pop() + runs[0]  # sun–wed: a run may go on over the weekend
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}–{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[d] for d in run)
    return " ".join(parts)


def _shift_label(shift: Shift) -> str:
    return (
        f"{days_text(shift.days)} {format_clock(shift.start)}–{format_clock(shift.end)} "
        f"{shift.timezone}"
    )


def _window(override: Override) -> str:
    return f"{format_local(override.start)}–{format_local(override.end)} {override.timezone}"


def _override_label(override: Override) -> str:
    label = _window(override)
    if override.replaces:
        label += f", instead of {', '.join(override.replaces)}"
    return f"{label}: {override.note}" if override.note else label


def _off_label(roster: Roster, override: Override) -> str:
    who = roster.by_id.get(override.counselor)
    return f"off: {who.name if who else override.counselor} covers {_window(override)}"
