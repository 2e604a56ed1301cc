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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Frame:
    """Where a chart with a label axis below (days, hours) draws: one band
    per label, values from 0 at the bottom to TOP."""

    left: float
    right: float
    plot_top: float
    plot_bottom: float
    labels: int
    top: float

    @property
    def band(self) -> float:
        return (self.right - self.left) / max(self.labels, 1)

    def x(self, index: int) -> float:
        return self.left + (index + 0.5) * self.band

    def y(self, value: float) -> float:
        return (
            self.plot_bottom
            - (self.plot_bottom - self.plot_top) * _clamp(value, self.top) / self.top
        )

    def gridlines(self, ticks: Sequence[float], unit: str) -> list[Markup]:
        """A line and its value at each tick, the value with its unit."""
        drawn = []
        for tick in ticks:
            at = self.y(tick)
            drawn.append(
                element(
                    "line", {"x1": self.left, "x2": self.right, "y1": at, "y2": at, "stroke": GRID}
                )
            )
            drawn.append(
                element(
                    "text",
                    {"x": self.left - 6, "y": at + 4, "text-anchor": "end", "fill": AXIS},
                    value_text(tick, unit),
                )
            )
        return drawn

    def label_axis(self, labels: Sequence[str], width: int) -> list[Markup]:
        """The labels under their bands, thinned to those that fit; the
        last (the latest day) always shown, each kept inside the picture."""
        widest = max((text_width(label, FONT) for label in labels), default=0.0) + 8
        every = max(1, math.ceil(widest / self.band)) if labels else 1
        drawn = []
        for index, label in enumerate(labels):
            if (len(labels) - 1 - index) % every:
                continue
            half = text_width(label, FONT) / 2
            at = min(max(self.x(index), half), width - half)
            drawn.append(
                element(
                    "text",
                    {"x": at, "y": self.plot_bottom + 16, "text-anchor": "middle", "fill": AXIS},
                    label,
                )
            )
        return drawn

    def empty_slot(self, index: int, label: str, missing: str) -> Markup:
        """A label's whole band shaded: nothing to show there (not a zero)."""
        return element(
            "rect",
            {
                "x": self.x(index) - self.band / 2,
                "y": self.plot_top,
                "width": self.band,
                "height": self.plot_bottom - self.plot_top,
                "fill": MISSING,
                "fill-opacity": "0.12",  # a str: a float would be cut to 0.1
                "class": "chart-missing",
            },
            element("title", None, f"{label}: {missing}"),
        )

    def series_line(
        self,
        labels: Sequence[str],
        values: Sequence[float | None],
        colour: str,
        name: str,
        unit: str,
    ) -> list[Markup]:
        """VALUES as a line broken where one is None, with a point per value
        titled "label: value" ("label · NAME: value" when NAME is given)."""
        drawn = []
        for run in _runs(list(zip(labels, values, strict=True))):
            if len(run) > 1:
                drawn.append(
                    element(
                        "polyline",
                        {
                            "points": " ".join(
                                f"{number(self.x(i))},{number(self.y(v))}" for i, v in run
                            ),
                            "fill": "none",
                            "stroke": colour,
                            "stroke-width": 2,
                            "class": "chart-line",
                        },
                    )
                )
            for index, value in run:
                said = f"{labels[index]} · {name}" if name else labels[index]
                drawn.append(
                    element(
                        "circle",
                        {"cx": self.x(index), "cy": self.y(value), "r": 3, "fill": colour},
                        element("title", None, f"{said}: {value_text(value, unit)}"),
                    )
                )
        return drawn

    def baseline(self) -> Markup:
        return element(
            "line",
            {
                "x1": self.left,
                "x2": self.right,
                "y1": self.plot_bottom,
                "y2": self.plot_bottom,
                "stroke": AXIS,
            },
        )

    def nothing(self, missing: str) -> Markup:
        middle = (self.plot_top + self.plot_bottom) / 2
        return _nothing(missing, (self.left + self.right) / 2, middle)


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
    frame = _Frame(left, width - 8.0, TITLE_FONT + 16.0, height - 28.0, len(points), top)
    labels = [label for label, _ in points]
    body = [_title(title), *frame.gridlines(ticks, unit), frame.baseline()]
    body += frame.label_axis(labels, width)
    body += [
        frame.empty_slot(index, label, missing)
        for index, (label, value) in enumerate(points)
        if value is None
    ]
    body += frame.series_line(labels, [value for _, value in points], SERIES, "", unit)
    if not values:
        body.append(frame.nothing(missing))
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
    frame = _Frame(left, right, plot_top, plot_bottom, len(labels), top)
    x, y = frame.x, frame.y
    group = frame.band * 0.8
    column = group / max(len(columns), 1)
    body = [_title(title), *([legend] if entries else []), *frame.gridlines(ticks, unit)]
    body += frame.label_axis(labels, width)
    for index, label in enumerate(labels):
        if all(series[index] is None for _, series in every_series):
            body.append(frame.empty_slot(index, label, missing))
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
    body.append(frame.baseline())
    if line is not None:
        body += frame.series_line(labels, line[1], LINE, line[0], unit)
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
        body.append(frame.nothing(missing))
    description = series_summary(labels, every_series, unit, missing)
    return document(width, height, title, description, *body)
