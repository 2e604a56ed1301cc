"""The contact log (issue 20): the admin page filters contacts by date range,
channel, language, outcome, counselor and disposition; each opens its story;
the same filter downloads as CSV that round-trips through Python's csv with
the same counts; no number ever, a note only for an admin (audited); a bad
field is refused beside it. Days and times are the line's own zone's; a page
holds the newest 100 matches, "Older" going on from there."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ivr.cli.main import main
from ivr.contacts import log
from ivr.contacts.log import ContactFilter, Place, count_if_cheap, log_page, oldest_first
from ivr.contacts.records import Contacts, WrapUp, WrapUpLists
from ivr.contacts.tallies import TALLIED, VERSION
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from tests.admin.login import log_in
from tests.conftest import RedisServer, cli_environment

LISTS = WrapUpLists(frozenset({"withdrawal", "emotional_support"}), frozenset({"low"}), frozenset())
LINE_ZONE = ZoneInfo("America/New_York")  # the tests' line: HELPLINE_TIMEZONE's default
TODAY = datetime.now(LINE_ZONE).date().isoformat()
FOREVER = 100 * 365 * 86400  # a retention (seconds) no run of these tests outlives


def some_contacts(client: redis.Redis) -> dict[str, str]:
    store = Contacts(client, 86400)
    now = time.time()
    made = {}
    for source, channel, language, outcome, counselor in [
        ("call:CA1", "call", "en", "answered", "alex"),
        ("call:CA2", "call", "es", "abandoned", ""),
        ("call:CA3", "call", "en", "voicemail", ""),
        ("thread:TX-1", "text", "es", "conversation", "blanca"),
        ("callback:CB-1", "callback", "en", "answered", "alex"),
    ]:
        made[source], _ = store.record(
            source, channel=channel, language=language, started=now - 300, ended=now - 60,
            outcome=outcome, counselor=counselor, answered=now - 240 if counselor else None,
        )  # fmt: skip
    store.wrap_up(
        made["call:CA1"], "alex", WrapUp(("withdrawal",), "low", (), "shaky; call Friday"), LISTS
    )
    return made


def test_the_log_filters_and_opens_each_contact(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    made = some_contacts(redis_client)
    assert log_in(client, "val") == 302  # a viewer reads the log
    page = client.get("/admin/contacts").get_data(as_text=True)
    assert "5 contacts" in page
    calls_in_english = client.get(
        "/admin/contacts", query_string={"channel": "call", "language": "en"}
    ).get_data(as_text=True)
    assert "2 contacts" in calls_in_english
    by_alex = client.get("/admin/contacts", query_string={"counselor": "alex"}).get_data(
        as_text=True
    )
    assert made["call:CA1"] in by_alex
    assert made["callback:CB-1"] in by_alex
    assert made["call:CA2"] not in by_alex
    withdrawal = client.get("/admin/contacts", query_string={"disposition": "withdrawal"})
    assert "1 contact<" in withdrawal.get_data(as_text=True)
    story = client.get(f"/admin/contacts/{made['call:CA1']}").get_data(as_text=True)
    assert "answered by <strong>alex</strong>" in story
    assert "Withdrawal symptoms" in story  # the code's label from flows/wrapup.yaml
    assert "call Friday" not in story  # a viewer never reads a note
    assert "admins can read it" in story


def test_a_bad_field_is_refused_beside_it(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    assert log_in(client, "val") == 302
    answer = client.get("/admin/contacts", query_string={"from": "07/12/2026", "channel": "fax"})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "from: write a date as YYYY-MM-DD" in page
    assert "channel: not one of call, text, callback" in page
    assert client.get("/admin/contacts.csv", query_string={"to": "tomorrow"}).status_code == 422


def test_the_csv_round_trips_with_the_same_counts_and_a_note_only_for_an_admin(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    some_contacts(redis_client)
    assert log_in(client, "val") == 302
    answer = client.get("/admin/contacts.csv", query_string={"from": TODAY, "notes": "1"})
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    page = client.get("/admin/contacts", query_string={"from": TODAY}).get_data(as_text=True)
    assert f"{len(rows)} contacts" in page
    assert 'id="csv-notes"' not in page  # offered to admins only
    assert sorted(r["channel"] for r in rows) == ["call", "call", "call", "callback", "text"]
    assert "note" not in rows[0]  # a viewer's notes=1 is ignored
    admin = client.application.test_client()
    assert log_in(admin, "sam") == 302
    by_alex = admin.get("/admin/contacts", query_string={"counselor": "alex"})
    offered = by_alex.get_data(as_text=True)
    assert 'href="/admin/contacts.csv?' in offered
    assert "counselor=alex&amp;notes=1" in offered  # the page's filter, with the notes
    noted = admin.get("/admin/contacts.csv", query_string={"notes": "1", "counselor": "alex"})
    rows = list(csv.DictReader(io.StringIO(noted.get_data(as_text=True))))
    assert [r["note"] for r in rows if r["note"]] == ["shaky; call Friday"]
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action) == ("web:sam", "contacts.export_notes")


def test_the_reports_page_counts_the_contacts_in_the_lines_zone(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    some_contacts(redis_client)
    assert log_in(client, "val") == 302
    page = client.get("/admin/reports").get_data(as_text=True)
    assert "in America/New_York" in page
    assert "<th>Contacts</th><td>5</td>" in page
    assert "no contacts" in page  # the other days of the month: empty, not 0 %
    assert "Withdrawal symptoms: 1" in page
    answer = client.get("/admin/reports", query_string={"from": "2026-13-40"})
    assert answer.status_code == 422
    assert "from: write a date as YYYY-MM-DD" in answer.get_data(as_text=True)


def test_partial_figures_say_so_while_another_process_recounts(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    """The first report after an upgrade: another process holds the recount;
    this one shows what is counted so far, and says so, printed too."""
    some_contacts(redis_client)
    redis_client.delete(f"{TALLIED}:{VERSION}")
    redis_client.set(f"{TALLIED}:{VERSION}:recounting", "another process", ex=60)
    assert log_in(client, "val") == 302
    for path in ("/admin/reports", "/admin/reports/monthly"):
        assert 'id="partial"' in client.get(path).get_data(as_text=True)
    redis_client.delete(f"{TALLIED}:{VERSION}:recounting")
    page = client.get("/admin/reports").get_data(as_text=True)  # this one recounts
    assert 'id="partial"' not in page
    assert "<th>Contacts</th><td>5</td>" in page


def test_the_monthly_page_shows_the_month_and_its_change_from_the_one_before(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    # Kept "forever": `record` trims what started before now - retention, and
    # these are of 2026 whenever the test runs.
    store = Contacts(redis_client, FOREVER)
    zone = ZoneInfo("America/New_York")
    for n, (month, outcome) in enumerate(
        [(10, "answered"), (11, "answered"), (11, "answered"), (11, "abandoned")]
    ):
        started = datetime(2026, month, 10, 14, 0, tzinfo=zone).timestamp()
        store.record(
            f"call:M{n}", channel="call", language="en", started=started, ended=started + 60,
            outcome=outcome, counselor="alex" if outcome == "answered" else "",
            answered=started + 5 if outcome == "answered" else None,
        )  # fmt: skip
    assert log_in(client, "val") == 302
    page = client.get("/admin/reports/monthly", query_string={"month": "2026-11"}).get_data(
        as_text=True
    )
    assert "November 2026" in page
    assert "change from October 2026" in page
    assert "<th>Contacts</th><td>3</td><td>+2</td>" in page
    assert "2 (67 %)" in page  # answered, and -33 points from October's 100 %
    assert "-33 pts" in page
    assert (
        client.get("/admin/reports/monthly", query_string={"month": "2026-13"}).status_code == 422
    )


def late_evening(days_ago: int) -> tuple[date, float]:
    """A local day some days back, and 23:30 on it in the line's zone (the
    next day already in UTC)."""
    day = datetime.now(LINE_ZONE).date() - timedelta(days=days_ago)
    moment = datetime(day.year, day.month, day.day, 23, 30, tzinfo=LINE_ZONE)
    assert datetime.fromtimestamp(moment.timestamp(), UTC).date() == day + timedelta(days=1)
    return day, moment.timestamp()


def test_the_log_is_of_the_lines_own_days_and_clock(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    day, started = late_evening(3)
    store = Contacts(redis_client, 86400 * 30)
    late, _ = store.record(
        "call:LATE", channel="call", language="en", started=started, ended=started + 120,
        outcome="abandoned",
    )  # fmt: skip
    assert log_in(client, "val") == 302
    that_day = client.get("/admin/contacts", query_string={"from": day, "to": day})
    page = that_day.get_data(as_text=True)
    assert that_day.status_code == 200
    assert "<h1>Contacts (America/New_York)</h1>" in page
    assert late in page
    assert f"{day.isoformat()} 23:30" in page  # its local time, not 03:30 the next day
    day_after = (day + timedelta(days=1)).isoformat()
    next_day = client.get("/admin/contacts", query_string={"from": day_after, "to": day_after})
    assert late not in next_day.get_data(as_text=True)
    assert "0 contacts" in next_day.get_data(as_text=True)
    assert late in client.get("/admin/contacts").get_data(as_text=True)  # the last 7 local days

    exported = client.get("/admin/contacts.csv", query_string={"from": day, "to": day})
    (row,) = csv.DictReader(io.StringIO(exported.get_data(as_text=True)))
    assert row["id"] == late
    assert row["started"] == datetime.fromtimestamp(started, LINE_ZONE).isoformat()
    assert row["started"].startswith(f"{day.isoformat()}T23:30:00-0")  # -04:00 or -05:00
    assert datetime.fromisoformat(row["started"]).timestamp() == started  # the same instant
    later = client.get("/admin/contacts.csv", query_string={"from": day_after, "to": day_after})
    assert len(list(csv.DictReader(io.StringIO(later.get_data(as_text=True))))) == 0

    story = client.get(f"/admin/contacts/{late}").get_data(as_text=True)
    assert "Times in America/New_York" in story
    assert f"{day.isoformat()} 23:30 — call began" in story


def calls_and_texts(client: redis.Redis) -> dict[str, set[str]]:
    """250 calls and 50 texts over the last hours, in threes started at the
    same moment (ties the order must still keep apart), and 30 of them at one
    moment across where the first page ends (the 100th call is in there)."""
    store = Contacts(client, 86400 * 30)
    now = time.time()
    made: dict[str, set[str]] = {"call": set(), "text": set()}
    for n in range(300):
        channel = "text" if n % 6 == 0 else "call"
        moment = 35 if 105 <= n < 135 else n // 3
        started = now - 3600 - moment * 7.25
        contact_id, _ = store.record(
            f"test:{n}", channel=channel, language="en", started=started, ended=started + 60,
            outcome="abandoned" if channel == "call" else "unanswered",
        )  # fmt: skip
        made[channel].add(contact_id)
    assert (len(made["call"]), len(made["text"])) == (250, 50)
    return made


def test_a_page_is_the_newest_matches_read_in_batches_and_older_goes_on_from_it(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "BATCH", 7)  # many batches; the tie of 30 longer than one
    made = calls_and_texts(redis_client)
    store = Contacts(redis_client, 86400 * 30)
    now = time.time()
    calls = ContactFilter(now - 86400, now + 1, channel="call")
    pages = []
    before: Place | None = None
    while True:
        page = log_page(redis_client, store, calls, before)
        pages.append(page.contacts)
        if page.older is None:
            break
        assert page.older == Place(page.contacts[-1].started, page.contacts[-1].id)
        before = Place.parse(page.older.text())
    assert [len(p) for p in pages] == [100, 100, 50]
    assert pages[0][-1].started == pages[1][0].started  # the first page ended within a tie
    shown = [c for p in pages for c in p]
    assert len({c.id for c in shown}) == 250  # none twice
    assert {c.id for c in shown} == made["call"]  # none skipped, no text
    order = [(c.started, c.id) for c in shown]
    assert order == sorted(order, reverse=True)  # newest first, ties by id
    oldest = [c.id for c in oldest_first(redis_client, store, calls)]
    assert oldest == [c.id for c in reversed(shown)]
    everything = ContactFilter(now - 86400, now + 1)
    assert count_if_cheap(redis_client, everything) == 300
    assert count_if_cheap(redis_client, calls) is None  # every one would have to be read
    assert log_page(redis_client, store, everything, size=300).older is None
    assert len(log_page(redis_client, store, everything, size=299).contacts) == 299


def test_a_place_reads_back_and_refuses_anything_else() -> None:
    place = Place(1752350000.1234567, "CT-ABC234")
    assert Place.parse(place.text()) == place
    for bad in ("", "garbage", "1752350000", "nan:CT-ABC234", "1e999:CT-ABC234",
                "1.2.3:CT-ABC234", "-5:CT-ABC234", "5:CT ABC", "5:",
                # finite, but no moment of the log's years (2000 to 2100)
                "9.9e15:CT-ABC234", "1e300:CT-ABC234", "0:CT-ABC234",
                "4.2e9:CT-ABC234"):  # fmt: skip
        with pytest.raises(ValueError, match="not a place in the log"):
            Place.parse(bad)


def ids_in(page: str) -> list[str]:
    return re.findall(r'href="/admin/contacts/(CT-[A-Z0-9]+)"', page)


def older_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" id="older"', page)
    return html.unescape(found[1]) if found else None


def test_the_page_shows_a_hundred_and_older_carries_the_filter(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    made = calls_and_texts(redis_client)
    assert log_in(client, "val") == 302
    everything = client.get("/admin/contacts").get_data(as_text=True)
    assert '<span id="contact-count">300 contacts</span>' in everything  # counted by the zset
    assert "100 shown, the newest" in everything
    assert len(ids_in(everything)) == 100
    link: str | None = "/admin/contacts?channel=call"
    pages = []
    while link is not None:
        answer = client.get(link)
        assert answer.status_code == 200
        page = answer.get_data(as_text=True)
        pages.append(ids_in(page))
        link = older_link(page)
        if link is not None:
            assert "channel=call" in link
            assert f"from={(datetime.now(LINE_ZONE).date() - timedelta(days=6))}" in link
    assert [len(p) for p in pages] == [100, 100, 50]
    shown = [i for p in pages for i in p]
    assert len(set(shown)) == 250
    assert set(shown) == made["call"]
    assert 'id="newest"' in page  # the last page leads back to the newest
    assert "contact-count" not in page  # how many calls: not counted (it would read them all)


def test_a_bad_place_to_go_on_from_is_refused_beside_the_filter(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    made = some_contacts(redis_client)
    assert log_in(client, "val") == 302
    for bad in (
        "yesterday",
        "1e999:CT-ABC234",
        "12:CT-ABC234'><script>",
        "9.9e15:abc",
        "1e300:abc",
    ):
        answer = client.get("/admin/contacts", query_string={"before": bad, "channel": "call"})
        assert answer.status_code == 422
        page = answer.get_data(as_text=True)
        assert "before: not a place in this log; start again from the newest" in page
        assert "<script>" not in page
        assert made["call:CA1"] in page  # the newest instead
        assert made["thread:TX-1"] not in page  # the filter still holds


def test_the_cli_export_takes_the_logs_filter(
    redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path
) -> None:
    made = some_contacts(redis_client)
    day, started = late_evening(2)
    late, _ = Contacts(redis_client, 86400 * 30).record(
        "call:LATE", channel="call", language="en", started=started, ended=started + 120,
        outcome="abandoned",
    )  # fmt: skip
    env = {**cli_environment(redis_server.url, tmp_path), "LOGNAME": "dana"}

    def export(*options: str) -> list[dict[str, str]]:
        done = CliRunner().invoke(main, ["contacts", "export", *options], env=env)
        assert done.exit_code == 0, done.output
        return list(csv.DictReader(io.StringIO(done.output)))

    assert len(export()) == 6
    assert [r["id"] for r in export("--from", day.isoformat(), "--to", day.isoformat())] == [late]
    spanish = export("--from", TODAY, "--language", "es", "--outcome", "abandoned")
    assert [r["id"] for r in spanish] == [made["call:CA2"]]
    by_alex = export("--counselor", "alex", "--disposition", "withdrawal", "--notes")
    assert [(r["id"], r["note"]) for r in by_alex] == [(made["call:CA1"], "shaky; call Friday")]
    entry = AuditLog(redis_client).recent(1)[0]
    assert (entry.who, entry.action) == ("cli:dana", "contacts.export_notes")
    assert "counselor alex, disposition withdrawal" in entry.target
    assert len(export("--hours", "1")) == 5  # not the late one, days ago
    both = CliRunner().invoke(main, ["contacts", "export", "--hours", "1", "--from", TODAY],
                              env=env)  # fmt: skip
    assert both.exit_code == 2
    assert "--hours or --from/--to, not both" in both.output
    bad = CliRunner().invoke(main, ["contacts", "export", "--to", "2026-02-30"], env=env)
    assert bad.exit_code == 2
    assert "to: write a date as YYYY-MM-DD" in bad.output


def test_a_place_past_the_range_is_not_said_to_be_gone_on_from(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    """A place the walk passes over (past the range's end) is not printed as
    "older than ...": the page is the newest, and counted as such."""
    made = some_contacts(redis_client)
    assert log_in(client, "val") == 302
    future = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
    answer = client.get(
        "/admin/contacts", query_string={"before": f"{future!r}:CT-X", "channel": "call"}
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "older than" not in page
    assert "2099-12-31" not in page
    assert '<span id="contact-count">3 contacts</span>' in page  # all on this, the newest page
    assert made["call:CA1"] in page


def test_days_outside_the_logs_years_are_refused_by_the_reports_too(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    """The reports read their days as the log does (2000 to 2100): a year far
    out is a message beside the field, not an overflow."""
    assert log_in(client, "val") == 302
    for first, last in [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")]:
        answer = client.get("/admin/reports", query_string={"from": first, "to": last})
        assert answer.status_code == 422, (first, last)
        page = answer.get_data(as_text=True)
        assert "from: a day from 2000-01-01 to 2100-12-31" in page
        assert "to: a day from 2000-01-01 to 2100-12-31" in page
    for first, last in [("2000-01-01", "2000-01-02"), ("2100-12-30", "2100-12-31")]:
        answer = client.get("/admin/reports", query_string={"from": first, "to": last})
        assert answer.status_code == 200, (first, last)
    too_long = client.get("/admin/reports", query_string={"from": "2026-01-01", "to": "2027-02-06"})
    assert too_long.status_code == 422
    assert "to: on or after from, and at most 400 days later" in too_long.get_data(as_text=True)
    for month in ("2000-01", "2100-12"):
        answer = client.get("/admin/reports/monthly", query_string={"month": month})
        assert answer.status_code == 200, month
    for month in ("1999-12", "2101-01", "9999-12", "0000-00", "２０２６-11", "2026-1", "soon"):
        answer = client.get("/admin/reports/monthly", query_string={"month": month})
        assert answer.status_code == 422, month
        assert "month: write it as YYYY-MM" in answer.get_data(as_text=True)


def roster_people(client: redis.Redis) -> dict[str, str]:
    """Contacts of counselors and languages written as a roster may write
    them: an id with capitals, a language with a region."""
    store = Contacts(client, 86400)
    now = time.time()
    made = {}
    for source, language, counselor in [
        ("call:PT", "pt-BR", "Maria"),
        ("call:EN", "en", "Maria"),
        ("call:OTHER", "pt-BR", "Alex.Smith-2"),
    ]:
        made[source], _ = store.record(
            source, channel="call", language=language, started=now - 300, ended=now - 60,
            outcome="answered", counselor=counselor, answered=now - 240,
        )  # fmt: skip
    return made


def test_the_filter_takes_the_rosters_ids_and_languages(
    client: FlaskClient,
    redis_client: redis.Redis,
    redis_server: RedisServer,
    people: Accounts,
    tmp_path: Path,
) -> None:
    made = roster_people(redis_client)
    query = {"counselor": "Maria", "language": "pt-BR"}
    assert log_in(client, "val") == 302
    answer = client.get("/admin/contacts", query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert ids_in(answer.get_data(as_text=True)) == [made["call:PT"]]
    exported = client.get("/admin/contacts.csv", query_string=query)
    assert exported.status_code == 200
    assert [r["id"] for r in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))] == [
        made["call:PT"]
    ]
    dotted = client.get("/admin/contacts", query_string={"counselor": "Alex.Smith-2"})
    assert ids_in(dotted.get_data(as_text=True)) == [made["call:OTHER"]]
    for field, bad in [("counselor", "Maria Silva"), ("counselor", "-maria"),
                       ("language", "PT-br"), ("language", "portuguese")]:  # fmt: skip
        refused = client.get("/admin/contacts", query_string={field: bad})
        assert refused.status_code == 422, (field, bad)
        assert f"{field}: " in refused.get_data(as_text=True)
    env = cli_environment(redis_server.url, tmp_path)
    done = CliRunner().invoke(
        main, ["contacts", "export", "--counselor", "Maria", "--language", "pt-BR"], env=env
    )
    assert done.exit_code == 0, done.output
    assert [r["id"] for r in csv.DictReader(io.StringIO(done.output))] == [made["call:PT"]]


# Values no operator means, for every field of the log's and the reports'
# queries: out-of-range years, impossible days, other scripts' digits, very
# long text, NUL bytes, numbers too large for a moment.
HOSTILE = [
    "9999-12-31", "9999-12-30", "0001-01-01", "0000-00-00", "-0001-01-01", "+20260-01-01",
    "99999-01-01", "2026-02-30", "２０２６-01-01", "2026-01-0١", "2026-01-01\x00", "\x00",
    "9999-12", "0000-00", "0001-01", "２０２６-11", "2026-13",
    "9.9e15:abc", "1e300:abc", "1e999:CT-1", "-1:abc", "nan:abc", "0:CT-1", "1e-300:CT-1",
    "1" * 5000, "x" * 100_000, "é" * 1000, "Alex", "pt-BR", "ＡＬＥＸ", " ", "%00", "true", "1",
]  # fmt: skip
QUERIES = {
    "/admin/reports": ("from", "to"),
    "/admin/reports/monthly": ("month",),
    "/admin/contacts": ("from", "to", *log.FIELDS, "before"),
    "/admin/contacts.csv": ("from", "to", *log.FIELDS, "notes"),
    "/api/v1/contacts.csv": ("from", "to", *log.FIELDS, "notes"),
}
RAW_QUERIES = [
    "from=9999-12-30&to=9999-12-31",  # a range, in order, of a year far out
    "from=0001-01-01&to=0001-01-02",
    "from=2026-01-01&from=9999-12-31&to=0001-01-01&to=2026-01-02",  # repeated
    "month=2026-01&month=9999-99",
    "before=1e300:abc&before=1:CT-1",
    "from=%ff%fe&to=%c0%80",  # not UTF-8
    "%00=%00&from=2026-01-01%00",
]

NAMED = re.compile(r"\b(from|to|month|before|channel|language|outcome|counselor|disposition): ")


@pytest.mark.parametrize("path", sorted(QUERIES))
def test_no_query_however_hostile_is_answered_with_a_500(
    path: str, client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    assert log_in(client, "sam") == 302
    headers = {}
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {people.create_token('ada', 'admin')[1]}"}
    asked: list[str | dict[str, str]] = [
        {field: value} for field in QUERIES[path] for value in HOSTILE
    ]
    for query in [*asked, *RAW_QUERIES]:
        answer = client.get(path, query_string=query, headers=headers)
        assert answer.status_code in (200, 422), (path, query, answer.status_code)
        if answer.status_code == 422 and answer.mimetype == "text/html":
            assert NAMED.search(answer.get_data(as_text=True)), (path, query)  # beside its field
        answer.close()  # a streamed CSV read no further


def test_the_reports_are_their_own_module_at_the_same_addresses(app: Flask) -> None:
    """The log's module keeps the log; the reports' pages are report_pages',
    at the addresses and endpoint names they always had."""
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["admin.reports"] == "/admin/reports"
    assert rules["admin.monthly"] == "/admin/reports/monthly"
    for endpoint in ("admin.reports", "admin.monthly"):
        assert app.view_functions[endpoint].__module__ == "ivr.web.admin.report_pages"
    for endpoint in ("admin.contacts", "admin.contacts_csv", "admin.contact"):
        assert app.view_functions[endpoint].__module__ == "ivr.web.admin.contact_pages"
