"""The contact log (issue 20): the admin page filters contacts by date range,
channel, language, outcome, counselor and disposition; each opens its story;
the same filter downloads as CSV that round-trips through Python's csv with
the same counts; no number ever, a note only for an admin (audited); a bad
field is refused beside it."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis
from flask.testing import FlaskClient

from ivr.contacts.records import Contacts, WrapUp, WrapUpLists
from ivr.operators.accounts import Accounts
from ivr.operators.audit import AuditLog
from tests.admin.login import log_in

LISTS = WrapUpLists(frozenset({"withdrawal", "emotional_support"}), frozenset({"low"}), frozenset())
TODAY = datetime.now(UTC).date().isoformat()


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
    assert sorted(r["channel"] for r in rows) == ["call", "call", "call", "callback", "text"]
    assert "note" not in rows[0]  # a viewer's notes=1 is ignored
    admin = client.application.test_client()
    assert log_in(admin, "sam") == 302
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


def test_the_monthly_page_shows_the_month_and_its_change_from_the_one_before(
    client: FlaskClient, redis_client: redis.Redis, people: Accounts
) -> None:
    store = Contacts(redis_client, 86400 * 400)
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
