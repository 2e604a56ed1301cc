"""The week (`ivr.web.admin.calendar.WeekView`) laid out to be read at a glance:
a column per day on an hour scale, every block carrying its name and its
start–end times, none covering another.

Blocks that overlap in time sit side by side in lanes (gaps in cover first,
then counselors, each placed in the first lane free at its start), so a day
is as wide as its busiest moment needs. A block is drawn at least
`LABEL_MINUTES` tall, room for its two lines of text: a shorter one is marked
`short`, and its true times are what it says. The page makes a day column at
least `lanes` lane-widths wide and scrolls sideways when the week is wider
than the screen, so nothing is ever squeezed out of a block.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise

from ivr.roster.localtime import MINUTES_PER_DAY, format_clock
from ivr.roster.oncall import SUPERVISORS
from ivr.web.admin.calendar import Block, GapBlock, WeekView

LABEL_MINUTES = 60  # the least height drawn: room for a time and two lines of name
# As admin.css draws a block: an hour is 3rem tall, a line of text .75rem × 1.15,
# and the time line and the block's padding and borders take 1.3 lines.
LINES_PER_HOUR = 3 / (0.75 * 1.15)
TIME_AND_EDGES = 1.3
_KINDS = {"gap": "gap in cover", "shift": "shift", "override": "override", "off": "replaced (off)"}


@dataclass(frozen=True)
class Placed:
    kind: str  # "gap", "override", "shift" or "off"
    name: str  # the counselor's name, or what a gap is short of
    counselor: str  # the counselor's id; "" for a gap
    source: str  # the shift's or override's id; a gap's requirement
    start: int  # wall-clock minutes of the day, as said
    end: int
    top: int  # as drawn: at least LABEL_MINUTES tall, inside the day
    bottom: int
    lane: int
    about: str  # the whole story, for the tooltip
    from_before: bool = False
    goes_on: bool = False

    @property
    def times(self) -> str:
        return f"{format_clock(self.start)}–{format_clock(self.end)}"

    @property
    def short(self) -> bool:
        return self.end - self.start < LABEL_MINUTES

    @property
    def name_lines(self) -> int:
        """How many lines the name may wrap onto in the height drawn (at least
        2); a longer name ends in an ellipsis, and the tooltip has it whole."""
        room = (self.bottom - self.top) / 60 * LINES_PER_HOUR - TIME_AND_EDGES
        return max(2, int(room))

    @property
    def title(self) -> str:
        return f"{self.name}, {self.times} ({_KINDS[self.kind]}): {self.about}"


@dataclass(frozen=True)
class Column:
    date: date
    minutes: int  # how long the day really is (1380 or 1500 when clocks change)
    lanes: int
    blocks: tuple[Placed, ...]
    now: int | None = None  # the minute of the "now" line, when it is today


def columns(week: WeekView) -> tuple[Column, ...]:
    """Each day of the week with its blocks placed in lanes."""
    found = []
    for index, day in enumerate(week.days):
        gaps = _gaps(day.gaps)
        people = [
            _block(row.counselor.id, row.counselor.name, block)
            for row in week.rows
            for block in row.days[index]
        ]
        gap_lanes = _in_lanes(gaps, 0)
        lanes = _in_lanes(people, gap_lanes)
        placed = tuple(sorted(gaps + people, key=lambda p: (p.lane, p.top)))
        now = week.now[1] if week.now is not None and week.now[0] == index else None
        found.append(Column(day.date, day.minutes, lanes, placed, now))
    return tuple(found)


def _drawn(start: int, end: int) -> tuple[int, int]:
    """[top, bottom) as drawn: at least LABEL_MINUTES, kept inside the day."""
    bottom = max(end, start + LABEL_MINUTES)
    if bottom > MINUTES_PER_DAY:
        return MINUTES_PER_DAY - LABEL_MINUTES, MINUTES_PER_DAY
    return start, bottom


def _block(counselor: str, name: str, block: Block) -> Placed:
    top, bottom = _drawn(block.start, block.end)
    return Placed(
        block.kind, name, counselor, block.source, block.start, block.end, top, bottom, 0,
        block.label, block.from_before, block.goes_on,
    )  # fmt: skip


def _gaps(gaps: tuple[GapBlock, ...]) -> list[Placed]:
    """The day's gaps as one run of blocks, each saying what is short: where
    gaps overlap (too few on call at all, and nobody speaking Spanish) the
    time is cut where what is short changes, so they share a lane."""
    cuts = sorted({m for g in gaps for m in (g.start, g.end)})
    found: list[Placed] = []
    for start, end in pairwise(cuts):
        short = [g for g in gaps if g.start <= start and end <= g.end]
        if not short:
            continue
        if found and found[-1].end == start and _short_of(short) == found[-1].about:
            found[-1] = replace(found[-1], end=end, bottom=_drawn(found[-1].start, end)[1])
            continue
        top, bottom = _drawn(start, end)
        requirements = [g.requirement for g in short]
        # Too few on call at all says it all for callers; a language or a supervisor is named.
        overall = "overall" in requirements
        named = ", ".join("supervisor" if r == SUPERVISORS else r for r in requirements)
        name = "Gap" if overall else f"Gap: {named}"
        requirement = "overall" if overall else " ".join(requirements)
        found.append(
            Placed("gap", name, "", requirement, start, end, top, bottom, 0, _short_of(short))
        )
    return found


def _short_of(gaps: list[GapBlock]) -> str:
    """As the gap list says it: "0 of 1 needed on call; 0 of 1 needed speaking es"."""
    return "; ".join(f"{g.available} of {g.required} {_needed(g.requirement)}" for g in gaps)


def _needed(requirement: str) -> str:
    if requirement == SUPERVISORS:
        return "supervisors needed"
    return "needed on call" if requirement == "overall" else f"needed speaking {requirement}"


def _in_lanes(items: list[Placed], first: int) -> int:
    """Give each item (in place) the first lane from FIRST free at its top;
    returns the lane after the last one used (FIRST when there are none)."""
    ends: list[int] = []  # per lane: the bottom of its last item
    order = sorted(range(len(items)), key=lambda n: (items[n].top, items[n].bottom))
    for n in order:
        item = items[n]
        lane = next((k for k, end in enumerate(ends) if end <= item.top), len(ends))
        if lane == len(ends):
            ends.append(item.bottom)
        else:
            ends[lane] = item.bottom
        items[n] = replace(item, lane=first + lane)
    return first + len(ends)
