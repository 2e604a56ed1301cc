"""Charts of the line's figures, drawn on the server as SVG: no JavaScript, no
CDN, readable offline and by screen readers.

A point is a label (usually a day) and a value, or None when there is nothing
to show (no calls that day): a gap, never a zero. Values below zero are drawn
at zero and values above `maximum` at the top; their own number still shows
in the tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup

from ivr.web.admin.svg import document, element, number, shorten, text_width

Point = tuple[str, float | None]
# A name for the legend and one value per label; None is no data (an empty,
# shaded slot), never zero.
Series = tuple[str, Sequence[float | None]]

FONT = 12
TITLE_FONT = 14
GRID = "#d0d4d9"
AXIS = "#5f6b7a"
INK = "#1f2933"
SERIES = "#1f6feb"
MISSING = "#8792a2"
# Column series in turn (blue, orange, dark grey: told apart without red and
# green), and the line drawn over them.
PALETTE = (SERIES, "#d97706", "#5f6b7a")
LINE = "#15803d"


def value_text(value: float, unit: str) -> str:
    """92%, 14.5 s, 3 answers: as many decimals as say something (two at most)."""
    decimals = 0 if value == int(value) or abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    shown = f"{value:.{decimals}f}"
    if decimals:
        shown = shown.rstrip("0").rstrip(".")
    if not unit:
        return shown
    return f"{shown}{unit}" if unit == "%" else f"{shown} {unit}"


def scale(values: Sequence[float], maximum: float | None) -> tuple[float, float]:
    """The top of the value axis and the step between gridlines: `maximum`
    when given, else a round number at or above the largest value."""
    top = maximum if maximum is not None and maximum > 0 else max([0.0, *values])
    if top <= 0:
        top = 1.0
    rough = top / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    if maximum is None or maximum <= 0:
        top = math.ceil(top / step - 1e-9) * step
    return top, step


def _ticks(top: float, step: float) -> list[float]:
    count = int(top / step + 1e-9)
    return [n * step for n in range(count + 1)] + ([top] if count * step < top - 1e-9 else [])


def summary(points: Sequence[Point], unit: str, missing: str) -> str:
    """What the chart shows, in a sentence, for screen readers."""
    known = [(label, value) for label, value in points if value is not None]
    if not points:
        return missing
    span = f"{points[0][0]} to {points[-1][0]}" if len(points) > 1 else points[0][0]
    if not known:
        return f"{span}: {missing}"
    parts = [f"{span}", *_extremes(known, unit)]
    if points[-1][1] is not None:
        parts.append(f"latest {value_text(points[-1][1], unit)}")
    gaps = len(points) - len(known)
    if gaps:
        parts.append(f"{gaps} of {len(points)} {missing}")
    return "; ".join(parts)


def _extremes(known: Sequence[tuple[str, float]], unit: str) -> list[str]:
    high = max(known, key=lambda p: p[1])
    low = min(known, key=lambda p: p[1])
    return [
        f"highest {value_text(high[1], unit)} ({high[0]})",
        f"lowest {value_text(low[1], unit)} ({low[0]})",
    ]


def series_summary(labels: Sequence[str], series: Sequence[Series], unit: str, missing: str) -> str:
    """What a chart of several series shows, for screen readers: the span, a
    sentence per series (its highest and lowest), and the slots with no data
    in any series."""
    if not labels:
        return missing
    span = f"{labels[0]} to {labels[-1]}" if len(labels) > 1 else labels[0]
    sentences = [span]
    for name, values in series:
        known = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
        said = "; ".join(_extremes(known, unit)) if known else missing
        sentences.append(f"{name}: {said}")
    gaps = sum(all(values[i] is None for _, values in series) for i in range(len(labels)))
    if gaps:
        sentences.append(f"{gaps} of {len(labels)} {missing}")
    return ". ".join(sentences) + "."


def _title(title: str) -> Markup:
    return element(
        "text",
        {"x": 1, "y": TITLE_FONT, "font-size": TITLE_FONT, "font-weight": "bold", "fill": INK},
        title,
    )


def _clamp(value: float, top: float) -> float:
    return min(max(value, 0.0), top)


def line_chart(
    title: str,
    points: Sequence[Point],
    unit: str,
    *,
    maximum: float | None = None,
    width: int = 640,
    height: int = 220,
    missing: str = "no data",
) -> Markup:
    """A daily series as a line, broken where a value is None; every point
    carries its label and value as a tooltip."""
    values = [v for _, v in points if v is not None]
    top, step = scale(values, maximum)
    ticks = _ticks(top, step)
    left = max(text_width(value_text(t, unit), FONT) for t in ticks) + 10
    plot_top, plot_bottom, right = TITLE_FONT + 16.0, height - 28.0, width - 8.0
    plot_height = plot_bottom - plot_top
    band = (right - left) / max(len(points), 1)

    def x(index: int) -> float:
        return left + (index + 0.5) * band

    def y(value: float) -> float:
        return plot_bottom - plot_height * _clamp(value, top) / top

    body = [_title(title)]
    for tick in ticks:
        body.append(
            element("line", {"x1": left, "x2": right, "y1": y(tick), "y2": y(tick), "stroke": GRID})
        )
        body.append(
            element(
                "text",
                {"x": left - 6, "y": y(tick) + 4, "text-anchor": "end", "fill": AXIS},
                value_text(tick, unit),
            )
        )
    body.append(
        element(
            "line", {"x1": left, "x2": right, "y1": plot_bottom, "y2": plot_bottom, "stroke": AXIS}
        )
    )
    widest = max((text_width(label, FONT) for label, _ in points), default=0.0) + 8
    every = max(1, math.ceil(widest / band)) if points else 1
    for index, (label, value) in enumerate(points):
        if (len(points) - 1 - index) % every == 0:  # the latest day is always labelled
            half = text_width(label, FONT) / 2
            at = min(max(x(index), half), width - half)  # kept inside the picture
            body.append(
                element(
                    "text",
                    {"x": at, "y": plot_bottom + 16, "text-anchor": "middle", "fill": AXIS},
                    label,
                )
            )
        if value is None:
            body.append(
                element(
                    "rect",
                    {
                        "x": x(index) - band / 2,
                        "y": plot_top,
                        "width": band,
                        "height": plot_height,
                        "fill": MISSING,
                        "fill-opacity": "0.12",  # a str: a float would be cut to 0.1
                        "class": "chart-missing",
                    },
                    element("title", None, f"{label}: {missing}"),
                )
            )
    for run in _runs(points):
        if len(run) > 1:
            body.append(
                element(
                    "polyline",
                    {
                        "points": " ".join(f"{number(x(i))},{number(y(v))}" for i, v in run),
                        "fill": "none",
                        "stroke": SERIES,
                        "stroke-width": 2,
                        "class": "chart-line",
                    },
                )
            )
        for index, value in run:
            body.append(
                element(
                    "circle",
                    {"cx": x(index), "cy": y(value), "r": 3, "fill": SERIES},
                    element("title", None, f"{points[index][0]}: {value_text(value, unit)}"),
                )
            )
    if not values:
        body.append(_nothing(missing, (left + right) / 2, plot_top + plot_height / 2))
    return document(width, height, title, summary(points, unit, missing), *body)


def _runs(points: Sequence[Point]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive known values, each as (index, value)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, (_, value) in enumerate(points):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if run]


def _nothing(missing: str, x: float, y: float) -> Markup:
    return element("text", {"x": x, "y": y, "text-anchor": "middle", "fill": MISSING}, missing)


def bar_chart(
    title: str,
    points: Sequence[Point],
    unit: str,
    *,
    maximum: float | None = None,
    width: int = 640,
    height: int | None = None,
    missing: str = "no data",
) -> Markup:
    """One horizontal bar per label (a counselor's answers, say), labels on the
    left, each value at the end of its bar. Without `height` the chart is as
    tall as its bars need."""
    row = 24.0
    values = [v for _, v in points if v is not None]
    top, step = scale(values, maximum)
    plot_top = TITLE_FONT + 14.0
    if height is None:
        height = int(plot_top + max(len(points), 1) * row + 26)
    plot_bottom = height - 26.0
    row = (plot_bottom - plot_top) / max(len(points), 1)
    room = width * 0.3
    left = min(max((text_width(label, FONT) for label, _ in points), default=0.0), room) + 10
    right = width - max(text_width(value_text(top, unit), FONT), text_width(missing, FONT)) - 12

    def x(value: float) -> float:
        return left + (right - left) * _clamp(value, top) / top

    body = [_title(title)]
    for tick in _ticks(top, step):
        body.append(
            element(
                "line",
                {"x1": x(tick), "x2": x(tick), "y1": plot_top, "y2": plot_bottom, "stroke": GRID},
            )
        )
        body.append(
            element(
                "text",
                {"x": x(tick), "y": plot_bottom + 16, "text-anchor": "middle", "fill": AXIS},
                value_text(tick, unit),
            )
        )
    for index, (label, value) in enumerate(points):
        middle = plot_top + (index + 0.5) * row
        body.append(
            element(
                "text",
                {"x": left - 6, "y": middle + 4, "text-anchor": "end", "fill": INK},
                element("title", None, label),
                shorten(label, FONT, room),
            )
        )
        if value is None:
            body.append(element("text", {"x": left + 4, "y": middle + 4, "fill": MISSING}, missing))
            continue
        bar = element(
            "rect",
            {
                "x": left,
                "y": middle - row * 0.35,
                "width": x(value) - left,
                "height": row * 0.7,
                "fill": SERIES,
                "class": "chart-bar",
            },
            element("title", None, f"{label}: {value_text(value, unit)}"),
        )
        body.append(bar)
        body.append(
            element(
                "text", {"x": x(value) + 4, "y": middle + 4, "fill": INK}, value_text(value, unit)
            )
        )
    body.append(
        element("line", {"x1": left, "x2": left, "y1": plot_top, "y2": plot_bottom, "stroke": AXIS})
    )
    if not points:
        body.append(_nothing(missing, (left + right) / 2, (plot_top + plot_bottom) / 2))
    return document(width, height, title, summary(points, unit, missing), *body)


def _legend(
    entries: Sequence[tuple[str, str, bool]], width: float, y: float
) -> tuple[Markup, float]:
    """Swatch and name for each (name, colour, is a line) entry, flowing left
    to right under the title and wrapping to a new row when the width runs
    out; with the baseline of its last row."""
    row, swatch, gap = 16.0, 10.0, 14.0
    x, items = 1.0, []
    for name, colour, is_line in entries:
        shown = shorten(name, FONT, width - swatch - 8)
        room = swatch + 4 + text_width(shown, FONT)
        if x > 1 and x + room > width:
            x, y = 1.0, y + row
        if is_line:
            mark = Markup("").join(
                [
                    element(
                        "line",
                        {
                            "x1": x,
                            "x2": x + swatch,
                            "y1": y - 4,
                            "y2": y - 4,
                            "stroke": colour,
                            "stroke-width": 2,
                        },
                    ),
                    element("circle", {"cx": x + swatch / 2, "cy": y - 4, "r": 3, "fill": colour}),
                ]
            )
        else:
            mark = element(
                "rect", {"x": x, "y": y - swatch, "width": swatch, "height": swatch, "fill": colour}
            )
        items.append(mark)
        items.append(element("text", {"x": x + swatch + 4, "y": y, "fill": INK}, shown))
        x += room + gap
    return element("g", {"class": "chart-legend"}, *items), y


def column_chart(
    title: str,
    labels: Sequence[str],
    columns: Sequence[Series],
    unit: str,
    *,
    line: Series | None = None,
    maximum: float | None = None,
    width: int = 640,
    height: int = 240,
    missing: str = "no data",
    axis_label: str = "",
) -> Markup:
    """Side-by-side columns per label (hours of the day, say), one per series,
    and optionally a `line` over them on the same value axis. A series with
    None for a label draws nothing there (not a zero); a label with None in
    every series is a shaded, empty slot. Every column and point carries its
    label, series and value as a tooltip."""
    every_series = [*columns, *([line] if line is not None else [])]
    for name, given in every_series:
        if len(given) != len(labels):
            raise ValueError(f"{name}: {len(given)} values for {len(labels)} labels")
    values = [v for _, series in every_series for v in series if v is not None]
    top, step = scale(values, maximum)
    if step < 1 and all(v == int(v) for v in values):
        # Counts: no "1.5 contacts" gridline between two whole ones.
        top, step = max(math.ceil(top), 1), 1
    ticks = _ticks(top, step)
    left = max(text_width(value_text(t, unit), FONT) for t in ticks) + 10
    right = width - 8.0
    entries = [(name, PALETTE[k % len(PALETTE)], False) for k, (name, _) in enumerate(columns)]
    if line is not None:
        entries.append((line[0], LINE, True))
    legend, legend_bottom = _legend(entries, right, TITLE_FONT + 18.0)
    plot_top = legend_bottom + 14.0 if entries else TITLE_FONT + 16.0
    plot_bottom = height - 28.0 - (16.0 if axis_label else 0.0)
    plot_height = plot_bottom - plot_top
    band = (right - left) / max(len(labels), 1)
    group = band * 0.8
    column = group / max(len(columns), 1)

    def x(index: int) -> float:
        return left + (index + 0.5) * band

    def y(value: float) -> float:
        return plot_bottom - plot_height * _clamp(value, top) / top

    body = [_title(title)]
    if entries:
        body.append(legend)
    for tick in ticks:
        body.append(
            element("line", {"x1": left, "x2": right, "y1": y(tick), "y2": y(tick), "stroke": GRID})
        )
        body.append(
            element(
                "text",
                {"x": left - 6, "y": y(tick) + 4, "text-anchor": "end", "fill": AXIS},
                value_text(tick, unit),
            )
        )
    widest = max((text_width(label, FONT) for label in labels), default=0.0) + 8
    thin = max(1, math.ceil(widest / band)) if labels else 1
    for index, label in enumerate(labels):
        if (len(labels) - 1 - index) % thin == 0:  # the last label is always shown
            half = text_width(label, FONT) / 2
            at = min(max(x(index), half), width - half)  # kept inside the picture
            body.append(
                element(
                    "text",
                    {"x": at, "y": plot_bottom + 16, "text-anchor": "middle", "fill": AXIS},
                    label,
                )
            )
        if all(series[index] is None for _, series in every_series):
            body.append(
                element(
                    "rect",
                    {
                        "x": x(index) - band / 2,
                        "y": plot_top,
                        "width": band,
                        "height": plot_height,
                        "fill": MISSING,
                        "fill-opacity": "0.12",  # a str: a float would be cut to 0.1
                        "class": "chart-missing",
                    },
                    element("title", None, f"{label}: {missing}"),
                )
            )
            continue
        for k, (name, series) in enumerate(columns):
            value = series[index]
            if value is None:
                continue
            tall = max(plot_bottom - y(value), 1.0)  # a zero is still a column
            body.append(
                element(
                    "rect",
                    {
                        "x": x(index) - group / 2 + k * column,
                        "y": plot_bottom - tall,
                        "width": max(column - 1, 1.0) if column > 2 else column,
                        "height": tall,
                        "fill": PALETTE[k % len(PALETTE)],
                        "class": "chart-column",
                    },
                    element("title", None, f"{label} · {name}: {value_text(value, unit)}"),
                )
            )
    body.append(
        element(
            "line", {"x1": left, "x2": right, "y1": plot_bottom, "y2": plot_bottom, "stroke": AXIS}
        )
    )
    if line is not None:
        name, series = line
        for run in _runs(list(zip(labels, series, strict=True))):
            if len(run) > 1:
                body.append(
                    element(
                        "polyline",
                        {
                            "points": " ".join(f"{number(x(i))},{number(y(v))}" for i, v in run),
                            "fill": "none",
                            "stroke": LINE,
                            "stroke-width": 2,
                            "class": "chart-line",
                        },
                    )
                )
            for index, value in run:
                body.append(
                    element(
                        "circle",
                        {"cx": x(index), "cy": y(value), "r": 3, "fill": LINE},
                        element(
                            "title", None, f"{labels[index]} · {name}: {value_text(value, unit)}"
                        ),
                    )
                )
    if axis_label:
        centre = (left + right) / 2
        body.append(
            element(
                "text",
                {
                    "x": centre,
                    "y": plot_bottom + 34,
                    "text-anchor": "middle",
                    "fill": AXIS,
                    "class": "chart-axis-label",
                },
                shorten(axis_label, FONT, 2 * min(centre, width - centre) - 2),
            )
        )
    if not values:
        body.append(_nothing(missing, (left + right) / 2, plot_top + plot_height / 2))
    description = series_summary(labels, every_series, unit, missing)
    return document(width, height, title, description, *body)
