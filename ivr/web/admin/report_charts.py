"""The charts of the reports pages (issue 20), drawn from a Report: contacts
by day, the service level by day, demand against the roster's coverage by
hour of day, missed and abandoned by hour, and the week. Every chart names
its unit and the line's zone, and a period with no contact is an empty,
shaded slot, never a zero."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ivr.contacts.report import WEEKDAYS, Bucket, Report
from ivr.web.admin import charts

HOURS = [f"{hour:02d}" for hour in range(24)]


def _outcomes(buckets: Sequence[Bucket]) -> list[charts.Series]:
    """Answered, abandoned and missed per bucket; None where nothing was offered."""
    return [
        (name, [float(getattr(b, name)) if b.offered else None for b in buckets])
        for name in ("answered", "abandoned", "missed")
    ]


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def report_charts(
    report: Report, on_call: Sequence[float | None], seen: Sequence[int]
) -> dict[str, Markup]:
    """ON_CALL: counselors on call on average in each local hour of day;
    SEEN: how many times each hour of day occurs in the range (to turn the
    contacts offered in an hour of day into an average per day)."""
    zone = report.zone
    days = list(report.days.values())
    day_labels = [day.strftime("%b %d") for day in report.days]
    demand = [
        round(b.offered / n, 2) if n and b.offered else None
        for b, n in zip(report.hours, seen, strict=True)
    ]
    return {
        "by_day": charts.column_chart(
            f"Contacts by day ({zone})", day_labels, _outcomes(days), "",
            missing="no contacts", axis_label=f"day ({zone})",
        ),
        "service_level": charts.line_chart(
            f"Calls answered within 20 s, by day ({zone})",
            list(zip(day_labels, [_percent(b.service_level(20)) for b in days], strict=True)),
            "%", maximum=100, missing="no calls",
        ),
        "demand": charts.column_chart(
            "Contacts offered and counselors on call, by hour of day", HOURS,
            [("contacts offered, a day on average", demand)], "",
            line=("counselors on call, on average", list(on_call)),
            missing="hour not in range", axis_label=f"hour of day ({zone})",
        ),
        "missed_by_hour": charts.column_chart(
            "Answered, abandoned and missed contacts, by hour of day", HOURS,
            _outcomes(report.hours), "", missing="no contacts",
            axis_label=f"hour of day ({zone})",
        ),
        "by_weekday": charts.column_chart(
            "Contacts by day of the week", list(WEEKDAYS), _outcomes(report.weekdays),
            "", missing="no contacts", axis_label=f"day of the week ({zone})",
        ),
    }  # fmt: skip
