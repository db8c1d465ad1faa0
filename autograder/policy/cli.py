"""The policy's command line, as students run it: ``python check_submission.py NOTEBOOK.ipynb``."""

from __future__ import annotations

import sys

from .notebook import describe_line, graded_code
from .report import QUOTED_VIOLATIONS, verdicts
from .visitor import check_source

# The released copy (check_submission.py, written by `make release`) names its assignment's graded
# names here; the kit's own copy leaves it empty and reports every top-level definition.
GRADED_NAMES: tuple[str, ...] = ()


def check_file(path: str) -> list[str]:
    """The problems the grader would find in one ``.py`` or ``.ipynb`` file, as lines of text."""
    with open(path, encoding="utf-8-sig") as fh:
        text = fh.read()
    source, cells, origin = graded_code(text, "ipynb" if path.endswith(".ipynb") else "py")
    report = check_source(source)

    def where(line: int) -> str:
        return describe_line(source, cells, line, origin)

    def quoted(found: list) -> list[str]:
        shown = [f"    {where(v.line)}: {v.what}\n        {v.code}" for v in found[:QUOTED_VIOLATIONS]]
        more = len(found) - QUOTED_VIOLATIONS
        return shown + ([f"    ... and {more} more"] if more > 0 else [])

    names = GRADED_NAMES or report.definitions
    lines = []
    shared = [v for v in report.violations if v.owner is None]
    if shared and names:
        lines.append("module-level code (runs on import, so every graded name is set to review: 0 points "
                     "until a TA has read these lines and granted them):")
        lines += quoted(shared)
    for name, (_, _why, found) in verdicts(report, names).items():
        own = [v for v in found if v.owner is not None]
        delegation = report.delegation_reason(name)
        if delegation or own:
            lines.append(f"{name}: review (0 points until a TA has read these lines and granted them):")
        if delegation:
            lines.append(f"    `{name}` {delegation}")
        lines += quoted(own)
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
        except (OSError, ValueError, KeyError, TypeError, SyntaxError, RecursionError, MemoryError) as exc:
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
