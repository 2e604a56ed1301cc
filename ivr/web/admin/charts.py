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

FONT = 12
TITLE_FONT = 14
GRID = "#d0d4d9"
AXIS = "#5f6b7a"
INK = "#1f2933"
SERIES = "#1f6feb"
MISSING = "#8792a2"


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
    high = max(known, key=lambda p: p[1])
    low = min(known, key=lambda p: p[1])
    parts = [
        f"{span}",
        f"highest {value_text(high[1], unit)} ({high[0]})",
        f"lowest {value_text(low[1], unit)} ({low[0]})",
    ]
    if points[-1][1] is not None:
        parts.append(f"latest {value_text(points[-1][1], unit)}")
    gaps = len(points) - len(known)
    if gaps:
        parts.append(f"{gaps} of {len(points)} {missing}")
    return "; ".join(parts)


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
                        "fill-opacity": 0.12,
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
