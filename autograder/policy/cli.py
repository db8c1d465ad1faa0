"""The policy's command line, as students run it: ``python check_submission.py NOTEBOOK.ipynb``."""

from __future__ import annotations

import json
import sys

from .notebook import drop_magics, graded_source
from .report import verdicts
from .visitor import check_source

# The released copy (check_submission.py, written by `make release`) names its assignment's graded
# names here; the kit's own copy leaves it empty and reports every top-level definition.
GRADED_NAMES: tuple[str, ...] = ()


def check_file(path: str) -> list[str]:
    """The problems the grader would find in one ``.py`` or ``.ipynb`` file, as lines of text."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    starts: list[tuple[int, int]] = []
    if path.endswith(".ipynb"):
        text, starts = graded_source(json.loads(text)["cells"])
    report = check_source(drop_magics(text, [first for _, first in starts]))

    def where(line: int) -> str:
        cell = max((s for s in starts if s[1] <= line), key=lambda s: s[1], default=None)
        return f"line {line}" if cell is None else f"cell {cell[0] + 1}, line {line - cell[1] + 1}"

    names = GRADED_NAMES or report.definitions
    lines = []
    shared = [v for v in report.violations if v.owner is None]
    if shared and names:
        lines.append("module level (every graded name is set to review: 0 points until a TA has read "
                     "these lines and granted them):")
        lines += [f"    {where(v.line)}: {v.what}\n        {v.code}" for v in shared]
    for name, (status, reason, found) in verdicts(report, names).items():
        if status == "forbidden":
            lines.append(f"{name}: forbidden (0 points): `{name}` {reason}")
            continue
        own = [v for v in found if v.owner is not None]
        if own:
            lines.append(f"{name}: review (0 points until a TA has read these lines and granted them):")
            lines += [f"    {where(v.line)} in `{v.owner}`: {v.what}\n        {v.code}" for v in own]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Check files as the grader would: print the problems found, or that there are none."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python check_submission.py NOTEBOOK.ipynb | MODULE.py ...")
        return 2
    status = 0
    for path in args:
        try:
            problems = check_file(path)
        except (OSError, ValueError, KeyError, TypeError, SyntaxError) as exc:
            print(f"{path}: cannot be checked ({type(exc).__name__}: {exc})")
            status = 1
            continue
        if problems:
            status = 1
            print(f"{path}:")
            print("\n".join(f"  {line}" for line in problems))
        else:
            print(f"{path}: no problems found")
    return status


if __name__ == "__main__":
    sys.exit(main())
