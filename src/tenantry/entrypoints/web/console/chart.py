"""The geometry of a bar chart drawn as inline SVG on the server (no script, no styles: the page's
content security policy allows neither inline).

`bar_chart` turns labelled values into rectangles and axis labels in the chart's own coordinate
space (its viewBox); the template only writes them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 480
HEIGHT = 220
LEFT = 56  # room for the value axis labels
RIGHT = 8
TOP = 12
BOTTOM = 36  # room for the time axis labels
GAP = 0.2  # share of each slot left empty between bars
X_LABELS = 5  # at most this many labels along the time axis


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Tick:
    """A label on an axis, at `at` (y for the value axis, x for the time axis)."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    right: float
    top: int
    bottom: float
    scale_max: int
    bars: list[Bar]
    value_ticks: list[Tick]
    label_ticks: list[Tick]


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above `value`: an axis maximum people read
    at a glance."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def bar_chart(points: Sequence[tuple[str, int]], *, axis_labels: Sequence[str] = ()) -> BarChart:
    """Bars for `points` (label, value), scaled so the tallest reaches a round maximum.

    `axis_labels` are the time axis texts, one per point (the point labels by default); a
    few of them, evenly spread, are shown.
    """
    scale_max = nice_ceiling(max((v for _, v in points), default=0) or 1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_height
    slot = plot_width / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = plot_height * value / scale_max
        if value > 0:
            height = max(height, 1.0)  # a small count still shows
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * GAP / 2, 2),
                y=round(bottom - height, 2),
                width=round(slot * (1 - GAP), 2),
                height=round(height, 2),
                label=label,
                value=value,
            )
        )
    value_ticks = [
        Tick(round(bottom - plot_height * share, 2), f"{scale_max * share:,.0f}")
        for share in (0, 0.5, 1)
        if scale_max * share == int(scale_max * share)
    ]
    texts = list(axis_labels) or [label for label, _ in points]
    every = max(1, -(-len(texts) // X_LABELS))
    label_ticks = [
        Tick(round(LEFT + (index + 0.5) * slot, 2), text)
        for index, text in enumerate(texts)
        if index % every == 0
    ]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=bottom,
        scale_max=scale_max,
        bars=bars,
        value_ticks=value_ticks,
        label_ticks=label_ticks,
    )
