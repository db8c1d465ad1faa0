"""Pictures of a rubric line, drawn in the grader from the numbers its check computed: a small inline
SVG line chart (no files, no network, nothing a browser must fetch, no script).

A plot is plain data in the record (``item["plot"]``), so a regrade or ``make publish`` redraws it:

    {"title": str, "caption": str, "xlabel": str, "ylabel": str, "log": bool,
     "series": [{"label": str, "x": [numbers], "y": [numbers]}, ...]}

The first series is the student's, drawn solid; the others (the reference) dashed. A series may say
``"dashed": true/false`` itself (a plot with several runs of the student's).

Drawn here rather than by matplotlib: a class's pages are written one after the other when its run
ends, and matplotlib spent 40-200 ms on each chart (its text layout), a serial tail that grew with the
class however many cores graded it. This chart costs about a millisecond; its bytes are deterministic.
"""

from __future__ import annotations

import math
from html import escape

from .json_report import number

WIDTH, HEIGHT = 600, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 14, 30, 46  # margins around the plotting area
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MINOR_DECADES = 2.0  # data spanning fewer decades than this gets labelled ticks between them
MAX_POINTS = 2000  # per series: a record is data, not a dump
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def valid(plot) -> bool:
    """Whether ``plot`` has the shape above (records are read back from disk: never trust them)."""
    if not isinstance(plot, dict) or not isinstance(plot.get("series"), list) or not plot["series"]:
        return False
    for s in plot["series"]:
        if not (isinstance(s, dict) and isinstance(s.get("x"), list) and isinstance(s.get("y"), list)):
            return False
        if len(s["x"]) != len(s["y"]) or len(s["x"]) > MAX_POINTS:
            return False
        if any(number(v) is None for v in s["x"] + s["y"]):
            return False
    return True


def _finite(xs: list, ys: list, log: bool) -> tuple[list, list]:
    """The points a chart can show: finite (NaN and infinities of a diverged run are left out) and, on a
    log axis, positive."""
    pairs = [(number(x), number(y)) for x, y in zip(xs, ys, strict=True)]
    keep = [(x, y) for x, y in pairs if x is not None and y is not None
            and math.isfinite(x) and math.isfinite(y) and (y > 0 or not log)]
    return [x for x, _ in keep], [y for _, y in keep]


def _power_of_ten(value: float, _pos: int = 0) -> str:
    """``10⁻³`` for an exact power of ten (plain Unicode, no markup), else ``""``."""
    if value <= 0:
        return ""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return ""
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


def _nice_ticks(low: float, high: float, target: int = 6) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / target
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(math.ceil((high - first) / step)) + 1)]


def _log_ticks(low: float, high: float, decades: float) -> tuple[list[float], list[str]]:
    """Tick values and labels of a log axis over [low, high] (both > 0) for data spanning ``decades``:
    the powers of ten, and when the data spans few of them also the round values between them; all
    labelled one way (plain numbers when there are values between, else ``10ⁿ``), never mixed."""
    if decades < 1:
        between = (1, 2, 3, 4, 6, 8)
    elif decades < MINOR_DECADES:
        between = (1, 2, 5)
    else:
        between = (1,)
    values, labels = [], []
    for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for m in between:
            v = m * 10.0**k
            if low <= v * (1 + 1e-12) and v <= high * (1 + 1e-12):
                values.append(v)
                labels.append(f"{v:g}" if len(between) > 1 else _power_of_ten(v))
    return values, labels


