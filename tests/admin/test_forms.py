"""The Roster page's forms as a person fills them in: numbers written as
people write them are kept in E.164, every time of day is one 24-hour HH:MM
input, and a refused form says why beside the field at fault (the input
marked `aria-invalid` and described by the message), with what was typed
still in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from ivr.operators.accounts import Accounts
from ivr.roster.model import Roster
from ivr.roster.store import RosterStore
from tests.admin.login import csrf, log_in

TEMPLATES = Path(__file__).resolve().parents[2] / "ivr" / "web" / "admin" / "templates"
CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"


class Elements(HTMLParser):
    """Every element with an id: its tag, its attributes and its own text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: dict[str, tuple[str, dict[str, str]]] = {}
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        ident = values.get("id")
        if ident:
            self.found[ident] = (tag, values)
            self.text[ident] = ""
        if tag not in ("input", "br", "meta", "link", "img"):
            self._open.append(ident)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self._open:
            if ident:
                self.text[ident] += data

    def attrs(self, ident: str) -> dict[str, str]:
        assert ident in self.found, f"no element #{ident}"
        return self.found[ident][1]


def beside(page: str, field: str) -> str:
    """The message the page shows beside the field with this id, checking that
    the field points at it and is marked invalid."""
    elements = Elements(page)
    field_attrs = elements.attrs(field)
    assert field_attrs.get("aria-invalid") == "true", field_attrs
    described = field_attrs.get("aria-describedby", "").split()
    problem = f"{field}-problem"
    assert problem in described, field_attrs
    assert problem in elements.found, f"no message #{problem}"
    return " ".join(elements.text[problem].split())


def stored(redis_client: redis.Redis) -> Roster:
    roster = RosterStore(redis_client).load()
    assert roster is not None
    return roster


@pytest.fixture
def sam(client: FlaskClient, people: Accounts) -> FlaskClient:
    assert log_in(client, "sam") == 302
    return client


@pytest.mark.parametrize(
    "written", ["(202) 555-0101", "202-555-0101", "+1 202 555 0101", "2025550101"]
)
def test_a_counselor_s_number_as_people_write_it_is_kept_in_e164(
    sam: FlaskClient, redis_client: redis.Redis, written: str
) -> None:
    form = {"csrf_token": csrf(sam, "/admin/roster"), "id": "maria", "name": "María López",
            "phone": written, "languages": "en, es", "active": "on"}  # fmt: skip
    answer = sam.post("/admin/roster/counselors", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    assert stored(redis_client).by_id["maria"].phone == "+12025550101"
    # And when it is changed from the counselor's own form.
    page = sam.get("/admin/roster/counselors/maria").get_data(as_text=True)
    found = re.search(r'name="was" value="([^"]+)"', page)
    assert found is not None
    change = {"csrf_token": csrf(sam, "/admin/roster/counselors/maria"), "was": found.group(1),
              "name": "María López", "phone": "(202) 555-0109", "languages": "en, es",
              "active": "on"}  # fmt: skip
    assert sam.post("/admin/roster/counselors/maria", data=change).status_code == 302
    assert stored(redis_client).by_id["maria"].phone == "+12025550109"


def test_a_bad_number_is_refused_beside_the_phone_field_with_what_was_typed(
    sam: FlaskClient, redis_client: redis.Redis
) -> None:
    version = RosterStore(redis_client).version()
    form = {"csrf_token": csrf(sam, "/admin/roster"), "id": "maria", "name": "María López",
            "phone": "555-0101", "languages": "en, es", "active": "on"}  # fmt: skip
    answer = sam.post("/admin/roster/counselors", data=form)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    message = beside(page, "add-counselor-phone")
    assert "not a valid phone number" in message
    assert "(202) 555-0101" in message  # and how to write it
    phone = Elements(page).attrs("add-counselor-phone")
    assert phone["value"] == "555-0101"
    assert "autofocus" in phone  # the first field at fault takes the focus
    assert Elements(page).attrs("add-counselor-name")["value"] == "María López"
    assert "aria-invalid" not in Elements(page).attrs("add-counselor-name")
    assert RosterStore(redis_client).version() == version


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("start", "9pm", "24-hour time, HH:MM"),
        ("end", "25:00", "24:00 is midnight"),
        ("days", None, "at least 1 item"),
    ],
)
def test_a_refused_shift_says_why_beside_the_field(
    sam: FlaskClient, field: str, value: str | None, words: str
) -> None:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf(sam, "/admin/roster"), "counselor": "alex", "days": ["mon", "tue"],
        "start": "22:00", "end": "06:00",
    }  # fmt: skip
    if value is None:
        del form[field]
    else:
        form[field] = value
    answer = sam.post("/admin/roster/shifts", data=form)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert words in beside(page, f"add-shift-{field}")
    others = {"start", "end", "days"} - {field}
    for other in others:
        assert "aria-invalid" not in Elements(page).attrs(f"add-shift-{other}"), other


