"""The contact log's filter (issue 20): which contacts a page, an export or
a report shows — by date range, channel, language, outcome, counselor and
disposition. Every field is optional; an empty filter is every contact in
the range.

The range is of days in the line's own time zone (`read_filter`), the same
for the admin page, the API and the CLI. A line keeps up to a year of
contacts (100,000 and more), so nothing here loads a range whole: a page is
read newest first from `contacts:by_start`, `records.BATCH` at a time, until
it holds `PAGE` matches (`log_page`), and an export walks the range oldest
first the same way (`oldest_first`)."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar, cast

import redis

from ivr.contacts.days import EARLIEST, LATEST, local_range, read_day
from ivr.contacts.records import BATCH, BY_START, CHANNELS, OUTCOMES, Contact, Contacts
from ivr.platform.redis_store import text
from ivr.roster.parse import COUNSELOR_ID, LANGUAGE

# Rows a page of the log shows: a shift's worth to read by eye, and a page
# that renders at once; older ones are a click away ("Older").
PAGE = 100
DEFAULT_DAYS = 7  # the log's range when none is asked for: the last week
FIELDS = ("channel", "language", "outcome", "counselor", "disposition")
# Days outside these are typing mistakes (and 9999-12-31's next day does not exist).
# The same as instants, a day wider either way (whatever the line's zone): a
# place in the log outside them was not written by `Place.text`.
EARLIEST_MOMENT = datetime.combine(EARLIEST - timedelta(days=1), time(), UTC).timestamp()
LATEST_MOMENT = datetime.combine(LATEST + timedelta(days=2), time(), UTC).timestamp()
# What each code field takes (an empty one is not asked for): counselors and
# languages as the roster writes them ("Maria", "pt-BR"), dispositions as
# codes; the API's query declares the same patterns.
CODES = {
    "language": LANGUAGE,
    "counselor": COUNSELOR_ID,
    "disposition": re.compile(r"[a-z0-9_.@-]{1,64}"),
}
_CODE_WRITTEN = {
    "language": "language: a language code, e.g. es or pt-BR",
    "counselor": "counselor: a roster id (letters, digits and _ . -)",
    "disposition": "disposition: letters, digits and _ . @ - only",
}
_PLACE = re.compile(r"([0-9][0-9.eE+-]{0,31}):([A-Za-z0-9_-]{1,64})")
T = TypeVar("T")


@dataclass(frozen=True)
class ContactFilter:
    start: float
    end: float
    channel: str = ""
    language: str = ""
    outcome: str = ""
    counselor: str = ""
    disposition: str = ""

    def matches(self, contact: Contact) -> bool:
        return (
            (not self.channel or contact.channel == self.channel)
            and (not self.language or contact.language == self.language)
            and (not self.outcome or contact.outcome == self.outcome)
            and (not self.counselor or contact.counselor == self.counselor)
            and (not self.disposition or self.disposition in contact.dispositions)
        )

    @property
    def by_time_only(self) -> bool:
        """No field asked for: every contact in the range matches."""
        return not any(getattr(self, name) for name in FIELDS)


@dataclass(frozen=True)
class Asked:
    """A filter as asked for (from a page's query, the API's, the CLI's options)."""

    wanted: ContactFilter
    first: date  # the first and last local days
    last: date
    fields: dict[str, str]  # from, to (ISO days) and each of FIELDS, bad ones emptied
    errors: dict[str, str]  # a message per bad field, under the field's name

    def description(self, span: str = "") -> str:
        """The filter in words, for the audit log: "2026-07-06 to 2026-07-12,
        channel call" (SPAN in place of the days: "the last 24 hours")."""
        span = span or f"{self.first.isoformat()} to {self.last.isoformat()}"
        named = [f"{name} {self.fields[name]}" for name in FIELDS if self.fields.get(name)]
        return ", ".join([span, *named])


def read_filter(raw: Mapping[str, str], zone: str, today: date, days: int = DEFAULT_DAYS) -> Asked:
    """The filter RAW asks for: `from` and `to` are days in ZONE (YYYY-MM-DD;
    by default the DAYS up to TODAY), the others codes. A bad field is named
    in `errors` and left out of the filter (the default range instead)."""
    errors: dict[str, str] = {}
    last = read_day(raw, "to", errors)
    first = read_day(raw, "from", errors)
    if last is None:
        last = max(today, first) if first is not None else today
    if first is None:
        first = last - timedelta(days=days - 1)
    if "from" not in errors and "to" not in errors and last < first:
        errors["to"] = "to: on or after from"
    if "from" in errors or "to" in errors:
        first, last = today - timedelta(days=days - 1), today
    fields = {name: raw.get(name, "") or "" for name in FIELDS}
    allowed = {"channel": ("", *CHANNELS), "outcome": ("", *OUTCOMES)}
    for name, value in fields.items():
        if name in allowed and value not in allowed[name]:
            errors[name] = f"{name}: not one of {', '.join(allowed[name][1:])}"
            fields[name] = ""
        elif name in CODES and value and not CODES[name].fullmatch(value):
            errors[name] = _CODE_WRITTEN[name]
            fields[name] = ""
    start, end = local_range(zone, first, last)
    shown = {"from": first.isoformat(), "to": last.isoformat(), **fields}
    return Asked(ContactFilter(start, end, **fields), first, last, shown, errors)


@dataclass(frozen=True)
class Place:
    """A contact's place in the log (its start, then its id: the order of
    `contacts:by_start`, ties included), where an "Older" page goes on from."""

    started: float
    id: str

    def text(self) -> str:
        return f"{self.started!r}:{self.id}"

    @classmethod
    def parse(cls, raw: str) -> Place:
        """A place as `text` wrote it; ValueError for anything else."""
        found = _PLACE.fullmatch(raw)
        try:
            started = float(found[1]) if found else math.nan
        except ValueError:  # "1.2.3"
            started = math.nan
        if found is None or not EARLIEST_MOMENT <= started <= LATEST_MOMENT:  # NaN too
            raise ValueError(f"not a place in the log: {raw!r}")
        return cls(started, found[2])


@dataclass(frozen=True)
class LogPage:
    contacts: list[Contact]  # newest first, at most the page's size
    older: Place | None  # the last one shown, when older matches follow; None at the end
    before: Place | None = None  # the place it went on from; None: the range's newest


def log_page(
    client: redis.Redis,
    store: Contacts,
    wanted: ContactFilter,
    before: Place | None = None,
    size: int = PAGE,
) -> LogPage:
    """The newest SIZE contacts WANTED that come after BEFORE (the last one
    the page before showed), reading batches newest first until the page is
    full, and one more match past it (so "Older" is offered only when there
    is an older one), or the range ends. A place past the range is not gone
    on from: the page is the range's newest (and says so, `before` None)."""
    if before is not None and not before.started < wanted.end:
        before = None
    shown: list[Contact] = []
    last: Place | None = None
    walk = _walk(client, store, wanted.start, wanted.end, newest=True, after=before, first=size + 1)
    for place, contact in walk:
        if not wanted.matches(contact):
            continue
        if len(shown) == size:
            return LogPage(shown, last, before)
        shown.append(contact)
        last = place
    return LogPage(shown, None, before)


def count_if_cheap(client: redis.Redis, wanted: ContactFilter) -> int | None:
    """How many contacts WANTED, when Redis can say without reading them (a
    filter by time only: the zset's count); None when every one would have to
    be read to know."""
    if not wanted.by_time_only:
        return None
    return int(client.zcount(BY_START, repr(wanted.start), f"({wanted.end!r}"))


def oldest_first(client: redis.Redis, store: Contacts, wanted: ContactFilter) -> Iterator[Contact]:
    """Every contact WANTED, oldest first, read a batch at a time: an export
    of a year never holds the year at once."""
    for _, contact in _walk(client, store, wanted.start, wanted.end, newest=False):
        if wanted.matches(contact):
            yield contact


def primed(items: Iterator[T]) -> Iterator[T]:
    """ITEMS with the first already taken: the first read from the store
    happens now, so an unreachable store is refused before an answer begins
    (not a 200 cut short)."""
    try:
        first = next(items)
    except StopIteration:
        return iter(())
    return itertools.chain([first], items)


def _walk(
    client: redis.Redis,
    store: Contacts,
    start: float,
    end: float,
    *,
    newest: bool,
    after: Place | None = None,
    first: int = 0,
) -> Iterator[tuple[Place, Contact]]:
    """Each contact that started in [START, END) with its place, newest or
    oldest first, BATCH ids (then their records) per round trip (FIRST, if
    smaller, the first time: a page's worth when all may match); with AFTER
    (newest first only), those that come after that place. Contacts whose
    record has expired are passed over.

    The range's bound moves to the last score read; the entries at exactly
    that score already read are skipped by count (ties are ordered by id
    within a score, so many contacts started at one moment are neither read
    twice nor skipped, however many)."""
    if after is not None and not after.started < end:
        after = None  # a place past the range: the range from its newest (as `log_page` says)
    if newest:
        bound, open_bound = (after.started, False) if after is not None else (end, True)
    else:
        bound, open_bound = start, False
    skip = 0  # entries at exactly BOUND already read
    limit = min(first, BATCH) if first > 0 else BATCH
    while True:
        edge = f"({bound!r}" if open_bound else repr(bound)
        if newest:
            read = client.zrevrangebyscore(
                BY_START, edge, repr(start), start=skip, num=limit, withscores=True
            )
        else:
            read = client.zrangebyscore(
                BY_START, edge, f"({end!r}", start=skip, num=limit, withscores=True
            )
        found = cast("list[tuple[bytes, float]]", read)
        places = [Place(score, text(member)) for member, score in found]
        if after is not None:
            places = [p for p in places if (p.started, p.id) < (after.started, after.id)]
        for place, contact in zip(places, store.many([p.id for p in places]), strict=True):
            if contact is not None:
                yield place, contact
        if len(found) < limit:
            return
        limit = BATCH
        last = found[-1][1]
        if last == bound and not open_bound:
            skip += len(found)  # a batch all at one moment: go on within it
        else:
            bound, open_bound = last, False
            skip = sum(1 for _, score in found if score == last)
