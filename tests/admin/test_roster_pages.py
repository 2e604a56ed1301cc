"""The Roster page's forms with the test client: edits that carry numbers and
dates, a stale form refused rather than saved over someone else's change,
the week and zone kept across a save, and odd inputs answered, never a 500."""

from __future__ import annotations

import re

import pytest
import redis
from flask.testing import FlaskClient

from ivr.operators.accounts import Accounts
from ivr.roster.store import RosterStore
from tests.admin.login import PASSWORD, csrf_in
from tests.rosters import store_always_on_call


@pytest.fixture
def admin(client: FlaskClient, redis_client: redis.Redis) -> FlaskClient:
    store_always_on_call(redis_client)
    Accounts(redis_client).set_password("sam", PASSWORD, "admin")
    token = csrf_in(client.get("/admin/login").get_data(as_text=True))
    client.post("/admin/login", data={"name": "sam", "secret": PASSWORD, "csrf_token": token})
    return client


def _form(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def test_a_counselor_with_a_priority_is_saved_from_the_edit_form(
    admin: FlaskClient, redis_client: redis.Redis
) -> None:
    page = admin.get("/admin/roster/counselors/alex").get_data(as_text=True)
    form = {
        "csrf_token": csrf_in(page), "was": _form(page, "was"), "name": "Alex Kim",
        "phone": "", "languages": "en, es", "priority": "3", "active": "on",
    }  # fmt: skip
    answer = admin.post("/admin/roster/counselors/alex", data=form)
    assert answer.status_code == 302
    roster = RosterStore(redis_client).load()
    assert roster is not None
    alex = roster.by_id["alex"]
    assert (alex.name, alex.priority, alex.languages) == ("Alex Kim", 3, ("en", "es"))
    assert alex.phone == "+12025550111"  # left blank: kept


def test_a_shift_with_dates_is_added_and_the_week_and_zone_are_kept(
    admin: FlaskClient, redis_client: redis.Redis
) -> None:
    page = admin.get("/admin/roster?week=2026-12-07&tz=Europe/Madrid").get_data(as_text=True)
    form = {
        "csrf_token": csrf_in(page), "counselor": "alex", "days": ["sat", "sun"],
        "start": "08:00", "end": "16:00", "valid_from": "2026-12-01", "valid_until": "2027-01-31",
    }  # fmt: skip
    answer = admin.post("/admin/roster/shifts?week=2026-12-07&tz=Europe/Madrid", data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/roster?week=2026-12-07&tz=Europe/Madrid")
    roster = RosterStore(redis_client).load()
    assert roster is not None
    added = [s for s in roster.shifts if s.valid_from is not None]
    assert [(str(s.valid_from), str(s.valid_until)) for s in added] == [
        ("2026-12-01", "2027-01-31")
    ]


def test_a_stale_edit_form_is_refused_not_saved_over_a_newer_change(
    admin: FlaskClient, redis_client: redis.Redis
) -> None:
    page = admin.get("/admin/roster/counselors/alex").get_data(as_text=True)
    opened = {"csrf_token": csrf_in(page), "was": _form(page, "was")}
    # Someone else renames Alex meanwhile (through the API, say).
    from ivr.operators.audit import AuditLog
    from ivr.roster.edit import RosterEditor

    RosterEditor(RosterStore(redis_client), AuditLog(redis_client)).update_counselor(
        "alex", {"name": "Alexandra"}, "api:other"
    )
    form = {**opened, "name": "Alex", "phone": "", "languages": "en", "active": "on"}
    answer = admin.post("/admin/roster/counselors/alex", data=form)
    assert answer.status_code == 409
    assert "changed by someone else" in answer.get_data(as_text=True)
    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert roster.by_id["alex"].name == "Alexandra"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/roster?week=0001-01-01",
        "/admin/roster?week=9999-12-31",
        "/admin/roster?week=nonsense&tz=Not/AZone",
        "/admin/figures?days=%C2%B2",
        "/admin/figures?days=-1",
    ],
)
def test_odd_parameters_fall_back_rather_than_fail(admin: FlaskClient, path: str) -> None:
    assert admin.get(path).status_code == 200


def test_a_stored_roster_that_no_longer_validates_is_a_clear_503(
    admin: FlaskClient, redis_client: redis.Redis
) -> None:
    redis_client.hset("helpline:roster", mapping={"version": 99, "document": '{"counselors": 1}'})
    for path in ("/admin/", "/admin/roster", "/admin/now/panel"):
        answer = admin.get(path)
        assert answer.status_code == 503, path
        assert "roster import" in answer.get_data(as_text=True)


def test_viewers_do_not_get_the_edit_forms(client: FlaskClient, redis_client: redis.Redis) -> None:
    store_always_on_call(redis_client)
    Accounts(redis_client).set_password("val", PASSWORD, "viewer")
    token = csrf_in(client.get("/admin/login").get_data(as_text=True))
    client.post("/admin/login", data={"name": "val", "secret": PASSWORD, "csrf_token": token})
    assert client.get("/admin/roster/counselors/alex").status_code == 403
    page = client.get("/admin/roster").get_data(as_text=True)
    assert "/admin/roster/counselors/alex" not in page
