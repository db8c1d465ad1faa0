"""What isolation costs per submission, for every level this machine offers (target: < 50 ms).

Per level: start-up of the zygote (paid once per grading lane), then the median over many workers of
spawn (fork + the zygote's bookkeeping), load (confinement in the worker + loading an empty module: a
round trip), kill (SIGKILL of the whole tree + reap + clean-up), their sum, and the restart after a
timeout (kill + spawn + reload + one answer), excluding the student's own code and the deadline itself.
Run with ``python -m bench.isolation [N]``.
"""

from __future__ import annotations

import statistics
import sys
import time

from rich.console import Console
from rich.table import Table

from autograder.sandbox import levels
from autograder.sandbox.runner import WorkerTimeout, Zygote
from autograder.sandbox.session import WorkerSession
from autograder.sandbox.worker import protocol

TARGET_MS = 50.0
SPIN = "def spin():\n    while True:\n        pass\n"
PRELUDE = ('import sys as _s\n_v = _s.modules["kitworker.registry"]\n'
           '_v.HANDLERS["spin"] = lambda ctx, a, t: globals()["spin"]()\n')


def _variants() -> list[tuple[str, str, bool | None]]:
    out = []
    for level in levels.LEVELS:
        ok, why = levels.available(level)
        if not ok:
            print(f"[{level}] unavailable here: {why}")
            continue
        out.append((level, level, None))
        if level == "namespaces" and levels.os.geteuid() == 0:
            out.append(("namespaces (userns)", level, True))  # what an unprivileged grader gets
    return out


def measure(level: str, *, userns: bool | None = None, n: int = 30) -> dict[str, float]:
    """Milliseconds: zygote start, then medians of spawn, load, kill, total, restart-after-timeout."""
    t0 = time.perf_counter()
    zygote = Zygote(level, userns=userns)
    start_ms = (time.perf_counter() - t0) * 1000
    rows: list[tuple[float, float, float]] = []
    restarts: list[float] = []
    try:
        for i in range(n + 3):
            s = WorkerSession(zygote, "x = 1\n", "bench.py", "bench")
            a = time.perf_counter()
            s._worker = zygote.spawn(s.limits)
            b = time.perf_counter()
            reply = s._roundtrip(protocol.Request("load", {"source": "x = 1\n", "filename": "bench.py",
                                                          "module": "bench"}), 10)
            c = time.perf_counter()
            s.stop()
            d = time.perf_counter()
            assert reply.ok, reply.error
            if i >= 3:  # warm-up
                rows.append((b - a, c - b, d - c))
        for _ in range(max(3, n // 5)):
            s = WorkerSession(zygote, PRELUDE + SPIN, "bench.py", "bench")
            assert s.load().ok
            try:
                s.call(protocol.Request("spin"), 0.05)
            except WorkerTimeout:
                pass
            a = time.perf_counter()
            s.call(protocol.Request("ping"), 10)  # kill happened at the timeout; this respawns + reloads
            restarts.append(time.perf_counter() - a)
            s.stop()
    finally:
        zygote.close()
    spawn, load, kill = (statistics.median(col) * 1000 for col in zip(*rows, strict=True))
    total = statistics.median(sum(r) for r in rows) * 1000
    return {"start": start_ms, "spawn": spawn, "load": load, "kill": kill, "total": total,
            "restart": statistics.median(restarts) * 1000, "details": zygote.details}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 30
    console = Console(width=120)
    table = Table(title=f"Isolation cost per submission (median of {n}; target < {TARGET_MS:g} ms)")
    for col in ("level", "zygote start s", "spawn ms", "confine+load ms", "kill ms", "spawn+load+kill ms",
                "restart after timeout ms", "ok", "details"):
        table.add_column(col)
    for name, level, userns in _variants():
        r = measure(level, userns=userns, n=n)
        d = r["details"]
        details = " ".join([f"landlock ABI {d.get('landlock_abi', 0)}", "userns" if d.get("userns") else "",
                            "cgroups: " + ",".join(d.get("cgroup") or {}) if d.get("cgroup") else ""]).strip()
        ms = [f"{r[k]:.1f}" for k in ("spawn", "load", "kill", "total", "restart")]
        verdict = "yes" if r["total"] < TARGET_MS else "NO"
        table.add_row(name, f"{r['start'] / 1000:.1f}", *ms, verdict, details)
    console.print(table)


if __name__ == "__main__":
    main()
