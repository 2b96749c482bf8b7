"""Hand-written inline SVG charts: no JavaScript, no CDN, so the report opens offline.

Every chart is an ``<svg class="chart">`` with a ``viewBox`` (it scales to its container),
``role="img"`` and an ``aria-label``, a title, labelled axes with units, and its data marks
tagged ``class="mark"`` and counted in ``data-marks`` so a test can check it really drew.
With no data a chart returns a short note instead of an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
W, H = 640, 320
Fmt = Callable[[float], str]


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.2g}"


def pct(v: float) -> str:
    return f"{v * 100:.0f}%" if abs(v) >= 0.1 or v == 0 else f"{v * 100:.1f}%"


def nice_ticks(lo: float, hi: float, count: int = 5, min_step: float = 0) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = max((hi - lo) / count, min_step)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _e(text: object) -> str:
    return escape(str(text), quote=True)


@dataclass
class _Plot:
    """A plot area inside the viewBox with linear scales."""

    left: float = 64
    right: float = 16
    top: float = 40
    bottom: float = 56
    width: float = W
    height: float = H

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


def _wrap(
    name: str,
    title: str,
    desc: str,
    body: list[str],
    marks: int,
    plot: _Plot,
    legend: list[str] | None = None,
) -> Markup:
    label = f"{title}. {desc}"
    parts = [
        f'<svg class="chart" data-chart="{_e(name)}" data-marks="{marks}" role="img" aria-label="{_e(label)}" '
        f'viewBox="0 0 {plot.width:.0f} {plot.height:.0f}" preserveAspectRatio="xMidYMid meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title><desc>{_e(desc)}</desc>",
        f'<text class="chart-title" x="{plot.width / 2:.0f}" y="20" text-anchor="middle">{_e(title)}</text>',
        *body,
        *(legend or []),
        "</svg>",
    ]
    return Markup("".join(parts))


def empty(title: str, why: str = "no data yet") -> Markup:
    return Markup(f'<p class="empty"><strong>{_e(title)}</strong>: {_e(why)}.</p>')


def _legend(labels: Sequence[str], plot: _Plot) -> list[str]:
    out, x = [], plot.x0
    for i, label in enumerate(labels):
        out.append(
            f'<rect x="{x:.1f}" y="{plot.height - 18}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text class="legend" x="{x + 14:.1f}" y="{plot.height - 9}">{_e(label)}</text>'
        )
        x += 24 + 6.5 * len(label)
    return out


def _y_axis(
    plot: _Plot, ticks: list[float], fmt: Fmt, label: str, scale: Callable[[float], float]
) -> list[str]:
    out = [f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x0}" y2="{plot.y1}"/>']
    for t in ticks:
        y = scale(t)
        out.append(
            f'<line class="gridline" x1="{plot.x0}" y1="{y:.1f}" x2="{plot.x1}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{plot.x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(fmt(t))}</text>'
        )
    mid = (plot.y0 + plot.y1) / 2
    out.append(
        f'<text class="axis-label" transform="translate(14 {mid:.0f}) rotate(-90)" text-anchor="middle">{_e(label)}</text>'
    )
    return out


def _x_axis_label(plot: _Plot, label: str, legend: bool) -> str:
    y = plot.height - (26 if legend else 8)
    return f'<text class="axis-label" x="{(plot.x0 + plot.x1) / 2:.0f}" y="{y}" text-anchor="middle">{_e(label)}</text>'


def bar_chart(
    name: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    x_label: str,
    y_label: str,
    fmt: Fmt = _num,
    stacked: bool = False,
    label_every: int = 1,
) -> Markup:
    """Vertical bars: one series, several side by side (grouped) or stacked."""
    if not categories or not series or not any(v for _, vals in series for v in vals):
        return empty(title)
    legend = len(series) > 1
    plot = _Plot(bottom=72 if legend else 52)
    top = (
        max(sum(vals[i] for _, vals in series) for i in range(len(categories)))
        if stacked
        else max(v for _, vals in series for v in vals)
    )
    ticks = nice_ticks(0, top, min_step=1 if fmt is _num else 0)  # no half-people
    span = ticks[-1] or 1

    def sy(v: float) -> float:
        return plot.y0 - (plot.y0 - plot.y1) * v / span

    band = (plot.x1 - plot.x0) / len(categories)
    inner = band * 0.8
    bw = inner if stacked else inner / len(series)
    body = _y_axis(plot, ticks, fmt, y_label, sy)
    marks = 0
    for i, cat in enumerate(categories):
        bx = plot.x0 + band * i + band * 0.1
        base = 0.0
        for s, (label, vals) in enumerate(series):
            v = vals[i] or 0
            x = bx if stacked else bx + bw * s
            y_top, y_bot = sy(base + v), sy(base)
            if v > 0:
                body.append(
                    f'<rect class="mark" x="{x:.1f}" y="{y_top:.1f}" width="{max(bw - 1, 1):.1f}" '
                    f'height="{max(y_bot - y_top, 0.5):.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                    f"<title>{_e(cat)} - {_e(label)}: {_e(fmt(v))}</title></rect>"
                )
                marks += 1
            if stacked:
                base += v
        if i % label_every == 0:
            body.append(
                f'<text class="tick" x="{bx + inner / 2:.1f}" y="{plot.y0 + 16}" text-anchor="middle">{_e(cat)}</text>'
            )
    body.append(f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x1}" y2="{plot.y0}"/>')
    body.append(_x_axis_label(plot, x_label, legend))
    desc = f"{len(categories)} categories of {x_label}; {y_label} on the vertical axis"
    return _wrap(
        name, title, desc, body, marks, plot, _legend([s for s, _ in series], plot) if legend else None
    )


def hbar_chart(
    name: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    x_label: str,
    fmt: Fmt = _num,
    stacked: bool = True,
) -> Markup:
    """Horizontal (stacked) bars: for long category names such as campaigns or rules."""
    if not categories or not series or not any(v for _, vals in series for v in vals):
        return empty(title)
    legend = len(series) > 1
    longest = max(len(str(c)) for c in categories)
    row = 26
    plot = _Plot(left=min(16 + 6.8 * longest, 260), bottom=72 if legend else 52)
    plot.height = plot.top + plot.bottom + row * len(categories)
    top = max(
        (sum(vals[i] for _, vals in series) if stacked else max(vals[i] for _, vals in series))
        for i in range(len(categories))
    )
    ticks = nice_ticks(0, top, min_step=1 if fmt is _num else 0)  # no half-people
    span = ticks[-1] or 1

    def sx(v: float) -> float:
        return plot.x0 + (plot.x1 - plot.x0) * v / span

    body = [f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x1}" y2="{plot.y0}"/>']
    for t in ticks:
        body.append(
            f'<line class="gridline" x1="{sx(t):.1f}" y1="{plot.y1}" x2="{sx(t):.1f}" y2="{plot.y0}"/>'
            f'<text class="tick" x="{sx(t):.1f}" y="{plot.y0 + 16}" text-anchor="middle">{_e(fmt(t))}</text>'
        )
    marks = 0
    for i, cat in enumerate(categories):
        y = plot.y1 + row * i + 4
        bh = (row - 8) / (1 if stacked else len(series))
        base = 0.0
        for s, (label, vals) in enumerate(series):
            v = vals[i] or 0
            yy = y if stacked else y + bh * s
            if v > 0:
                body.append(
                    f'<rect class="mark" x="{sx(base):.1f}" y="{yy:.1f}" width="{max(sx(base + v) - sx(base), 0.5):.1f}" '
                    f'height="{bh:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{_e(cat)} - {_e(label)}: {_e(fmt(v))}</title></rect>'
                )
                marks += 1
            if stacked:
                base += v
        body.append(
            f'<text class="tick" x="{plot.x0 - 6}" y="{y + (row - 8) / 2 + 4:.1f}" text-anchor="end">{_e(cat)}</text>'
        )
    body.append(f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x0}" y2="{plot.y1}"/>')
    body.append(_x_axis_label(plot, x_label, legend))
    desc = f"{len(categories)} rows; {x_label} on the horizontal axis"
    return _wrap(
        name, title, desc, body, marks, plot, _legend([s for s, _ in series], plot) if legend else None
    )


def _shade(v: float, vmax: float) -> str:
    """White to dark blue; the text colour flips on dark cells."""
    t = 0 if vmax <= 0 else v / vmax
    r, g, b = (round(247 + (8 - 247) * t), round(251 + (69 - 251) * t), round(255 + (148 - 255) * t))
    return f"rgb({r},{g},{b})"


def heatmap(
    name: str,
    title: str,
    x_cats: Sequence[str],
    y_cats: Sequence[str],
    values: Sequence[Sequence[float]],
    x_label: str,
    y_label: str,
    fmt: Fmt = _num,
) -> Markup:
    """A grid of counts: values[y][x]; each cell is shaded and labelled."""
    if not x_cats or not y_cats or not any(v for row in values for v in row):
        return empty(title)
    longest = max(len(str(c)) for c in y_cats)
    plot = _Plot(left=max(64, min(30 + 6.8 * longest, 220)), bottom=64)
    cell_w = (plot.x1 - plot.x0) / len(x_cats)
    cell_h = min(40.0, max(22.0, 240 / len(y_cats)))
    plot.height = plot.top + plot.bottom + cell_h * len(y_cats)
    vmax = max(v for row in values for v in row)
    body, marks = [], 0
    for yi, ycat in enumerate(y_cats):
        y = plot.y1 + cell_h * yi
        body.append(
            f'<text class="tick" x="{plot.x0 - 6}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">{_e(ycat)}</text>'
        )
        for xi, xcat in enumerate(x_cats):
            v = values[yi][xi] or 0
            x = plot.x0 + cell_w * xi
            body.append(
                f'<rect class="mark cell" x="{x:.1f}" y="{y:.1f}" width="{cell_w - 2:.1f}" height="{cell_h - 2:.1f}" '
                f'fill="{_shade(v, vmax)}"><title>{_e(y_label)} {_e(ycat)}, {_e(x_label)} {_e(xcat)}: {_e(fmt(v))}</title></rect>'
            )
            colour = "#fff" if vmax and v / vmax > 0.55 else "#1b1b1b"
            if cell_w > 26:
                body.append(
                    f'<text class="cell-label" x="{x + cell_w / 2 - 1:.1f}" y="{y + cell_h / 2 + 4:.1f}" '
                    f'text-anchor="middle" fill="{colour}">{_e(fmt(v))}</text>'
                )
            marks += 1
    for xi, xcat in enumerate(x_cats):
        x = plot.x0 + cell_w * xi + cell_w / 2
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{plot.y1 + cell_h * len(y_cats) + 16:.1f}" text-anchor="middle">{_e(xcat)}</text>'
        )
    body.append(_x_axis_label(plot, x_label, False))
    mid = plot.y1 + cell_h * len(y_cats) / 2
    body.append(
        f'<text class="axis-label" transform="translate(14 {mid:.0f}) rotate(-90)" text-anchor="middle">{_e(y_label)}</text>'
    )
    desc = f"{len(y_cats)} by {len(x_cats)} grid, {y_label} by {x_label}, darker is more"
    return _wrap(name, title, desc, body, marks, plot)


def line_chart(
    name: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    x_label: str,
    y_label: str,
    fmt: Fmt = _num,
) -> Markup:
    """Lines over ordered categories (dates); a single point still shows as a dot."""
    if not x_labels or not series:
        return empty(title)
    plot = _Plot(bottom=72 if len(series) > 1 else 52)
    ticks = nice_ticks(0, max(v for _, vals in series for v in vals) or 1, min_step=1 if fmt is _num else 0)
    span = ticks[-1] or 1
    step = (plot.x1 - plot.x0) / max(len(x_labels) - 1, 1)

    def sx(i: int) -> float:
        return plot.x0 + (step * i if len(x_labels) > 1 else (plot.x1 - plot.x0) / 2)

    def sy(v: float) -> float:
        return plot.y0 - (plot.y0 - plot.y1) * v / span

    body = _y_axis(plot, ticks, fmt, y_label, sy)
    body.append(f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x1}" y2="{plot.y0}"/>')
    every = max(1, math.ceil(len(x_labels) / 8))
    for i, lab in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            body.append(
                f'<text class="tick" x="{sx(i):.1f}" y="{plot.y0 + 16}" text-anchor="middle">{_e(lab)}</text>'
            )
    marks = 0
    for s, (label, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        pts = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(vals))
        body.append(
            f'<polyline class="mark line" points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        marks += 1
        for i, v in enumerate(vals):
            body.append(
                f'<circle class="point" cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="3" fill="{colour}">'
                f"<title>{_e(label)} {_e(x_labels[i])}: {_e(fmt(v))}</title></circle>"
            )
    body.append(_x_axis_label(plot, x_label, len(series) > 1))
    desc = f"{len(series)} series over {len(x_labels)} {x_label}"
    return _wrap(
        name,
        title,
        desc,
        body,
        marks,
        plot,
        _legend([s for s, _ in series], plot) if len(series) > 1 else None,
    )


def calibration_chart(name: str, title: str, points: Sequence[tuple[float, float, float]]) -> Markup:
    """Predicted vs observed rate per bin, against the diagonal of perfect calibration; dot area ~ count."""
    if not points:
        return empty(title, "no calibration bins in the model registry")
    plot = _Plot(left=64, right=24, bottom=52)
    plot.width = 420
    plot.height = 400
    hi = nice_ticks(0, max(max(p, o) for p, o, _ in points) or 1, 4)
    span = hi[-1] or 1

    def sx(v: float) -> float:
        return plot.x0 + (plot.x1 - plot.x0) * v / span

    def sy(v: float) -> float:
        return plot.y0 - (plot.y0 - plot.y1) * v / span

    body = _y_axis(plot, hi, pct, "Observed engagement rate (%)", sy)
    body.append(f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x1}" y2="{plot.y0}"/>')
    for t in hi:
        body.append(
            f'<text class="tick" x="{sx(t):.1f}" y="{plot.y0 + 16}" text-anchor="middle">{pct(t)}</text>'
        )
    body.append(
        f'<line class="diagonal" x1="{sx(0):.1f}" y1="{sy(0):.1f}" x2="{sx(span):.1f}" y2="{sy(span):.1f}"/>'
    )
    biggest = max(n for _, _, n in points) or 1
    for p, o, n in points:
        r = 3 + 7 * math.sqrt((n or 0) / biggest)
        body.append(
            f'<circle class="mark" cx="{sx(p):.1f}" cy="{sy(o):.1f}" r="{r:.1f}" fill="{PALETTE[0]}" fill-opacity="0.75">'
            f"<title>predicted {pct(p)}, observed {pct(o)}, {n:,.0f} scores</title></circle>"
        )
    body.append(_x_axis_label(plot, "Predicted probability of engagement (%)", False))
    return _wrap(
        name, title, f"{len(points)} bins; on the diagonal means well calibrated", body, len(points), plot
    )


def interval_chart(
    name: str,
    title: str,
    rows: Sequence[tuple[str, float, float, float]],
    x_label: str,
    fmt: Fmt = pct,
) -> Markup:
    """Point estimates with 95% intervals (a forest plot), with a reference line at zero."""
    rows = [r for r in rows if all(v is not None and not math.isnan(v) for v in r[1:])]
    if not rows:
        return empty(title, "no campaign with a holdout yet")
    longest = max(len(r[0]) for r in rows)
    row_h = 28
    plot = _Plot(left=min(16 + 6.8 * longest, 260), bottom=52)
    plot.height = plot.top + plot.bottom + row_h * len(rows)
    lo = min(min(r[2] for r in rows), 0)
    hi = max(max(r[3] for r in rows), 0)
    pad = (hi - lo) * 0.05 or 0.01
    ticks = nice_ticks(lo - pad, hi + pad)  # multiples of the step, so 0 is a tick
    t0, t1 = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return plot.x0 + (plot.x1 - plot.x0) * (v - t0) / ((t1 - t0) or 1)

    body = [f'<line class="axis" x1="{plot.x0}" y1="{plot.y0}" x2="{plot.x1}" y2="{plot.y0}"/>']
    for t in ticks:
        body.append(
            f'<line class="gridline" x1="{sx(t):.1f}" y1="{plot.y1}" x2="{sx(t):.1f}" y2="{plot.y0}"/>'
            f'<text class="tick" x="{sx(t):.1f}" y="{plot.y0 + 16}" text-anchor="middle">{_e(fmt(t))}</text>'
        )
    body.append(f'<line class="zero" x1="{sx(0):.1f}" y1="{plot.y1}" x2="{sx(0):.1f}" y2="{plot.y0}"/>')
    for i, (label, est, low, high) in enumerate(rows):
        y = plot.y1 + row_h * i + row_h / 2
        colour = PALETTE[2] if low > 0 else PALETTE[5] if high < 0 else "#555"
        body.append(
            f'<g class="mark"><title>{_e(label)}: {fmt(est)} (95% CI {fmt(low)} to {fmt(high)})</title>'
            f'<line x1="{sx(low):.1f}" y1="{y:.1f}" x2="{sx(high):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{sx(est):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/></g>'
            f'<text class="tick" x="{plot.x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(label)}</text>'
        )
    body.append(_x_axis_label(plot, x_label, False))
    desc = f"{len(rows)} estimates with 95% confidence intervals; the line marks zero"
    return _wrap(name, title, desc, body, len(rows), plot)
