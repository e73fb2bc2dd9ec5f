"""Charts as inline SVG for the standalone HTML report (no script, no CDN, no plotting library):
line charts (equity with buy & hold, drawdown, a comparison's curves) and a sweep heatmap.

Example:
    >>> import pandas as pd
    >>> t = pd.date_range("2020-01-01", periods=50)
    >>> svg = line_chart(t, [("equity", np.linspace(100, 120, 50), "#1976d2", False)])
    >>> svg.startswith("<svg") and "polyline" in svg and "2020-01" in svg
    True
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from ._sync import downsample_indices

__all__ = ["heatmap", "line_chart", "nice_ticks"]

Line = tuple[str, Any, str, bool]  # (label, values, colour, dashed)
_FONT = 'font-family="sans-serif" font-size="11"'


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering ``[lo, hi]``.

    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.2f}M"
    if a >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:g}"


def line_chart(
    t: Any,
    lines: list[Line],
    *,
    width: int = 720,
    height: int = 220,
    percent: bool = False,
    title: str = "",
) -> str:
    """An SVG line chart of ``lines`` over the times ``t`` (downsampled to <= 1,000 points,
    keeping every line's extremes)."""
    index = pd.DatetimeIndex(t).as_unit("ns")  # asi8 below is in ns
    arrays = [np.asarray(v, dtype=float) for _, v, _, _ in lines]
    if not len(index) or not arrays:
        return ""
    keep = downsample_indices(arrays)
    secs = index.asi8[keep].astype(float)
    ys = [a[keep] for a in arrays]
    finite = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.array([])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    left, right, top, bottom = 62, 10, 22 if title else 10, 24
    w, h = width - left - right, height - top - bottom
    x0, x1 = secs[0], secs[-1] if secs[-1] > secs[0] else secs[0] + 1

    def px(s: float) -> float:
        return left + (s - x0) / (x1 - x0) * w

    def py(v: float) -> float:
        return top + (hi - v) / (hi - lo) * h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    if title:
        out.append(
            f'<text x="{left}" y="14" {_FONT} font-weight="bold">{html.escape(title)}</text>'
        )
    for v in nice_ticks(lo, hi):
        y = py(v)
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {_FONT} '
            f'fill="#555">{_label(v, percent)}</text>'
        )
    span_days = (x1 - x0) / 86400e9
    fmt = "%Y" if span_days > 3 * 365 else "%Y-%m" if span_days > 90 else "%Y-%m-%d"
    for s in np.linspace(x0, x1, 6):
        x = px(s)
        when = pd.Timestamp(int(s)).strftime(fmt)
        out.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" {_FONT} '
            f'fill="#555">{when}</text>'
        )
    for (label, _, colour, dashed), y in zip(lines, ys, strict=True):
        segment: list[str] = []
        segments = [segment]
        for s, v in zip(secs, y, strict=True):
            if math.isfinite(v):
                segment.append(f"{px(s):.1f},{py(v):.1f}")
            elif segment:
                segment = []
                segments.append(segment)
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        for seg in segments:
            if seg:
                out.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
                    f'points="{" ".join(seg)}"><title>{html.escape(label)}</title></polyline>'
                )
    for i, (label, _, colour, dashed) in enumerate(lines if len(lines) > 1 else []):
        x = left + 8 + i * 150
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{top + 8}" y2="{top + 8}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x + 22}" y="{top + 12}" {_FONT}>{html.escape(label[:22])}</text>')
    out.append("</svg>")
    return "".join(out)


def _colour(v: float, scale: float) -> str:
    """Red below zero, white at zero, blue above (as the panel's heatmap)."""
    if not math.isfinite(v):
        return "#eeeeee"
    f = min(1.0, abs(v) / scale) if scale > 0 else 0.0
    r, g, b = (198, 40, 40) if v < 0 else (21, 101, 192)
    mix = [round(255 + (c - 255) * f) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def heatmap(cells: list[dict[str, Any]], x: str, y: str, metric: str, max_cells: int = 4000) -> str:
    """An SVG heatmap of ``metric`` over parameters ``x`` and ``y`` ("" when too big or empty)."""
    if not cells or len(cells) > max_cells:
        return ""
    xs = sorted({c[x] for c in cells})
    ys = sorted({c[y] for c in cells})
    values = [c.get(metric) for c in cells]
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    scale = max(finite) if finite else 0.0
    cw, ch = max(4.0, 600 / len(xs)), max(4.0, 300 / len(ys))
    left, top = 50, 10
    width, height = int(left + cw * len(xs) + 10), int(top + ch * len(ys) + 30)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    xi, yi = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
    for c, v in zip(cells, values, strict=True):
        value = float(v) if isinstance(v, (int, float)) else math.nan
        rx, ry = left + xi[c[x]] * cw, top + (len(ys) - 1 - yi[c[y]]) * ch
        tip = html.escape(f"{x}={c[x]} {y}={c[y]} {metric}={value:.3f}")
        out.append(
            f'<rect x="{rx:.1f}" y="{ry:.1f}" width="{cw:.1f}" height="{ch:.1f}" '
            f'fill="{_colour(value, scale)}"><title>{tip}</title></rect>'
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" {_FONT}>{html.escape(x)}: {xs[0]}..{xs[-1]}'
        f"; {html.escape(y)}: {ys[0]}..{ys[-1]} (up); {html.escape(metric)}: red &lt; 0 "
        f"&lt; blue, |max| {scale:.3f}</text>"
    )
    out.append("</svg>")
    return "".join(out)
