"""``make bench``: every benchmark of the kit, one table each. Benchmarks, not tests: nothing asserts."""

from __future__ import annotations

import importlib

SECTIONS = ("bench.reference_step", "bench.isolation", "bench.grading")

for name in SECTIONS:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        print(f"[{name}] skipped: {exc}")
        continue
    print(f"\n=== {name} ===")
    module.main()
