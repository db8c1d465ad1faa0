"""Run the reproducer blocks of a feedback text the way a student would (tests' helper).

Every block of a submission's feedback runs in a fresh namespace of a child process, twice: as a script
next to the module (``from <module> import <Name>`` kept), and pasted under the module's code in one
namespace, as a notebook cell after the student's cells (that import dropped).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from autograder.families import reproduce

# A server with torch imported once (per test process) that forks one child per submission: a child
# starts in milliseconds, with nothing of another submission's modules in it.
RUNNER = r"""
import contextlib, io, json, os, sys
import torch  # noqa: F401  (imported once, before any fork)


def run(request):
    sys.path.insert(0, request["folder"])
    os.chdir(request["folder"])
    source = open(request["module_file"]).read()
    results = []
    for job in request["jobs"]:
        # a notebook's namespace: the student's cells first (their main guards, if any, stay off), then
        # the pasted cell in the same namespace
        namespace = {"__name__": "notebook" if job["notebook"] else "__main__"}
        buf, raised = io.StringIO(), None
        with contextlib.redirect_stdout(buf):
            try:
                if job["notebook"]:
                    exec(compile(source, "notebook-cells", "exec"), namespace)
                exec(compile(job["code"], "<snippet>", "exec"), namespace)
            except BaseException as exc:
                raised = f"{type(exc).__name__}: {exc}"
        results.append({"stdout": buf.getvalue(), "raised": raised})
    return results


for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            results = run(request)
            with open(request["out"] + ".part", "w") as fh:
                json.dump(results, fh)
            os.replace(request["out"] + ".part", request["out"])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    print("done", flush=True)
"""


class SnippetRunner:
    """The server above, started on first use and reused by every test of this process."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def run(self, jobs: list[dict], module_path: Path, scratch: Path) -> list[dict]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, "-c", RUNNER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        out = scratch / "snippet-results.json"
        out.unlink(missing_ok=True)
        request = {"folder": str(module_path.parent), "module_file": str(module_path), "jobs": jobs,
                   "out": str(out)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "done", "the snippet runner died"
        assert out.exists(), "a snippet ended its process (os._exit?) before reporting"
        return json.loads(out.read_text())

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


NUMBER = re.compile(r"\bgot (-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan))", re.IGNORECASE)


def placed_blocks(feedback: str, module: str, notebook: bool) -> list[str]:
    """The blocks of ``feedback`` as the engine places them for a ``.py`` or a notebook submission."""
    return reproduce.blocks(reproduce.place(feedback, module, f"{module}.py", notebook))


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
