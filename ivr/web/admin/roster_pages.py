"""The Roster page: the week as a calendar in the operator's time zone with
coverage gaps marked, the next fourteen days' gaps as a list, and forms to
add, change and remove counselors, shifts and overrides. Forms go through the
same models as the API and the same editor as the CLI, so a rule holds on all
three or on none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from ivr.operators.desk import edit_status
from ivr.roster.edit import EditError, Invalid, NotFound, fingerprint
from ivr.roster.localtime import format_clock, parse_clock
from ivr.roster.model import DAYS
from ivr.roster.oncall import coverage_gaps
from ivr.web.admin.calendar import week_view
from ivr.web.admin.form_problems import Refusal, from_edit, from_validation
from ivr.web.admin.guard import admin, admins_only, desk, who
from ivr.web.admin.week_columns import columns
from ivr.web.api.schemas import FIRST_YEAR, LAST_YEAR, CounselorIn, OverrideIn, ShiftIn

GAP_DAYS = 14


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


def _zone(name: str | None, fallback: str) -> str:
    return name if name in set(zone_names()) else fallback


def _week_start(text: str | None, zone: ZoneInfo) -> date:
    """The Monday of the week asked for; this week for anything unreadable
    or outside the years a roster is about (far-off dates overflow)."""
    today = datetime.now(zone).date()
    try:
        chosen = date.fromisoformat(text) if text else today
    except ValueError:
        chosen = today
    if not FIRST_YEAR <= chosen.year <= LAST_YEAR:
        chosen = today
    return chosen - timedelta(days=chosen.weekday())


def _here() -> dict[str, str]:
    """The week and zone being looked at, carried through a form and back."""
    return {
        name: request.args[name]
        for name in ("week", "tz")
        if request.args.get(name, "").replace("/", "").replace("-", "").replace("_", "").isalnum()
    }


@admin.get("/roster")
def roster() -> ResponseReturnValue:
    page: ResponseReturnValue = _roster_page()
    return page


def _roster_page(refused: Refusal | None = None, status: int = 200) -> Any:
    """The page; after a refused form, with its problems beside its fields and
    what was typed still in them."""
    editor = desk().roster
    current = desk().store.load()
    home = editor.timezone()
    zone_name = _zone(request.args.get("tz"), home)
    zone = ZoneInfo(zone_name)
    week = _week_start(request.args.get("week"), zone)
    now = datetime.now(UTC)
    shown = week_view(current, week, zone_name, now) if current is not None else None
    page = render_template(
        "roster.html",
        page="roster",
        week=shown,
        columns=columns(shown) if shown is not None else (),
        week_start=week,
        previous_week=(week - timedelta(days=7)).isoformat(),
        next_week=(week + timedelta(days=7)).isoformat(),
        zone_name=zone_name,
        zones=zone_names(),
        home_zone=home,
        counselors=editor.counselors(),
        shifts=editor.shifts(None),
        overrides=editor.overrides(),
        gaps=coverage_gaps(current, now, GAP_DAYS) if current is not None else [],
        gap_days=GAP_DAYS,
        zone=zone,
        days=DAYS,
        refused=refused,
        form=request.form if refused else MultiDict(),
        typed_shift=_typed_shift() if refused else None,
        typed_override=_typed_override() if refused else {},
        here=_here(),
    )
    return Response(page, status=status) if status != 200 else page


def _refused_on_page(refused: Refusal, status: int) -> Any:
    return _roster_page(refused, status)


def _gone(error: EditError) -> Any:
    return _roster_page(Refusal("", general=(str(error),)), 404)


def _back() -> ResponseReturnValue:
    where: dict[str, Any] = _here()
    return redirect(url_for("admin.roster", **where))


Refused = Callable[[Refusal, int], Any]


def _edit(action: Any, *args: Any, done: str, form: str, refused: Refused = _refused_on_page,
          **options: Any) -> Any:  # fmt: skip
    """Run an edit; on success say so and go back, else show FORM again with
    why, beside the fields at fault (`refused`: which page shows it)."""
    try:
        action(*args, **options)
    except EditError as error:
        # Only a form's own mistakes go back to that form; anything else is the roster's news.
        shown = refused if isinstance(error, Invalid) else _refused_on_page
        return shown(from_edit(form, error), edit_status(error))
    flash(done, "ok")
    return _back()


def _was() -> str | None:
    """The item's fingerprint when its edit form was opened."""
    return request.form.get("was") or None


