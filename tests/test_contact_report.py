"""Figures from contacts in the line's own zone (issue 20): local days across
a DST change, hours of day, the service level, empty days shown empty, and
the roster's counselors on call by hour. Contacts are recorded in a real
Redis and the report is read from their quarter-hour tallies, as the page
reads it."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.contacts.days import local_range, read_report_days
from ivr.contacts.records import Contacts, WrapUp, WrapUpLists
from ivr.contacts.report import Report, build, hours_seen, on_call_by_hour
from tests.conftest import RedisServer, cli_environment

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)
KEPT = 3 * 365 * 86400  # so that March 2026 is still kept
LISTS = WrapUpLists(frozenset({"withdrawal"}), frozenset({"low"}), frozenset({"988"}))


def record(
    store: Contacts, n: int, at: datetime, outcome: str = "answered", waited: float = 10
) -> str:
    started = at.timestamp()
    answered = started + waited if outcome == "answered" else None
    contact_id, _ = store.record(
        f"dispatch:{n}", channel="call", language="en", started=started, answered=answered,
        ended=started + 120, counselor="alex" if answered else "", outcome=outcome,
    )  # fmt: skip
    if answered:
        store.wrap_up(contact_id, "alex", WrapUp(("withdrawal",), "low", ("988",)), LISTS)
    return contact_id


def read(store: Contacts, first: date, last: date, zone: str = ZONE) -> Report:
    start, end = local_range(zone, first, last)
    core, detail = store.tallies.core_between(start, end), store.tallies.detail_between(start, end)
    return build(core, detail, zone, first, last)


def test_local_days_across_the_spring_forward_and_hours_in_the_zone(
    redis_client: redis.Redis,
) -> None:
    store = Contacts(redis_client, KEPT)
    # 2026-03-08: New York springs forward at 02:00 (a 23-hour day).
    record(store, 1, datetime(2026, 3, 7, 23, 30, tzinfo=TZ))
    record(store, 2, datetime(2026, 3, 8, 0, 30, tzinfo=TZ), "abandoned")
    record(store, 3, datetime(2026, 3, 8, 3, 15, tzinfo=TZ), waited=45)
    record(store, 4, datetime(2026, 3, 8, 23, 45, tzinfo=TZ), "voicemail")
    record(store, 5, datetime(2026, 3, 10, 9, 0, tzinfo=TZ), waited=90)
    first, last = date(2026, 3, 7), date(2026, 3, 10)
    report = read(store, first, last)
    assert [b.offered for b in report.days.values()] == [1, 3, 0, 1]
    sunday = report.days[date(2026, 3, 8)]
    assert (sunday.answered, sunday.abandoned, sunday.missed) == (1, 1, 1)
    assert report.days[date(2026, 3, 9)].rate(0) is None  # an empty day is empty, not 0 %
    assert report.hours[3].offered == 1  # 03:15 local, after the jump
    assert report.hours[23].offered == 2
    assert report.weekdays[6].offered == 3  # Sunday
    total = report.total
    assert (total.within[20], total.within[60], total.answered) == (1, 2, 3)
    assert total.service_level(20) == 1 / 5
    assert total.mean_wait == (10 + 45 + 90) / 3
    assert report.dispositions["withdrawal"] == 3
    assert report.referrals["988"] == 3
    assert report.by_counselor == {"alex": 3}
    assert report.by_channel == {"call": 5}
    start, end = local_range(ZONE, date(2026, 3, 8), date(2026, 3, 8))
    assert end - start == 23 * 3600


def test_a_day_outside_the_range_is_not_counted(redis_client: redis.Redis) -> None:
    store = Contacts(redis_client, KEPT)
    record(store, 1, datetime(2026, 3, 7, 23, 59, tzinfo=TZ))
    record(store, 2, datetime(2026, 3, 8, 0, 0, tzinfo=TZ))
    day = date(2026, 3, 8)
    report = read(store, day, day)
    assert report.total.offered == 1
    # The detail too: the wrap-up and channel of the 7th's contact stay out.
    assert (report.dispositions["withdrawal"], report.by_channel["call"]) == (1, 1)


def test_the_fall_back_day_has_25_hours_and_its_1_am_twice(redis_client: redis.Redis) -> None:
    store = Contacts(redis_client, KEPT)
    day = date(2026, 11, 1)
    first_one = datetime(2026, 11, 1, 1, 30, tzinfo=TZ)  # EDT
    second_one = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=TZ)  # EST, an hour later
    assert second_one.timestamp() - first_one.timestamp() == 3600
    record(store, 1, first_one)
    record(store, 2, second_one, "abandoned")
    record(store, 3, datetime(2026, 11, 1, 23, 50, tzinfo=TZ))
    report = read(store, day, day)
    start, end = local_range(ZONE, day, day)
    assert end - start == 25 * 3600
    assert report.days[day].offered == 3
    assert (report.hours[1].offered, report.hours[23].offered) == (2, 1)
    assert hours_seen(ZONE, day, day)[1] == 2


def test_counselors_on_call_by_hour_of_day_from_the_roster() -> None:
    # A roster stand-in: two counselors 09:00-17:00 local, one more 12:00-12:30.
    def on_call(moment: float) -> list[str]:
        local = datetime.fromtimestamp(moment, TZ)
        minutes = local.hour * 60 + local.minute
        found = ["a", "b"] if 9 * 60 <= minutes < 17 * 60 else []
        return found + (["c"] if 12 * 60 <= minutes < 12 * 60 + 30 else [])

    def boundaries(start: int, end: int) -> list[int]:
        return [start] + [
            m for m in range(start - start % 60 + 60, end, 60) if on_call(m) != on_call(m - 1)
        ]

    first, last = date(2026, 3, 7), date(2026, 3, 9)  # the spring-forward in the middle
    by_hour = on_call_by_hour(on_call, boundaries, ZONE, first, last)
    assert [by_hour[8], by_hour[9], by_hour[16], by_hour[17]] == [0, 2, 2, 0]
    assert by_hour[12] == 2.5  # the third counselor half of the hour
    assert by_hour[2] == 0  # 02:00 exists on two of the three days
    assert hours_seen(ZONE, first, last)[2] == 2
    assert hours_seen(ZONE, first, last)[3] == 3


def test_a_zone_half_an_hour_off_utc_gets_its_own_days_and_hours(
    redis_client: redis.Redis,
) -> None:
    # St. John's is UTC-3:30: its local hours start at :30 UTC, so the
    # tallies' quarters (not UTC hours) are what lets its days be exact.
    zone = "America/St_Johns"
    tz = ZoneInfo(zone)
    store = Contacts(redis_client, KEPT)
    record(store, 1, datetime(2026, 11, 2, 23, 50, tzinfo=tz))
    record(store, 2, datetime(2026, 11, 3, 0, 10, tzinfo=tz), "abandoned")
    report = read(store, date(2026, 11, 2), date(2026, 11, 3), zone)
    assert [b.offered for b in report.days.values()] == [1, 1]
    assert (report.hours[23].answered, report.hours[0].abandoned) == (1, 1)


def test_a_dst_change_half_way_through_a_utc_hour_puts_each_quarter_right(
    redis_client: redis.Redis,
) -> None:
    # St. John's springs forward at 02:00 NST, 05:30 UTC: in the UTC hour
    # 05:00-06:00 the first half is local 01:30-02:00, the second 03:00-03:30.
    zone = "America/St_Johns"
    tz = ZoneInfo(zone)
    store = Contacts(redis_client, KEPT)
    before = datetime(2026, 3, 8, 1, 50, tzinfo=tz)
    after = datetime(2026, 3, 8, 3, 10, tzinfo=tz)
    assert int(before.timestamp()) // 3600 == int(after.timestamp()) // 3600  # one UTC hour
    record(store, 1, before)
    record(store, 2, after)
    day = date(2026, 3, 8)
    report = read(store, day, day, zone)
    assert (report.hours[1].offered, report.hours[2].offered, report.hours[3].offered) == (1, 0, 1)


def test_helpline_report_says_what_the_page_says(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """The reports page in a terminal, for when the web is down: the same
    figures from the same tallies, in the line's zone, as text and as JSON;
    bad days refused by option."""
    store = Contacts(redis_client, 30 * 86400)
    today = datetime.now(TZ).date()
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=TZ)  # today, whenever run
    record(store, 1, noon, waited=8)
    record(store, 2, noon + timedelta(minutes=1), "abandoned")
    record(store, 3, noon - timedelta(days=2), "voicemail")
    env = {**cli_environment(redis_server.url, tmp_path), "HELPLINE_TIMEZONE": ZONE}
    shown = CliRunner().invoke(main, ["report"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"Contacts {today - timedelta(days=29)} to {today} ({ZONE})" in shown.output
    assert "3 contacts · answered 1 (33%) · abandoned 1 (33%) · missed 1 (33%)" in shown.output
    assert "calls 3: answered within 20 s 33%, within 60 s 33%; average wait 8 s" in shown.output
    as_json = CliRunner().invoke(
        main, ["report", "--json", "--from", str(today), "--to", str(today)], env=env
    )
    figures = json.loads(as_json.output)
    page = read(store, today, today)
    assert figures["total"]["offered"] == page.total.offered == 2
    assert figures["total"]["calls_within_20s"] == page.total.within[20] == 1
    assert figures["dispositions"] == dict(page.dispositions) == {"withdrawal": 1}
    assert len(figures["hours"]) == 24
    for bad in (
        ["--from", "9999-12-30"],
        ["--month", "2026-13"],
        ["--month", "2026-11", "--to", "2026-11-02"],
    ):
        refused = CliRunner().invoke(main, ["report", *bad], env=env)
        assert refused.exit_code == 2, (bad, refused.output)


def test_a_report_asked_only_where_to_end_takes_the_month_before_it() -> None:
    today = date(2026, 12, 7)
    first, last, errors = read_report_days({"to": "2026-03-31"}, today)
    assert (first, last, errors) == (date(2026, 3, 2), date(2026, 3, 31), {})
    first, last, errors = read_report_days({"from": "2025-01-01", "to": "2026-12-01"}, today)
    assert set(errors) == {"to"}  # over 400 days: the default range, said why
    assert (first, last) == (date(2026, 11, 8), today)
