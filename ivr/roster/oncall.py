"""The questions the rest of the line asks of a roster: who is on call at an
instant, when the next counselor comes on, and when is the line short of cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from ivr.roster.localtime import from_epoch
from ivr.roster.model import Counselor, Coverage, Roster
from ivr.roster.schedule import schedule_of


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an instant needs a time zone (an aware datetime)")
    return moment.timestamp()


def who_is_on_call(roster: Roster, at: datetime) -> list[Counselor]:
    """The active counselors on call at `at` (aware; `fold` picks which of a
    repeated local hour), in routing order, overrides and `replaces` applied.
    Supervisors are not among them: they are never rung for a caller."""
    return [c for c in _on_call(roster, _epoch(at)) if not c.supervises]


def supervisors_on_call(roster: Roster, at: datetime) -> list[Counselor]:
    """The active supervisors on call at `at`, in routing order."""
    return [c for c in _on_call(roster, _epoch(at)) if c.supervises]


def _on_call(roster: Roster, moment: float) -> list[Counselor]:
    return [roster.by_id[i] for i in schedule_of(roster).on_call_ids(moment)]


def next_on_call(roster: Roster, at: datetime, language: str, within: timedelta) -> datetime | None:
    """The first instant after `at`, and no later than `within` after it, at
    which a counselor who speaks `language` comes on call (UTC), or None. One
    already on at `at` is not coming on: this answers "when does the next
    shift start", asked when nobody is on."""
    start = int(_epoch(at))
    end = int(_epoch(at + within)) + 1
    schedule = schedule_of(roster)

    def speakers(moment: int) -> set[str]:
        people = (roster.by_id[i] for i in schedule.on_call_ids(moment))
        return {p.id for p in people if not p.supervises and p.speaks(language)}

    before = speakers(start)
    for moment in schedule.boundaries(start, end)[1:]:  # [0] is `start` itself
        now = speakers(moment)
        if now - before:
            return from_epoch(moment)
        before = now
    return None


def prefer_language(counselors: Iterable[Counselor], language: str) -> list[Counselor]:
    """The same counselors, those who speak `language` first, order otherwise kept."""
    ordered = list(counselors)
    return [c for c in ordered if c.speaks(language)] + [
        c for c in ordered if not c.speaks(language)
    ]


@dataclass(frozen=True)
class Gap:
    """[start, end) in UTC during which fewer than `required` counselors (who
    speak `language`, or any when it is None) — or supervisors, when
    `language` is SUPERVISORS — are on call; `available` is the fewest there
    were at any point of it."""

    start: datetime
    end: datetime
    language: str | None
    required: int
    available: int

    @property
    def requirement(self) -> str:
        return "overall" if self.language is None else self.language

    @property
    def describe(self) -> str:
        """What was short, after "N of M": "needed anyone", "supervisors needed"."""
        if self.language == SUPERVISORS:
            return "supervisors needed"
        return "needed anyone" if self.language is None else f"needed speaking {self.language}"


SUPERVISORS = "supervisors"  # a Gap's `language` when the shortfall is in supervisors


def coverage_gaps(
    roster: Roster, start: datetime, days: int = 14, required: Coverage | None = None
) -> list[Gap]:
    """Every interval of the `days` from `start` that is short of cover, per
    requirement (overall, then each language), adjacent shortfalls merged;
    ordered by start. `required` defaults to the roster's own coverage."""
    needs: dict[str | None, int] = {}
    coverage = required if required is not None else roster.coverage
    if coverage.minimum > 0:
        needs[None] = coverage.minimum
    needs.update({lang: n for lang, n in sorted(coverage.languages.items()) if n > 0})
    if coverage.supervisors > 0:
        needs[SUPERVISORS] = coverage.supervisors
    first = int(_epoch(start))
    last = int(_epoch(start + timedelta(days=days)))
    if not needs or last <= first:
        return []
    schedule = schedule_of(roster)
    points = [*schedule.boundaries(first, last), last]
    gaps: list[Gap] = []
    open_gaps: dict[str | None, Gap] = {}
    for begin, end in pairwise(points):
        everyone = _on_call(roster, begin)
        people = [p for p in everyone if not p.supervises]
        for language, need in needs.items():
            if language == SUPERVISORS:
                have = len(everyone) - len(people)
            else:
                have = len(
                    people if language is None else [p for p in people if p.speaks(language)]
                )
            current = open_gaps.pop(language, None)
            if have >= need:
                if current is not None:
                    gaps.append(current)
                continue
            if current is None:
                current = Gap(from_epoch(begin), from_epoch(end), language, need, have)
            else:
                current = Gap(
                    current.start, from_epoch(end), language, need, min(have, current.available)
                )
            open_gaps[language] = current
    gaps.extend(open_gaps.values())
    order = {language: n for n, language in enumerate(needs)}
    return sorted(gaps, key=lambda g: (g.start, order[g.language]))