def _model(
    model: type[BaseModel],
    data: dict[str, Any],
    form: str,
    refused: Refused = _refused_on_page,
) -> tuple[dict[str, Any] | None, Any]:
    try:
        # Form fields are text: read "3" as a number and "2026-01-01" as a date.
        parsed = model.model_validate(data, strict=False)
    except ValidationError as error:
        kind = form.split("-", 1)[-1]  # "add-shift": a shift
        return None, refused(from_validation(form, kind, error), 422)
    # None clears an optional field on an update, and means "not set" on an add.
    found = parsed.model_dump(mode="json")
    return found, None


def _text(name: str) -> str:
    return request.form.get(name, "").strip()


def _optional(name: str) -> str | None:
    return _text(name) or None


def _list(name: str) -> list[str]:
    values = request.form.getlist(name)
    if len(values) == 1 and "," in values[0]:
        values = values[0].split(",")
    return [v.strip().lower() for v in values if v.strip()]


# -- counselors ------------------------------------------------------------------


def _counselor_form(counselor_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": counselor_id,
        "name": _text("name"),
        "phone": _text("phone"),
        "languages": _list("languages"),
        "active": request.form.get("active") == "on",
        "priority": _optional("priority"),
        "role": _text("role") or "counselor",
    }
    return data


@admin.post("/roster/counselors")
@admins_only
def add_counselor() -> Any:
    data, refused = _model(CounselorIn, _counselor_form(_text("id").lower()), "add-counselor")
    if data is None:
        return refused
    return _edit(
        desk().roster.add_counselor, data, who(), done=f"Added {data['name']}.",
        form="add-counselor",
    )  # fmt: skip


@admin.get("/roster/counselors/<counselor_id>")
@admins_only
def counselor(counselor_id: str) -> Any:
    try:
        found = desk().roster.counselor(counselor_id)
    except NotFound as error:
        return _gone(error)
    return render_template(
        "counselor_edit.html", page="roster", counselor=found, was=fingerprint(found)
    )


def _counselor_again(counselor_id: str, current: dict[str, Any]) -> Refused:
    """The edit form once more, as it was sent, with why it was refused."""

    def show(refused: Refusal, status: int) -> Any:
        typed = _counselor_form(counselor_id)
        shown = current | {k: typed[k] for k in ("name", "languages", "active", "role")}
        shown["priority"] = typed["priority"]
        page = render_template(
            "counselor_edit.html", page="roster", counselor=shown, was=_was(),
            refused=refused, typed_phone=_text("phone"),
        )  # fmt: skip
        return Response(page, status=status)

    return show


@admin.post("/roster/counselors/<counselor_id>")
@admins_only
def change_counselor(counselor_id: str) -> Any:
    try:
        current = desk().roster.counselor(counselor_id)
    except NotFound as error:
        return _gone(error)
    form = _counselor_form(counselor_id)
    if not form["phone"]:
        form["phone"] = current["phone"]  # left blank: keep the number
    again = _counselor_again(counselor_id, current)
    data, refused = _model(CounselorIn, form, "edit-counselor", again)
    if data is None:
        return refused
    return _edit(
        desk().roster.update_counselor, counselor_id, data, who(),
        done=f"Saved {data['name']}.", if_unchanged=_was(), form="edit-counselor", refused=again,
    )  # fmt: skip


@admin.post("/roster/counselors/<counselor_id>/delete")
@admins_only
def remove_counselor(counselor_id: str) -> Any:
    return _edit(
        desk().roster.remove_counselor, counselor_id, who(), done=f"Removed {counselor_id}.",
        form="",
    )  # fmt: skip


# -- shifts -------------------------------------------------------------------------


def _shift_form() -> dict[str, Any]:
    data: dict[str, Any] = {
        "counselor": _text("counselor"),
        "days": _list("days"),
        "start": _clock(_text("start")),
        "end": _clock(_text("end")),
        "timezone": _optional("timezone"),
        "valid_from": _optional("valid_from"),
        "valid_until": _optional("valid_until"),
    }
    return data


