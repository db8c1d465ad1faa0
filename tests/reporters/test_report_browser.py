"""The feedback page in a real browser (Debian's headless chromium): one failing line with its reproducer
and a convergence plot. The page must show the failing line at the top and draw the plot, offline.

Screenshots are kept in grades/browser-test/ (not committed) for a person to look at. Skipped, with the
reason printed, only where chromium is not installed (``.ci/run`` installs it as root).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from autograder.reporters.html import write_feedback_html

from .records import build_record

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "grades" / "browser-test"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
FAILED_BADGE = (0xfb, 0xe6, 0xe6)  # .status-failed background
STUDENT_CURVE = (0x1f, 0x77, 0xb4)  # matplotlib's first colour: the student's curve
REFERENCE_CURVE = (0xff, 0x7f, 0x0e)  # its second: the reference's

FEEDBACK = ("the update differs from torch.optim.SGD's on this case (float64): after step 1: params[0]: "
            "expected 1.525, got 1.475 (max abs error 0.05, max rel error 0.0328; tolerance rtol=1e-09, "
            "atol=1e-12)\nTo see it yourself, paste this into a new cell at the end of your notebook and "
            "run it:\n```python\nimport torch\nprint('got:     ', [1.475])\nprint('expected:', [1.525])\n```")
STEPS = list(range(1, 61))
PLOT = {"title": "zig-zag valley: SGD with and without momentum", "caption": "your loss against torch's",
        "xlabel": "step", "ylabel": "loss (log scale)", "log": True,
        "series": [{"label": "your SGD(lr=0.1)", "x": STEPS, "y": [2.0 / t for t in STEPS]},
                   {"label": "torch.optim.SGD(lr=0.1)", "x": STEPS, "y": [1.0 / t ** 1.5 for t in STEPS]}]}


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    reason = "chromium is not installed (apt-get install -y chromium, as root; .ci/run does it)"
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(profile))
    return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=180, env=env)


def _near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> np.ndarray:
    return (np.abs(pixels[..., :3].astype(int) - np.array(rgb)) <= tol).all(axis=-1)


def test_a_failing_line_and_its_plot_are_visible_in_a_browser(rubric, tmp_path):
    browser = _chromium()
    line = next(ln for ln in rubric.lines if ln.id == "SGD.convergence")
    record = build_record(rubric, "browser", {line.id: "failed"}, feedback={line.id: FEEDBACK})
    for item in record["items"]:
        if item["id"] == line.id:
            item["plot"] = PLOT
    page = write_feedback_html(record, rubric, tmp_path)
    url = page.resolve().as_uri()

    dom = _run(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f"<code>{line.id}</code>" in dom.stdout and "<svg" in dom.stdout
    assert "expected 1.525, got 1.475" in dom.stdout
    # the layout: the failing line linked at the top, before the score by part, then its details
    top = dom.stdout.split('<h2 id="parts">', 1)[0]
    assert f'<a href="#item-{line.id}"><code>{line.id}</code></a>' in top
    # the page's script ran: the reproducer's copy button is shown where a clipboard exists
    assert '<button type="button" class="copy"' in dom.stdout
    print("copy button:", re.search(r'<button type="button" class="copy"[^>]*>\w+', dom.stdout).group(0))

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "feedback-failing-line-and-plot.png"
    shot.unlink(missing_ok=True)
    done = _run(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1000,1400", url)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    pixels = (matplotlib.image.imread(shot) * 255).round().astype(np.uint8)
    height = pixels.shape[0]
    badge_rows = np.nonzero(_near(pixels, FAILED_BADGE).any(axis=1))[0]
    curve_rows = np.nonzero(_near(pixels, STUDENT_CURVE).sum(axis=1) > 3)[0]
    # the failing line's badge is drawn in the upper half (below the list of failing lines and the score
    # by part), the plot below it, with both curves, all within the first screen
    assert badge_rows.size and badge_rows[0] < height // 2, "no failed badge in the upper half"
    assert curve_rows.size and curve_rows[0] > badge_rows[0], "the student's curve is not drawn"
    assert _near(pixels, REFERENCE_CURVE).sum() > 50, "the reference's curve is not drawn"
