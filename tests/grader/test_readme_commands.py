"""Every command of the README's TA and instructor sections exists as written: each `make` line is a real
target with real variables (checked with `make -n`, which prints the recipe without running it), and
each `python -m autograder` line names a real subcommand with real options. What the commands do is
tested end to end elsewhere (test_nb_course_roundtrip.py, test_class_runs.py, test_gradescope_bundle.py,
test_publish.py, test_export.py)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def commands(prefix: str) -> list[str]:
    """Command lines of the code blocks of the TA and instructor sections starting with ``prefix``."""
    found = []
    for title in ("TAs", "Instructors"):
        for block in re.findall(r"```[a-z]*\n(.*?)```", section(title), flags=re.S):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if line.startswith(prefix):
                    found.append(line)
    return found


MAKE_LINES = commands("make ")
SWITCHES = {"FORCE": "--force", "RESUME": "--resume", "NBGRADER": "--nbgrader"}
CLI_LINES = commands(".venv/bin/python -m autograder ")


def test_the_sections_walk_through_a_course():
    targets = {shlex.split(line)[1] for line in MAKE_LINES}
    course = {"setup", "grade", "autograde", "feedback", "publish", "export", "release", "gradescope"}
    assert course <= targets
    assert CLI_LINES


@pytest.mark.parametrize("line", MAKE_LINES)
def test_each_make_command_is_a_real_target(line):
    args = shlex.split(line)[1:]
    proc = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "No rule to make target" not in proc.stderr
    if args[0] not in ("setup", "release"):  # the others pass their variables on to the kit
        for arg in args[1:]:
            name, value = arg.split("=", 1)
            assert name in {"ASSIGNMENT", "SUBMISSIONS", "OUT", "JOBS", "GRANTS", *SWITCHES}, name
            shown = SWITCHES.get(name, value)  # a switch (FORCE=1) reaches the command as its option
            assert shown in proc.stdout, f"{name}={value} does not reach the command:\n{proc.stdout}"


@pytest.mark.parametrize("line", CLI_LINES)
def test_each_cli_command_has_those_options(line):
    args = shlex.split(line)[3:]
    sub, options = args[0], [a for a in args[1:] if a.startswith("--")]
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", sub, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert [o for o in options if o not in proc.stdout] == []