def _clock(text: str) -> str:
    """A time as typed, "9:00" or "9.00", in the form every surface writes: 09:00."""
    minutes = parse_clock(text.replace(".", ":").rjust(5, "0"), True)
    return text if minutes is None else format_clock(minutes)


def _typed_shift() -> dict[str, Any]:
    """A shift form's fields as sent, to fill the form in again."""
    return {"counselor": _text("counselor"), "days": _list("days"), "start": _text("start"),
            "end": _text("end"), "timezone": _text("timezone"),
            "valid_from": _text("valid_from"), "valid_until": _text("valid_until")}  # fmt: skip


@admin.post("/roster/shifts")
@admins_only
def add_shift() -> Any:
    data, refused = _model(ShiftIn, _shift_form(), "add-shift")
    if data is None:
        return refused
    return _edit(desk().roster.add_shift, data, who(), done="Shift added.", form="add-shift")


@admin.get("/roster/shifts/<shift_id>")
@admins_only
def shift(shift_id: str) -> Any:
    try:
        found = desk().roster.shift(shift_id)
    except NotFound as error:
        return _gone(error)
    return _shift_page(found, fingerprint(found))


def _shift_page(shift: dict[str, Any], was: str | None, refused: Refusal | None = None) -> str:
    return render_template(
        "shift_edit.html",
        page="roster",
        shift=shift,
        was=was,
        counselors=desk().roster.counselors(),
        zones=zone_names(),
        days=DAYS,
        home_zone=desk().roster.timezone(),
        refused=refused,
    )


def _shift_again(shift_id: str) -> Refused:
    def show(refused: Refusal, status: int) -> Any:
        typed = _typed_shift() | {"id": shift_id}
        return Response(_shift_page(typed, _was(), refused), status=status)

    return show


@admin.post("/roster/shifts/<shift_id>")
@admins_only
def change_shift(shift_id: str) -> Any:
    again = _shift_again(shift_id)
    data, refused = _model(ShiftIn, _shift_form(), "edit-shift", again)
    if data is None:
        return refused
    return _edit(
        desk().roster.update_shift, shift_id, data, who(), done="Shift saved.",
        if_unchanged=_was(), form="edit-shift", refused=again,
    )  # fmt: skip


@admin.post("/roster/shifts/<shift_id>/delete")
@admins_only
def remove_shift(shift_id: str) -> Any:
    return _edit(desk().roster.remove_shift, shift_id, who(), done="Shift removed.", form="")


# -- overrides ------------------------------------------------------------------------


def _moment(name: str) -> str:
    """An override's start or end from its date and 24-hour time fields
    ("2026-12-24" and "18:00": "2026-12-24T18:00"); an end at 24:00 is the
    next day's 00:00. One field "start"/"end" holding both is read too."""
    day, clock = _text(f"{name}_date"), _text(f"{name}_time")
    if not (day or clock):
        return _text(name)[:16]
    clock = _clock(clock)
    if clock == "24:00":
        try:
            return f"{date.fromisoformat(day) + timedelta(days=1)}T00:00"
        except ValueError:
            pass  # refused below as it was written
    return f"{day}T{clock}"


def _typed_override() -> dict[str, Any]:
    return {name: request.form.getlist(name) if name == "replaces" else _text(name)
            for name in ("counselor", "start_date", "start_time", "end_date", "end_time",
                         "timezone", "replaces", "note")}  # fmt: skip


@admin.post("/roster/overrides")
@admins_only
def add_override() -> Any:
    form: dict[str, Any] = {
        "counselor": _text("counselor"),
        "start": _moment("start"),
        "end": _moment("end"),
        "timezone": _optional("timezone"),
        "replaces": _list("replaces"),
        "note": _optional("note"),
    }
    data, refused = _model(OverrideIn, form, "add-override")
    if data is None:
        return refused
    return _edit(
        desk().roster.add_override, data, who(), done="Override added.", form="add-override"
    )


@admin.post("/roster/overrides/<override_id>/delete")
@admins_only
def remove_override(override_id: str) -> Any:
    return _edit(
        desk().roster.remove_override, override_id, who(), done="Override removed.", form=""
    )
