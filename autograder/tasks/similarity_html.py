"""The class page of ``make similarity`` (``similarity.html``): self-contained, no script, no external
resource, autoescape on (the code shown is the students' own text and must never become markup)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from . import similarity as sim

TEMPLATE_DIR = Path(__file__).parent / "templates"
SHOWN_UNFLAGGED = 15  # the highest pairs under the threshold, listed for context


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def segments(code: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """``code`` cut into ``(text, matched)`` pieces at the matched spans (sorted, clipped, merged).
    A span is widened to whole words: copydetect maps its filtered text back to the code to within a
    few characters, and a highlight that ends inside a name reads as a different match."""
    pieces, pos = [], 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(code))
        while 0 < start < len(code) and _word(code[start - 1]) and _word(code[start]):
            start -= 1
        while 0 < end < len(code) and _word(code[end - 1]) and _word(code[end]):
            end += 1
        start = max(start, pos)
        if end <= start:
            continue
        if start > pos:
            pieces.append((code[pos:start], False))
        pieces.append((code[start:end], True))
        pos = end
    if pos < len(code):
        pieces.append((code[pos:], False))
    return pieces


def _side(report: sim.Report, name: str, spans, score: float) -> dict:
    doc = report.documents[name]
    return {"name": name, "origin": doc.origin, "score": f"{score:.0%}",
            "segments": segments(doc.code, spans)}


def _row(p: sim.Pair) -> dict:
    return {"a": p.a, "b": p.b, "score_a": f"{p.similarity_a:.0%}", "score_b": f"{p.similarity_b:.0%}",
            "overlap": p.token_overlap}


def render(report: sim.Report) -> str:
    flagged = report.flagged
    return environment().get_template("similarity.html.j2").render(
        assignment=report.assignment,
        students=report.students,
        skipped=report.skipped,
        torch_files=[(n, report.documents[n].origin) for n in report.torch_files],
        stub=report.stub,
        versions=report.versions,
        pairs=[{**_row(p), "anchor": f"pair-{k}", "left": _side(report, p.a, p.spans_a, p.similarity_a),
                "right": _side(report, p.b, p.spans_b, p.similarity_b)} for k, p in enumerate(flagged, 1)],
        unflagged=[_row(p) for p in report.pairs if not p.flagged][:SHOWN_UNFLAGGED],
        compared=len(report.pairs),
        noise=sim.NOISE_T,
        display=f"{sim.DISPLAY_T:.0%}",
        min_overlap=sim.MIN_OVERLAP,
    )