def test_a_rule_of_the_roster_is_said_beside_its_field_too(sam: FlaskClient) -> None:
    """Not only the form's shapes: the roster's own rules (a shift that ends
    when it starts), found by the roster parser."""
    form = {"csrf_token": csrf(sam, "/admin/roster"), "counselor": "alex", "days": "mon",
            "start": "09:00", "end": "09:00"}  # fmt: skip
    answer = sam.post("/admin/roster/shifts", data=form)
    assert answer.status_code == 422
    assert "a whole day is 00:00 to 24:00" in beside(answer.get_data(as_text=True), "add-shift-end")


def test_the_shift_edit_form_comes_back_with_the_problem_beside_the_field(
    sam: FlaskClient, redis_client: redis.Redis
) -> None:
    shift = stored(redis_client).shifts[0]
    page = sam.get(f"/admin/roster/shifts/{shift.id}").get_data(as_text=True)
    found = re.search(r'name="was" value="([^"]+)"', page)
    assert found is not None
    form = {"csrf_token": csrf(sam, f"/admin/roster/shifts/{shift.id}"), "was": found.group(1),
            "counselor": shift.counselor, "days": ["sat"], "start": "8:00",
            "end": "7 pm"}  # fmt: skip
    answer = sam.post(f"/admin/roster/shifts/{shift.id}", data=form)
    assert answer.status_code == 422
    again = answer.get_data(as_text=True)
    assert "Edit shift" in again  # the same form, not the roster page
    assert "24-hour time" in beside(again, "edit-shift-end")
    assert Elements(again).attrs("edit-shift-start")["value"] == "8:00"  # as typed
    assert stored(redis_client).shifts[0] == shift


def test_a_refused_counselor_edit_keeps_its_form(sam: FlaskClient) -> None:
    page = sam.get("/admin/roster/counselors/alex").get_data(as_text=True)
    found = re.search(r'name="was" value="([^"]+)"', page)
    assert found is not None
    form = {"csrf_token": csrf(sam, "/admin/roster/counselors/alex"), "was": found.group(1),
            "name": "Alex", "phone": "12", "languages": "en", "active": "on"}  # fmt: skip
    answer = sam.post("/admin/roster/counselors/alex", data=form)
    assert answer.status_code == 422
    again = answer.get_data(as_text=True)
    assert "not a valid phone number" in beside(again, "edit-counselor-phone")
    assert Elements(again).attrs("edit-counselor-phone")["value"] == "12"


def test_every_time_of_day_is_one_24_hour_input() -> None:
    """Shift and override forms alike: no browser time picker (it follows the
    browser's locale: 10:00 PM), one HH:MM text input; an end may be 24:00."""
    for name in ("roster.html", "shift_form.html", "shift_edit.html", "form_fields.html"):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert 'type="time"' not in text, name
        assert "datetime-local" not in text, name


def test_the_forms_draw_their_times_with_the_same_input(sam: FlaskClient) -> None:
    page = sam.get("/admin/roster").get_data(as_text=True)
    elements = Elements(page)
    starts = ("add-shift-start", "add-override-start-time")
    ends = ("add-shift-end", "add-override-end-time")
    for ident in starts + ends:
        attrs = elements.attrs(ident)
        assert attrs.get("type", "text") == "text", ident
        assert attrs["placeholder"] == "HH:MM", ident
        assert attrs["class"] == "clock", ident
    for ident in starts:
        assert elements.attrs(ident)["pattern"] == CLOCK
    for ident in ends:
        assert elements.attrs(ident)["pattern"] == CLOCK + "|24:00"
    shift = stored_shift_page(sam)
    assert Elements(shift).attrs("edit-shift-end")["pattern"] == CLOCK + "|24:00"


def stored_shift_page(client: FlaskClient) -> str:
    page = client.get("/admin/roster").get_data(as_text=True)
    found = re.search(r'href="(/admin/roster/shifts/[^"]+)"', page)
    assert found is not None
    return client.get(found.group(1)).get_data(as_text=True)


def test_an_override_is_a_date_and_a_24_hour_time_and_may_end_at_24_00(
    sam: FlaskClient, redis_client: redis.Redis
) -> None:
    form = {"csrf_token": csrf(sam, "/admin/roster"), "counselor": "alex",
            "start_date": "2026-12-24", "start_time": "18:00",
            "end_date": "2026-12-24", "end_time": "24:00", "note": "Christmas Eve"}  # fmt: skip
    assert sam.post("/admin/roster/overrides", data=form).status_code == 302
    [override] = stored(redis_client).overrides
    assert (str(override.start), str(override.end)) == (
        "2026-12-24 18:00:00",
        "2026-12-25 00:00:00",
    )
    backwards = form | {"end_date": "2026-12-23", "end_time": "10:00"}
    answer = sam.post("/admin/roster/overrides", data=backwards)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Ends before it starts" in beside(page, "add-override-end")
    assert Elements(page).attrs("add-override-end-time")["value"] == "10:00"
