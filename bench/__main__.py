"""``make bench``: every benchmark of the kit, one table each. Benchmarks, not tests: nothing asserts."""

from __future__ import annotations

from bench import classes, costs, grading, isolation, memory, reference_step, trust
from bench.nbgrader_compare import compare as nbgrader_compare

for section in (costs, reference_step, isolation, grading, classes, trust, memory, nbgrader_compare):
    print(f"\n=== {section.__name__} ===")
    section.main()