def _label(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-12 else "0"


def _points(series: list[dict], log: bool) -> list[list[tuple[float, float]]]:
    """Each series' drawable points (finite; positive on a log axis)."""
    return [list(zip(*_finite(s["x"], s["y"], log), strict=True)) for s in series]


def _text(x: float, y: float, text: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def svg(plot: dict) -> str:
    """The plot as an ``<svg>`` element: axes with ticks and grid, one line per series, a legend."""
    log = bool(plot.get("log"))
    lines = _points(plot["series"], log)
    xs = [x for pts in lines for x, _ in pts] or [0.0, 1.0]
    ys = [y for pts in lines for _, y in pts] or ([1.0, 10.0] if log else [0.0, 1.0])
    x_ticks = _nice_ticks(min(xs), max(xs))
    x0, x1 = min(min(xs), x_ticks[0]), max(max(xs), x_ticks[-1])
    if log:
        y_lo, y_hi = min(ys), max(ys)
        if y_hi <= y_lo * 1.0001:
            y_lo, y_hi = y_lo / 2, y_hi * 2
        pad = (math.log10(y_hi) - math.log10(y_lo)) * 0.05
        y0, y1 = math.log10(y_lo) - pad, math.log10(y_hi) + pad
        ticks, tick_labels = _log_ticks(10**y0, 10**y1, math.log10(y_hi / y_lo))
        y_ticks = [math.log10(v) for v in ticks]
    else:
        y_ticks = _nice_ticks(min(ys), max(ys))
        y0, y1 = min(min(ys), y_ticks[0]), max(max(ys), y_ticks[-1])
        tick_labels = [_label(v) for v in y_ticks]
    if x1 <= x0:
        x1 = x0 + 1.0
    if y1 <= y0:
        y1 = y0 + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (1 - ((math.log10(y) if log else y) - y0) / (y1 - y0)) * plot_h

    def py_axis(v: float) -> float:  # a tick already in axis units (log10 on a log axis)
        return TOP + (1 - (v - y0) / (y1 - y0)) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" '
           'role="img">',
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    for v in x_ticks:
        if x0 <= v <= x1:
            out.append(f'<line x1="{px(v):.1f}" y1="{TOP}" x2="{px(v):.1f}" y2="{TOP + plot_h}" '
                       'stroke="#e5e5e5"/>')
            out.append(_text(px(v), TOP + plot_h + 15, _label(v)))
    for v, text in zip(y_ticks, tick_labels, strict=True):
        if y0 <= v <= y1:
            out.append(f'<line x1="{LEFT}" y1="{py_axis(v):.1f}" x2="{LEFT + plot_w}" y2="{py_axis(v):.1f}" '
                       'stroke="#e5e5e5"/>')
            out.append(_text(LEFT - 6, py_axis(v) + 4, text, "end"))
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               'stroke="#333333"/>')
    dashes = [bool(s.get("dashed", k > 0)) for k, s in enumerate(plot["series"])]
    for k, (pts, dashed) in enumerate(zip(lines, dashes, strict=True)):
        if not pts:
            continue
        style = ' stroke-dasharray="6 4" stroke-width="1.6"' if dashed else ' stroke-width="2.2"'
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{COLORS[k % len(COLORS)]}"{style} '
                   f'stroke-linejoin="round" points="{coords}"/>')
    labels = [str(s.get("label", "")) for s in plot["series"]]
    if any(labels):
        box_w = 34 + 6.3 * max(len(label) for label in labels)
        box_h = 8 + 16 * len(labels)
        drawn = [(px(x), py(y)) for pts in lines for x, y in pts]

        def covered(corner: tuple[float, float]) -> int:  # how many drawn points the box would hide
            cx, cy = corner
            return sum(cx - 4 <= x <= cx + box_w + 4 and cy - 4 <= y <= cy + box_h + 4 for x, y in drawn)

        right, bottom = LEFT + plot_w - box_w - 6, TOP + plot_h - box_h - 6
        corners = [(right, TOP + 6), (right, bottom), (LEFT + 6, bottom), (LEFT + 6, TOP + 6)]
        bx, by = min(corners, key=covered)  # the emptiest corner (top right first on a tie)
        out.append(f'<rect x="{bx:.1f}" y="{by:.1f}" width="{box_w:.1f}" height="{box_h}" '
                   'fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>')
        for k, (label, dashed) in enumerate(zip(labels, dashes, strict=True)):
            y = by + 14 + 16 * k
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            out.append(f'<line x1="{bx + 6:.1f}" y1="{y - 4:.1f}" x2="{bx + 28:.1f}" y2="{y - 4:.1f}" '
                       f'stroke="{COLORS[k % len(COLORS)]}" stroke-width="2"{dash}/>')
            out.append(_text(bx + 32, y, label, "start"))
    out.append(_text(WIDTH / 2, 18, str(plot.get("title", "")), extra=' font-size="13"'))
    out.append(_text(LEFT + plot_w / 2, HEIGHT - 8, str(plot.get("xlabel", ""))))
    out.append(_text(14, TOP + plot_h / 2, str(plot.get("ylabel", "")),
                     extra=f' transform="rotate(-90 14 {TOP + plot_h / 2:.1f})"'))
    out.append("</svg>")
    return "\n".join(out)
