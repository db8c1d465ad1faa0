"""``make bench``: every benchmark of the kit, one table each. Benchmarks, not tests: nothing asserts."""

from __future__ import annotations

from bench import grading, isolation, reference_step, trust

for section in (reference_step, isolation, grading, trust):
    print(f"\n=== {section.__name__} ===")
    section.main()
