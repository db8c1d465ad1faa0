"""The hostile sample submissions (tests/submissions/hostile/) against the level the grader picks.

Only their module-level code runs here (grading them item by item is the engine's tests' job): at the
namespaces level, whatever a sample does at import ends with its worker, the zygote is untouched, and
no task is left in the zygote's cgroup.
"""

from __future__ import annotations

import dataclasses
import os
import time

import pytest

from autograder.sandbox.runner import WorkerDied, WorkerTimeout
from autograder.sandbox.session import WorkerSession

from ._support import REPO, SMALL

pytestmark = pytest.mark.hostile

SAMPLES = sorted((REPO / "tests" / "submissions" / "hostile").glob("*.py"))
LIMITS = dataclasses.replace(SMALL, load_seconds=1.5, load_wall_seconds=3.0)


def _tasks(zygote) -> int | None:
    path = (zygote.details.get("cgroup") or {}).get("pids")
    if not path:
        return None
    with open(os.path.join(path, "pids.current")) as fh:
        return int(fh.read())


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_at_import_is_contained(zygotes, sample):
    zygote = zygotes("namespaces")
    pid, restarts, baseline = zygote._proc.pid, zygote.restarts, _tasks(zygote)
    s = WorkerSession(zygote, sample.read_text(), "optimizers.py", "optimizers", LIMITS)
    try:
        s.load()
    except (WorkerTimeout, WorkerDied):
        pass  # sleeping, exiting or crashing at import: its own problem
    finally:
        s.stop()
    printed = s.output_tail(100_000)
    assert "NETWORK_REACHED" not in printed
    # read_reference.py may find its own process (/proc/1/cmdline is the worker, whose interpreter
    # lives in the repository's .venv here), but no kit file, rubric or other submission.
    found = [line.split("FOUND", 1)[1] for line in printed.splitlines() if "_FOUND" in line]
    assert not [f for f in found if any(k in f for k in ("reference", "solutions", "autograder", "rubric",
                                                         "submissions", "grades"))], found
    assert zygote.alive() and zygote._proc.pid == pid and zygote.restarts == restarts
    if baseline is not None:
        deadline = time.monotonic() + 3
        while _tasks(zygote) > baseline and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _tasks(zygote) <= baseline, "a process of the sample outlived its worker"
