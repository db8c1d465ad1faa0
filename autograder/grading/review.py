"""Policy verdicts per graded name, and the TA's grants that lift a ``review``.

A graded name that breaks the submission policy (``policy.py``) scores 0 with status ``review`` and the
offending lines quoted. A TA who has read them grants the name in a review file, passed with
``--grant-review FILE`` (JSON or TOML), one table per student::

    [alice]                      # or JSON: {"alice": {"SGD": "3f2a..."}}
    SGD = "3f2a..."              # the sha256 that alice's review flag for SGD shows

The digest is of the graded source (``PolicyReport.review_digest``): a regrade of the same submission
with the same file gives the same grades, and a changed submission needs a new grant (what a flagged
line obtains can flow into any other line). A granted name is graded normally (its code still runs
only in the sandbox, behind the runtime tripwires). ``forbidden`` (delegation to torch's own
implementation, decided by the runtime's evidence only) cannot be granted.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..policy import PolicyReport, verdicts
from ..policy.report import QUOTED_VIOLATIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Grants = dict[str, dict[str, str]]
_DIGEST = re.compile(r"[0-9a-f]{64}")


class GrantFileError(ValueError):
    """The review file cannot be read or does not have the documented shape."""


def load_grants(path: Path) -> Grants:
    """Read a review file (JSON when it parses as JSON, else TOML): student -> {graded name: sha256}."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GrantFileError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise GrantFileError(f"{path}: neither JSON nor TOML ({exc})") from None
    if not isinstance(data, dict):
        raise GrantFileError(f"{path}: expected a table of students")
    for student, names in data.items():
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _DIGEST.fullmatch(v) for k, v in names.items()
        ):
            raise GrantFileError(
                f"{path}: [{student}] must map graded names to sha256 digests (64 hex digits)"
            )
    return data


@dataclass(frozen=True)
class Verdict:
    """What the policy decided for one graded name of one student."""

    status: str  # "review" or "granted"
    feedback: str
    flag: dict | None = None  # the TA's review flag (review only)


def decide(report: PolicyReport, names, granted: dict[str, str], where) -> dict[str, Verdict]:
    """The names the policy flags for review, each with the TA's flag (granted or not, for the record):
    a flagged name without a matching grant does not run. Static evidence never makes a name
    ``forbidden`` (only the runtime's evidence does). ``where(line)`` locates a line."""
    out: dict[str, Verdict] = {}
    for name, (_, _why, found) in verdicts(report, names).items():
        digest = report.review_digest(name)
        delegation = report.delegation_reason(name)
        quoted = ([f"`{name}` {delegation}"] if delegation else []) + [
            f"{where(v.line)}{f' in `{v.owner}`' if v.owner else ' (module-level code)'}: {v.what}: {v.code}"
            for v in found[:QUOTED_VIOLATIONS]]
        if len(found) > QUOTED_VIOLATIONS:
            quoted.append(f"... and {len(found) - QUOTED_VIOLATIONS} more")
        grant = granted.get(name)
        flag = {
            "kind": "review",
            "name": name,
            "message": f"`{name}` needs a TA's reading of the lines below before it counts"
                       + (" (granted)" if grant == digest else ""),
            "lines": quoted,
            "sha256": digest,
            "granted": grant == digest,
        }
        if grant == digest:
            out[name] = Verdict("granted", "", flag)
            continue
        stale = " (a grant exists for an earlier version of these lines)" if grant else ""
        what = ("names torch's own implementation" if delegation
                else "uses code the submission policy does not allow")
        out[name] = Verdict(
            "review",
            f"review: `{name}` {what}{stale}; it scores 0 until a TA has read these lines and granted "
            "them:\n" + "\n".join(f"  {q}" for q in quoted),
            flag,
        )
    return out
