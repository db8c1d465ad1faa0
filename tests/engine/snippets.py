"""Run the reproducer blocks of a feedback text the way a student would (tests' helper).

One subprocess per submission runs every block of its feedback, each in a fresh namespace, twice: as a
script next to the module (``from <module> import <Name>`` kept), and pasted under the module's code
in one namespace, as a notebook cell after the student's cells (that import dropped).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from autograder.families import reproduce

RUNNER = r"""
import contextlib, io, json, sys
folder, module_file = sys.argv[1], sys.argv[2]
sys.path.insert(0, folder)
jobs = json.load(sys.stdin)
source = open(module_file).read()
results = []
for job in jobs:
    # a notebook's namespace: the student's cells first (their main guards, if any, stay off), then
    # the pasted cell in the same namespace
    namespace = {"__name__": "notebook" if job["notebook"] else "__main__"}
    buf = io.StringIO()
    raised = None
    with contextlib.redirect_stdout(buf):
        try:
            if job["notebook"]:
                exec(compile(source, "notebook-cells", "exec"), namespace)
            exec(compile(job["code"], "<snippet>", "exec"), namespace)
        except BaseException as exc:
            raised = f"{type(exc).__name__}: {exc}"
    results.append({"stdout": buf.getvalue(), "raised": raised})
print(json.dumps(results))
"""

NUMBER = re.compile(r"\bgot (-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan))", re.IGNORECASE)


def placed_blocks(feedback: str, module: str, notebook: bool) -> list[str]:
    """The blocks of ``feedback`` as the engine places them for a ``.py`` or a notebook submission."""
    return reproduce.blocks(reproduce.place(feedback, module, f"{module}.py", notebook))


def run_blocks(jobs: list[dict], module_path: Path) -> list[dict]:
    """Run each job ``{"code", "notebook"}`` against the module at ``module_path``."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(module_path.parent), str(module_path)],
        input=json.dumps(jobs), capture_output=True, text=True, cwd=module_path.parent, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def stated_got(feedback: str) -> list[str]:
    """The numbers the feedback's text (before its first block) states as what the student's code got."""
    return NUMBER.findall(feedback.split(reproduce.OPEN, 1)[0])


def shown_pairs(stdout: str) -> list[tuple[str, str]]:
    """The (got, expected) values a snippet printed: each ``got:`` line with the ``expected:`` line
    after it."""
    lines = [line.strip() for line in stdout.splitlines()]
    return [
        (line[len(reproduce.GOT):].strip(), nxt[len(reproduce.EXPECTED):].strip())
        for line, nxt in zip(lines, lines[1:], strict=False)
        if line.startswith(reproduce.GOT) and nxt.startswith(reproduce.EXPECTED)
    ]
