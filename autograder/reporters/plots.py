"""Pictures of a rubric line, drawn in the grader from the numbers its check computed: inline SVG from
matplotlib (no files, no network, nothing a browser must fetch).

A plot is plain data in the record (``item["plot"]``), so a regrade or ``make publish`` redraws it:

    {"title": str, "caption": str, "xlabel": str, "ylabel": str, "log": bool,
     "series": [{"label": str, "x": [numbers], "y": [numbers]}, ...]}

The first series is the student's, drawn solid; the others (the reference) dashed. A series may say
``"dashed": true/false`` itself (a plot with several runs of the student's).
"""

from __future__ import annotations

import io
import math
import re

import matplotlib

matplotlib.use("Agg")  # no display: the grader draws into memory
from matplotlib import ticker  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

# Set once for the grader process (an ``rc_context`` per plot deep-copies every setting each time):
# deterministic SVG ids, text kept as text, a small font.
matplotlib.rcParams.update({"svg.hashsalt": "kit-plot", "svg.fonttype": "none", "font.size": 9})
MINOR_DECADES = 1.5  # a log axis spanning fewer decades than this gets labelled minor ticks
MAX_POINTS = 2000  # per series: a record is data, not a dump


def valid(plot) -> bool:
    """Whether ``plot`` has the shape above (records are read back from disk: never trust them)."""
    if not isinstance(plot, dict) or not isinstance(plot.get("series"), list) or not plot["series"]:
        return False
    for s in plot["series"]:
        if not (isinstance(s, dict) and isinstance(s.get("x"), list) and isinstance(s.get("y"), list)):
            return False
        if len(s["x"]) != len(s["y"]) or len(s["x"]) > MAX_POINTS:
            return False
        if not all(isinstance(v, (int, float)) for v in s["x"] + s["y"]):
            return False
    return True


def _finite(xs: list, ys: list, log: bool) -> tuple[list, list]:
    keep = [(x, y) for x, y in zip(xs, ys, strict=True)
            if math.isfinite(x) and math.isfinite(y) and (y > 0 or not log)]
    return [x for x, _ in keep], [y for _, y in keep]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _pos: int) -> str:
    """``10⁻³`` for the log axis' major ticks, in plain Unicode: matplotlib's default label is mathtext,
    whose parser costs more than the rest of the plot."""
    if value <= 0:
        return ""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return ""
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


class _PlainMinor(ticker.LogFormatter):
    """Labels the minor ticks matplotlib's ``LogFormatter`` would label, as plain numbers (0.4, not 4e-01)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def svg(plot: dict) -> str:
    """The plot as an ``<svg>`` element (deterministic bytes: no date, fixed ids). Fixed margins and
    legend place instead of ``tight_layout``/``loc="best"``: each measures every text again, and a
    class of plots is drawn serially when the reports are written."""
    log = bool(plot.get("log"))
    fig = Figure(figsize=(6.0, 3.2))  # not pyplot: no global figure manager to register with and close
    ax = fig.subplots()
    low, high = math.inf, 0.0
    for k, s in enumerate(plot["series"]):
        xs, ys = _finite(s["x"], s["y"], log)
        low, high = min([low, *ys]), max([high, *ys])
        dashed = bool(s.get("dashed", k > 0))
        ax.plot(xs, ys, linestyle="--" if dashed else "-", linewidth=1.5 if dashed else 2.0,
                label=str(s.get("label", "")))
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(_power_of_ten))
        if 0 < low and high / low < 10**MINOR_DECADES:  # few powers of ten: label the ticks between them
            ax.yaxis.set_minor_formatter(_PlainMinor(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        else:  # many: the powers of ten say it all (minor ticks would double the drawing time)
            ax.yaxis.set_minor_locator(ticker.NullLocator())
    ax.set_title(str(plot.get("title", "")))
    ax.set_xlabel(str(plot.get("xlabel", "")))
    ax.set_ylabel(str(plot.get("ylabel", "")))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    fig.subplots_adjust(left=0.11, right=0.98, top=0.91, bottom=0.14)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return text[text.index("<svg"):]  # inline: no XML declaration nor doctype
