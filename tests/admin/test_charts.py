"""Charts drawn on the server: well-formed SVG that names itself to screen
readers, shows a day without calls as a gap (never a zero), and cannot be
turned into markup by a label."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from markupsafe import Markup

from ivr.web.admin.charts import (
    bar_chart,
    column_chart,
    line_chart,
    scale,
    series_summary,
    summary,
    value_text,
)

SVG = "{http://www.w3.org/2000/svg}"
Chart = Callable[..., Markup]
HOSTILE = '<script>alert("x")</script>&amp;'


def parse(svg: Markup) -> ET.Element:
    root = ET.fromstring(str(svg))  # noqa: S314 - our own picture
    assert root.tag == f"{SVG}svg"
    return root


def every(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def days(*values: float | None) -> list[tuple[str, float | None]]:
    return [(f"Mar {n}", value) for n, value in enumerate(values, start=1)]


def test_a_line_chart_is_an_image_named_by_its_title() -> None:
    root = parse(line_chart("Answer rate", days(90, 80, 95), "%", maximum=100))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Answer rate"
    assert root.find(f"{SVG}title") is not None
    assert root.findtext(f"{SVG}title") == "Answer rate"
    description = root.findtext(f"{SVG}desc") or ""
    assert "highest 95% (Mar 3)" in description
    assert "lowest 80% (Mar 2)" in description


def test_each_point_says_its_day_and_value() -> None:
    root = parse(line_chart("Speed", days(12, 14.5), "s"))
    tips = [c.findtext(f"{SVG}title") for c in every(root, "circle")]
    assert tips == ["Mar 1: 12 s", "Mar 2: 14.5 s"]


def test_a_day_without_data_breaks_the_line() -> None:
    root = parse(line_chart("Rate", days(50, 60, None, 70, 80, None, 90), "%", missing="no calls"))
    assert len(every(root, "polyline")) == 2  # 50-60 and 70-80; 90 stands alone
    assert len(every(root, "circle")) == 5
    gaps = [
        r.findtext(f"{SVG}title") for r in every(root, "rect") if r.get("class") == "chart-missing"
    ]
    assert gaps == ["Mar 3: no calls", "Mar 6: no calls"]
    assert "2 of 7 no calls" in (root.findtext(f"{SVG}desc") or "")


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
def test_a_series_with_no_data_at_all_says_so(chart: Chart) -> None:
    root = parse(chart("Rate", days(None, None, None), "%", missing="no calls"))
    texts = [t.text for t in every(root, "text")]
    assert "no calls" in texts
    assert every(root, "polyline") == []
    assert every(root, "circle") == []
    assert "no calls" in (root.findtext(f"{SVG}desc") or "")


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
def test_no_points_at_all_is_still_a_picture(chart: Chart) -> None:
    root = parse(chart("Nothing yet", [], "s"))
    assert "no data" in [t.text for t in every(root, "text")]


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
def test_hostile_labels_stay_text(chart: Chart) -> None:
    svg = chart(HOSTILE, [(HOSTILE, 3.0), ("ok", None)], HOSTILE, missing=HOSTILE)
    root = parse(svg)
    assert every(root, "script") == []
    assert "<script>" not in str(svg)
    assert root.get("aria-label") == HOSTILE
    assert any(HOSTILE in (t.text or "") for t in root.iter())


def test_values_past_the_maximum_stay_inside_the_plot() -> None:
    root = parse(line_chart("Rate", days(-5, 150), "%", maximum=100, height=220))
    ys = [float(c.get("cy", "0")) for c in every(root, "circle")]
    grid = [float(line.get("y1", "0")) for line in every(root, "line")]
    assert min(grid) <= min(ys)
    assert max(ys) <= max(grid)
    assert [c.findtext(f"{SVG}title") for c in every(root, "circle")] == [
        "Mar 1: -5%",
        "Mar 2: 150%",
    ]


def test_the_latest_day_is_always_labelled_even_when_labels_thin_out() -> None:
    points = [(f"2026-03-{n:02d}", float(n)) for n in range(1, 31)]
    root = parse(line_chart("Thirty days", points, "calls", width=480))
    labels = [t.text for t in every(root, "text") if (t.text or "").startswith("2026-")]
    assert labels[-1] == "2026-03-30"
    assert 2 < len(labels) < 30


def test_a_bar_chart_has_a_bar_per_known_value_and_grows_with_its_rows() -> None:
    people = [("María López", 12.0), ("Sam", 3.0), ("Kim", None), ("Bo", 0.0)]
    root = parse(bar_chart("Answers", people, "calls"))
    bars = [r for r in every(root, "rect") if r.get("class") == "chart-bar"]
    assert [b.findtext(f"{SVG}title") for b in bars] == [
        "María López: 12 calls",
        "Sam: 3 calls",
        "Bo: 0 calls",
    ]
    assert float(bars[0].get("width", "0")) > float(bars[1].get("width", "0")) > 0
    taller = parse(bar_chart("Answers", people * 3, "calls"))
    assert float(taller.get("height", "0")) > float(root.get("height", "0"))


def test_a_long_name_is_shortened_and_kept_whole_in_its_tooltip() -> None:
    name = "Maximiliana Esperanza de la Santísima Trinidad"
    root = parse(bar_chart("Answers", [(name, 4.0)], "calls", width=320))
    label = next(t for t in every(root, "text") if t.findtext(f"{SVG}title") == name)
    shown = label[0].tail or ""  # the text after its <title>
    assert shown.endswith("…")
    assert len(shown) < len(name)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (92.0, "%", "92%"),
        (14.5, "s", "14.5 s"),
        (3, "calls", "3 calls"),
        (0.25, "", "0.25"),
        (33.3333, "%", "33.3%"),
        (123.4, "s", "123 s"),
    ],
)
def test_values_read_naturally(value: float, unit: str, text: str) -> None:
    assert value_text(value, unit) == text


@pytest.mark.parametrize(
    ("values", "maximum", "top", "step"),
    [
        ([0.83], None, 1.0, 0.25),
        ([37.0], None, 40.0, 10.0),
        ([12.0, 3.0], None, 15.0, 5.0),
        ([], None, 1.0, 0.25),
        ([0.0], None, 1.0, 0.25),
        ([40.0], 100.0, 100.0, 25.0),
    ],
)
def test_the_value_axis_ends_on_a_round_number(
    values: list[float], maximum: float | None, top: float, step: float
) -> None:
    assert scale(values, maximum) == (top, step)


def test_the_summary_of_a_single_day() -> None:
    assert summary([("Mar 1", 4.0)], "calls", "no data") == (
        "Mar 1; highest 4 calls (Mar 1); lowest 4 calls (Mar 1); latest 4 calls"
    )


HOURS = [f"{h:02d}" for h in range(24)]


def columns_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in every(root, "rect") if r.get("class") == "chart-column"]


def tips(elements: list[ET.Element]) -> list[str | None]:
    return [e.findtext(f"{SVG}title") for e in elements]


def test_a_column_chart_groups_a_column_per_series_and_known_value() -> None:
    root = parse(
        column_chart(
            "Contacts",
            ["Mon", "Tue", "Wed"],
            [("offered", [5, 8, 2]), ("answered", [4, None, 2])],
            "contacts",
        )
    )
    columns = columns_of(root)
    assert tips(columns) == [
        "Mon · offered: 5 contacts",
        "Mon · answered: 4 contacts",
        "Tue · offered: 8 contacts",
        "Wed · offered: 2 contacts",
        "Wed · answered: 2 contacts",
    ]
    assert len({c.get("fill") for c in columns}) == 2  # a colour per series
    mon_offered, mon_answered = columns[0], columns[1]
    assert float(mon_offered.get("x", "0")) < float(mon_answered.get("x", "0"))
    assert float(mon_offered.get("height", "0")) > float(mon_answered.get("height", "0")) > 0
    assert [r for r in every(root, "rect") if r.get("class") == "chart-missing"] == []


def test_a_slot_with_no_data_anywhere_is_shaded_and_never_a_zero() -> None:
    root = parse(
        column_chart(
            "Contacts",
            ["Mon", "Tue", "Wed"],
            [("offered", [5, None, None]), ("answered", [4, None, 1])],
            "contacts",
            line=("on call", [2, None, None]),
            missing="no calls",
        )
    )
    assert tips(columns_of(root)) == [
        "Mon · offered: 5 contacts",
        "Mon · answered: 4 contacts",
        "Wed · answered: 1 contacts",
    ]
    shaded = [r for r in every(root, "rect") if r.get("class") == "chart-missing"]
    assert tips(shaded) == ["Tue: no calls"]
    assert shaded[0].get("fill-opacity") == "0.12"
    assert not any("Tue ·" in (tip or "") for tip in tips(list(root.iter())))


def test_zero_is_a_value_drawn_as_a_column() -> None:
    root = parse(column_chart("Contacts", ["Mon", "Tue"], [("offered", [0, 3])], "contacts"))
    zero, three = columns_of(root)
    assert zero.findtext(f"{SVG}title") == "Mon · offered: 0 contacts"
    assert 0 < float(zero.get("height", "0")) <= 1
    assert float(three.get("height", "0")) > 1
    assert [r for r in every(root, "rect") if r.get("class") == "chart-missing"] == []
    assert "offered: highest 3 contacts (Tue); lowest 0 contacts (Mon)" in (
        root.findtext(f"{SVG}desc") or ""
    )


def test_the_line_series_is_drawn_over_the_columns_and_named_in_the_legend() -> None:
    root = parse(
        column_chart(
            "Staffing",
            ["08", "09", "10", "11"],
            [("offered", [4, 6, None, 8]), ("answered", [4, 5, None, 7])],
            "contacts",
            line=("on call", [2, 3, None, 3]),
        )
    )
    lines = [p for p in every(root, "polyline") if p.get("class") == "chart-line"]
    assert len(lines) == 1  # 08-09; 11 stands alone after the gap
    points = [c for c in every(root, "circle") if c.findtext(f"{SVG}title")]
    assert tips(points) == [
        "08 · on call: 2 contacts",
        "09 · on call: 3 contacts",
        "11 · on call: 3 contacts",
    ]
    column_fills = {c.get("fill") for c in columns_of(root)}
    assert points[0].get("fill") not in column_fills
    legend = next(g for g in every(root, "g") if g.get("class") == "chart-legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["offered", "answered", "on call"]
    swatches = [r.get("fill") for r in legend.iter(f"{SVG}rect")]
    assert swatches == [c.get("fill") for c in columns_of(root)[:2]]
    assert [c.get("fill") for c in legend.iter(f"{SVG}circle")] == [points[0].get("fill")]
    # the line shares the value axis: 3 on call sits lower than 6 offered
    nine_offered = columns_of(root)[2]
    assert float(points[1].get("cy", "0")) > float(nine_offered.get("y", "0"))


@pytest.mark.parametrize("width", [640, 360])
def test_hour_labels_thin_out_on_a_phone_and_keep_the_last(width: int) -> None:
    offered: list[float | None] = [float(h) for h in range(24)]
    root = parse(
        column_chart(
            "Contacts by hour",
            HOURS,
            [("offered", offered), ("answered", offered)],
            "contacts",
            width=width,
            axis_label="hour of day (America/New_York)",
        )
    )
    shown = [t.text for t in every(root, "text") if t.text in HOURS]
    assert shown[-1] == "23"
    if width == 360:
        assert 2 < len(shown) < 24
    else:
        assert shown == HOURS
    assert len(columns_of(root)) == 48
    axis = [t for t in every(root, "text") if t.get("class") == "chart-axis-label"]
    assert [t.text for t in axis] == ["hour of day (America/New_York)"]
    assert float(axis[0].get("y", "0")) <= float(root.get("height", "0"))
    assert float(root.get("width", "0")) == width
    assert all(
        float(c.get("x", "0")) + float(c.get("width", "0")) <= width for c in columns_of(root)
    )


def test_the_column_summary_names_each_series_and_the_empty_slots() -> None:
    root = parse(
        column_chart(
            "Contacts",
            ["Mon", "Tue", "Wed", "Thu"],
            [("offered", [5, None, 9, None]), ("answered", [4, None, 7, None])],
            "contacts",
            line=("on call", [1, None, 2, None]),
            missing="no calls",
        )
    )
    assert root.findtext(f"{SVG}desc") == (
        "Mon to Thu. "
        "offered: highest 9 contacts (Wed); lowest 5 contacts (Mon). "
        "answered: highest 7 contacts (Wed); lowest 4 contacts (Mon). "
        "on call: highest 2 contacts (Wed); lowest 1 contacts (Mon). "
        "2 of 4 no calls."
    )
    assert series_summary(["Mon"], [("offered", [None])], "contacts", "no data") == (
        "Mon. offered: no data. 1 of 1 no data."
    )


@pytest.mark.parametrize("labels", [["Mon", "Tue"], []])
def test_a_column_chart_with_nothing_known_says_so(labels: list[str]) -> None:
    nothing: list[float | None] = [None] * len(labels)
    root = parse(
        column_chart(
            "Contacts",
            labels,
            [("offered", nothing)],
            "contacts",
            line=("on call", nothing),
            missing="no calls",
        )
    )
    assert "no calls" in [t.text for t in every(root, "text")]
    assert columns_of(root) == []
    assert every(root, "polyline") == []
    assert [c for c in every(root, "circle") if c.findtext(f"{SVG}title")] == []
    assert "no calls" in (root.findtext(f"{SVG}desc") or "")


def test_a_column_chart_is_well_formed_and_keeps_hostile_names_as_text() -> None:
    svg = column_chart(
        HOSTILE,
        [HOSTILE, "ok"],
        [(HOSTILE, [3.0, None])],
        HOSTILE,
        line=(HOSTILE, [1.0, None]),
        missing=HOSTILE,
        axis_label=HOSTILE,
    )
    root = parse(svg)  # parses: well-formed XML
    assert every(root, "script") == []
    assert "<script>" not in str(svg)
    assert root.get("aria-label") == HOSTILE
    assert any(HOSTILE in (t.text or "") for t in root.iter())


def test_a_series_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="offered: 1 values for 2 labels"):
        column_chart("Contacts", ["Mon", "Tue"], [("offered", [1.0])], "contacts")
