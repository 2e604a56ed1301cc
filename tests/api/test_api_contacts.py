"""The contact log's CSV in the API (issue 20): the admin log's filter (days
in the line's zone, channel, language, outcome, counselor, disposition), the
same contacts as the JSON list, a note only for an admin's token who asks
(and that export audited as the page's is), a bad field named in a 422."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import redis
from flask.testing import FlaskClient

from ivr.contacts.records import Contacts
from ivr.operators.audit import AuditLog
from ivr.web.api.registry import openapi_document
from ivr.web.api.routes import PREFIX, VERSION
from tests.admin.test_contact_log import LINE_ZONE, late_evening, roster_people, some_contacts
from tests.api.conftest import Tokens


def rows_of(api: FlaskClient, tokens: Tokens, who: str, **query: str) -> list[dict[str, str]]:
    answer = api.get("/api/v1/contacts.csv", query_string=query, headers=tokens.header(who))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    assert answer.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def test_the_csv_has_the_json_lists_contacts_and_the_logs_filter(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    made = some_contacts(redis_client)
    listed = api.get("/api/v1/contacts", headers=tokens.header("viewer")).get_json()
    rows = rows_of(api, tokens, "viewer")
    assert len(rows) == len(listed) == 5
    assert sorted(r["id"] for r in rows) == sorted(c["id"] for c in listed)
    calls = api.get("/api/v1/contacts", query_string={"channel": "call"},
                    headers=tokens.header("viewer")).get_json()  # fmt: skip
    assert len(rows_of(api, tokens, "viewer", channel="call")) == len(calls) == 3
    spanish = rows_of(api, tokens, "viewer", language="es", outcome="abandoned")
    assert [r["id"] for r in spanish] == [made["call:CA2"]]
    by_alex = rows_of(api, tokens, "viewer", counselor="alex", disposition="withdrawal")
    assert [r["id"] for r in by_alex] == [made["call:CA1"]]
    started = datetime.fromisoformat(rows[0]["started"])
    assert started.utcoffset() == datetime.now(LINE_ZONE).utcoffset()  # the line's clock


def test_the_days_are_the_lines_own(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    day, started = late_evening(2)
    late, _ = Contacts(redis_client, 86400 * 30).record(
        "call:LATE", channel="call", language="en", started=started, ended=started + 60,
        outcome="abandoned",
    )  # fmt: skip
    that_day = rows_of(api, tokens, "viewer", **{"from": day.isoformat(), "to": day.isoformat()})
    assert [r["id"] for r in that_day] == [late]
    utc_day = datetime.fromtimestamp(started, UTC).date().isoformat()  # the day after, in UTC
    assert rows_of(api, tokens, "viewer", **{"from": utc_day, "to": utc_day}) == []


def test_notes_only_for_an_admins_token_and_that_export_audited(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    some_contacts(redis_client)
    asked = rows_of(api, tokens, "viewer", notes="true")
    assert "note" not in asked[0]
    assert all(e.action != "contacts.export_notes" for e in AuditLog(redis_client).recent(20))
    noted = rows_of(api, tokens, "admin", notes="true", counselor="alex")
    assert [r["note"] for r in noted if r["note"]] == ["shaky; call Friday"]
    entry = AuditLog(redis_client).recent(1)[0]
    assert entry.action == "contacts.export_notes"
    assert entry.who.startswith("api:ada (token ")
    assert entry.target.endswith(", counselor alex")
    assert "note" not in rows_of(api, tokens, "admin", counselor="alex")[0]  # only when asked


def test_a_bad_field_is_named_in_a_422(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    today = datetime.now(LINE_ZONE).date()
    for query, field in [
        ({"from": "2026-02-30"}, "from"),
        ({"from": "12/07/2026"}, "from"),
        ({"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}, "to"),
        ({"to": "1999-12-31"}, "to"),
        ({"channel": "fax"}, "channel"),
        ({"counselor": "Alex Smith"}, "counselor"),
        ({"language": "PT-br"}, "language"),
        ({"from": "0001-01-01"}, "from"),
        ({"hours": "24"}, "hours"),
    ]:
        answer = api.get("/api/v1/contacts.csv", query_string=query,
                         headers=tokens.header("viewer"))  # fmt: skip
        assert answer.status_code == 422, query
        error = answer.get_json()["error"]
        assert [f["field"] for f in error["fields"]] == [field], query
    assert api.get("/api/v1/contacts.csv").status_code == 401


def test_the_filter_takes_the_rosters_ids_and_languages(
    api: FlaskClient, tokens: Tokens, redis_client: redis.Redis
) -> None:
    made = roster_people(redis_client)
    rows = rows_of(api, tokens, "viewer", counselor="Maria", language="pt-BR")
    assert [r["id"] for r in rows] == [made["call:PT"]]
    assert [r["id"] for r in rows_of(api, tokens, "viewer", counselor="Alex.Smith-2")] == [
        made["call:OTHER"]
    ]


def test_the_document_describes_the_csv() -> None:
    operation = openapi_document(PREFIX, VERSION)["paths"]["/api/v1/contacts.csv"]["get"]
    assert operation["responses"]["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert "application/json" in operation["responses"]["422"]["content"]
    names = [p["name"] for p in operation["parameters"]]
    assert names == ["from", "to", "channel", "language", "outcome", "counselor",
                     "disposition", "notes"]  # fmt: skip
