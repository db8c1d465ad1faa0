"""Pictures of a rubric line, drawn in the grader from the numbers its check computed: inline SVG from
matplotlib (no files, no network, nothing a browser must fetch).

A plot is plain data in the record (``item["plot"]``), so a regrade or ``make publish`` redraws it:

    {"title": str, "caption": str, "xlabel": str, "ylabel": str, "log": bool,
     "series": [{"label": str, "x": [numbers], "y": [numbers]}, ...]}

The first series is the student's, drawn solid; the others (the reference) dashed.
"""

from __future__ import annotations

import io
import math
import re

import matplotlib

matplotlib.use("Agg")  # no display: the grader draws into memory
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

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


def svg(plot: dict) -> str:
    """The plot as an ``<svg>`` element (deterministic bytes: no date, fixed ids)."""
    log = bool(plot.get("log"))
    with plt.rc_context({"svg.hashsalt": "kit-plot", "svg.fonttype": "none", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(6.0, 3.2))
        try:
            for k, s in enumerate(plot["series"]):
                xs, ys = _finite(s["x"], s["y"], log)
                ax.plot(xs, ys, linestyle="-" if k == 0 else "--", linewidth=2.0 if k == 0 else 1.5,
                        label=str(s.get("label", "")))
            if log:
                ax.set_yscale("log")
            ax.set_title(str(plot.get("title", "")))
            ax.set_xlabel(str(plot.get("xlabel", "")))
            ax.set_ylabel(str(plot.get("ylabel", "")))
            ax.grid(True, alpha=0.3)
            ax.legend()
            fig.tight_layout()
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    return text[text.index("<svg"):]  # inline: no XML declaration nor doctype
