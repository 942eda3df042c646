"""Server-side SVG chart geometry (no JavaScript; colours as SVG presentation attributes, which CSP allows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

STATE_COLOURS = {
    # The one colour language (docs/colours.md); the two warning states in two shades of amber.
    "valid": "#1b7a3a", "expired": "#8a4b00", "not_yet_valid": "#d08c2c", "suspended": "#3d5a80",
    "revoked": "#a51d1d", "pending": "#c9a227", "rejected": "#6d4c41",
}


@dataclass(frozen=True)
class Bar:
    """One rectangle (and its label) in a chart."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str = ""
    title: str = ""


def stacked_rows(rows: list[tuple[str, dict[str, int]]], *, width: int = 560, row_h: int = 26,
                 label_w: int = 120) -> tuple[list[Bar], int]:
    """Return horizontal stacked bars (one row per branch) and the chart height."""
    biggest = max([sum(v.values()) for _, v in rows] + [1])
    scale = (width - label_w - 40) / biggest
    bars: list[Bar] = []
    for i, (name, values) in enumerate(rows):
        x, y = float(label_w), float(i * row_h + 4)
        bars.append(Bar(0, y, 0, row_h - 8, "none", label=name))
        for state, n in values.items():
            if n:
                w = max(n * scale, 1.0)
                bars.append(Bar(x, y, w, row_h - 8, STATE_COLOURS.get(state, "#777"), title=f"{state}: {n}"))
                x += w
        bars.append(Bar(x + 4, y, 0, row_h - 8, "none", label=str(sum(values.values()))))
    return bars, max(len(rows) * row_h, row_h)


def ratio_rows(rows: list[tuple[str, int, int]], *, width: int = 560, row_h: int = 26,
               label_w: int = 120) -> tuple[list[Bar], int]:
    """Return one bar per row showing part/whole (background bar plus the share)."""
    full = width - label_w - 90
    bars: list[Bar] = []
    for i, (name, part, whole) in enumerate(rows):
        y = float(i * row_h + 4)
        share = part / whole if whole else 0.0
        bars.append(Bar(0, y, 0, row_h - 8, "none", label=name))
        bars.append(Bar(label_w, y, full, row_h - 8, "#eeeeee"))
        if part:
            bars.append(Bar(label_w, y, max(full * share, 1.0), row_h - 8, "#b71c1c", title=f"{part}/{whole}"))
        bars.append(Bar(label_w + full + 6, y, 0, row_h - 8, "none", label=f"{part}/{whole} · {share:.0%}"))
    return bars, max(len(rows) * row_h, row_h)


def columns(points: list[tuple[date, int]], *, width: int = 560, height: int = 160) -> list[Bar]:
    """Return vertical bars for a daily series, labelled with the day of month."""
    biggest = max([n for _, n in points] + [1])
    slot = width / max(len(points), 1)
    bars = []
    for i, (day, n) in enumerate(points):
        h = (height - 30) * n / biggest
        bars.append(Bar(i * slot + 2, height - 18 - h, slot - 4, h, "#b71c1c",
                        label=str(day.day), title=f"{day.isoformat()}: {n}"))
    return bars
