"""The plain records every layer shares: a rubric line, a rubric, what a check found, what a student got.

Below both the families (which produce ``CheckResult``s for ``RubricLine``s) and the grading pipeline
(which loads rubrics and runs the families): neither imports the other for these types, so there is
no import circle. Data only: no loading, no formatting, no scoring (``grading.rubric`` reads rubric
files, ``grading.results`` turns results into the JSON records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

VISIBILITIES = ("visible", "hidden")


@dataclass(frozen=True)
class RubricLine:
    """One graded line: item id ``<name>.<check>``, the check kind that grades it, and its points."""

    id: str
    kind: str
    points: float
    visibility: str
    description: str

    @property
    def name(self) -> str:
        """The graded name (class or function) this line belongs to."""
        return self.id.split(".", 1)[0]

    @property
    def check(self) -> str:
        return self.id.split(".", 1)[1]


@dataclass(frozen=True)
class Rubric:
    assignment: str
    module: str
    title: str
    lines: tuple[RubricLine, ...]
    hints: bool = True  # name a known misreading when a failing case matches one (``grading/hints.py``)

    @property
    def max_score(self) -> float:
        return float(sum(line.points for line in self.lines))

    @property
    def graded_names(self) -> tuple[str, ...]:
        """Graded names in rubric order, each once."""
        return tuple(dict.fromkeys(line.name for line in self.lines))

    def lines_of(self, name: str) -> tuple[RubricLine, ...]:
        return tuple(line for line in self.lines if line.name == name)

    def points_of(self, name: str) -> float:
        """Total points of one graded name (what its nbgrader cell is worth)."""
        return float(sum(line.points for line in self.lines_of(name)))


Status = Literal["passed", "failed", "error", "timeout", "forbidden", "review", "missing"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "forbidden", "review", "missing")


GRADER_FAULT_NOTE = (
    "The grader had an internal problem with this submission (not your fault); a TA has been told."
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one rubric line for one student.

    ``fraction`` is the share of the line's points earned (1.0 when passed; some checks give partial
    credit, e.g. float64 passed but float32 failed).
    """

    id: str
    status: Status
    feedback: str = ""
    fraction: float = 0.0
    # data for a picture of the line (``reporters/plots.py``): a convergence line's loss curves, the
    # student's and the reference's on the same problem, computed on the grader's side
    plot: dict | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.status == "passed" and self.fraction != 1.0:
            object.__setattr__(self, "fraction", 1.0)
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction {self.fraction} outside [0, 1]")


@dataclass
class StudentResult:
    """Everything graded for one student of one assignment."""

    student: str
    assignment: str
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    isolation: str = ""
    grader_faults: list[str] = field(default_factory=list)
