"""The Roster page: the week as a calendar in the operator's time zone with
coverage gaps marked, the next fourteen days' gaps as a list, and forms to
add, change and remove counselors, shifts and overrides. Forms go through the
same models as the API and the same editor as the CLI, so a rule holds on all
three or on none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from ivr.admin.calendar import week_view
from ivr.admin.guard import admin, admins_only, desk, who
from ivr.api.schemas import FIRST_YEAR, LAST_YEAR, CounselorIn, OverrideIn, ShiftIn
from ivr.operators.desk import edit_status
from ivr.roster.edit import EditError, Invalid, NotFound, fingerprint
from ivr.roster.model import DAYS
from ivr.roster.oncall import coverage_gaps

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


def _roster_page(errors: list[str] | None = None, status: int = 200) -> Any:
    editor = desk().roster
    current = desk().store.load()
    home = editor.timezone()
    zone_name = _zone(request.args.get("tz"), home)
    zone = ZoneInfo(zone_name)
    week = _week_start(request.args.get("week"), zone)
    now = datetime.now(UTC)
    page = render_template(
        "roster.html",
        page="roster",
        week=week_view(current, week, zone_name, now) if current is not None else None,
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
        errors=errors or [],
        form=request.form if errors else MultiDict(),
        here=_here(),
    )
    return Response(page, status=status) if status != 200 else page


def _back() -> ResponseReturnValue:
    where: dict[str, Any] = _here()
    return redirect(url_for("admin.roster", **where))


def _edit(action: Any, *args: Any, done: str, **options: Any) -> Any:
    """Run an edit; on success say so and go back, else show the page with why."""
    try:
        action(*args, **options)
    except EditError as error:
        problems = error.problems if isinstance(error, Invalid) else []
        shown = [f"{p.field}: {p.message}" for p in problems] or [str(error)]
        return _roster_page(shown, edit_status(error))
    flash(done, "ok")
    return _back()


def _was() -> str | None:
    """The item's fingerprint when its edit form was opened."""
    return request.form.get("was") or None


def _model(model: type[BaseModel], data: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    try:
        # Form fields are text: read "3" as a number and "2026-01-01" as a date.
        parsed = model.model_validate(data, strict=False)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in problem['loc']) or 'form'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        ]
        return None, _roster_page(problems, 422)
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
    data, refused = _model(CounselorIn, _counselor_form(_text("id").lower()))
    if data is None:
        return refused
    return _edit(desk().roster.add_counselor, data, who(), done=f"Added {data['name']}.")


@admin.get("/roster/counselors/<counselor_id>")
@admins_only
def counselor(counselor_id: str) -> Any:
    try:
        found = desk().roster.counselor(counselor_id)
    except NotFound as error:
        return _roster_page([str(error)], 404)
    return render_template(
        "counselor_edit.html", page="roster", counselor=found, was=fingerprint(found)
    )


@admin.post("/roster/counselors/<counselor_id>")
@admins_only
def change_counselor(counselor_id: str) -> Any:
    try:
        current = desk().roster.counselor(counselor_id)
    except NotFound as error:
        return _roster_page([str(error)], 404)
    form = _counselor_form(counselor_id)
    if not form["phone"]:
        form["phone"] = current["phone"]  # left blank: keep the number
    data, refused = _model(CounselorIn, form)
    if data is None:
        return refused
    return _edit(
        desk().roster.update_counselor, counselor_id, data, who(),
        done=f"Saved {data['name']}.", if_unchanged=_was(),
    )  # fmt: skip


@admin.post("/roster/counselors/<counselor_id>/delete")
@admins_only
def remove_counselor(counselor_id: str) -> Any:
    return _edit(
        desk().roster.remove_counselor, counselor_id, who(), done=f"Removed {counselor_id}."
    )


# -- shifts -------------------------------------------------------------------------


def _shift_form() -> dict[str, Any]:
    data: dict[str, Any] = {
        "counselor": _text("counselor"),
        "days": _list("days"),
        "start": _text("start"),
        "end": _text("end"),
        "timezone": _optional("timezone"),
        "valid_from": _optional("valid_from"),
        "valid_until": _optional("valid_until"),
    }
    return data


@admin.post("/roster/shifts")
@admins_only
def add_shift() -> Any:
    data, refused = _model(ShiftIn, _shift_form())
    if data is None:
        return refused
    return _edit(desk().roster.add_shift, data, who(), done="Shift added.")


@admin.get("/roster/shifts/<shift_id>")
@admins_only
def shift(shift_id: str) -> Any:
    try:
        found = desk().roster.shift(shift_id)
    except NotFound as error:
        return _roster_page([str(error)], 404)
    return render_template(
        "shift_edit.html",
        page="roster",
        shift=found,
        was=fingerprint(found),
        counselors=desk().roster.counselors(),
        zones=zone_names(),
        days=DAYS,
        home_zone=desk().roster.timezone(),
    )


@admin.post("/roster/shifts/<shift_id>")
@admins_only
def change_shift(shift_id: str) -> Any:
    data, refused = _model(ShiftIn, _shift_form())
    if data is None:
        return refused
    return _edit(
        desk().roster.update_shift, shift_id, data, who(), done="Shift saved.",
        if_unchanged=_was(),
    )  # fmt: skip


@admin.post("/roster/shifts/<shift_id>/delete")
@admins_only
def remove_shift(shift_id: str) -> Any:
    return _edit(desk().roster.remove_shift, shift_id, who(), done="Shift removed.")


# -- overrides ------------------------------------------------------------------------


@admin.post("/roster/overrides")
@admins_only
def add_override() -> Any:
    form: dict[str, Any] = {
        "counselor": _text("counselor"),
        "start": _text("start")[:16],
        "end": _text("end")[:16],
        "timezone": _optional("timezone"),
        "replaces": _list("replaces"),
        "note": _optional("note"),
    }
    data, refused = _model(OverrideIn, form)
    if data is None:
        return refused
    return _edit(desk().roster.add_override, data, who(), done="Override added.")


@admin.post("/roster/overrides/<override_id>/delete")
@admins_only
def remove_override(override_id: str) -> Any:
    return _edit(desk().roster.remove_override, override_id, who(), done="Override removed.")
