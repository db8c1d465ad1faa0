"""Peak memory of grading a class of 02_optimizers, for 10 and for 100 students (``--jobs 2``).

Does the grader's memory grow with the class? Each class is graded by the CLI in a subprocess
(``python -m autograder grade ... --jobs 2 --quiet``) while this process polls ``/proc`` for the whole
process tree below it and records, per process, the kernel's peak resident set (``VmHWM``) and the
largest proportional set size (``Pss`` from ``smaps_rollup``) it saw. Roles come from the tree:

- ``cli``: the grading command itself (it collects the results and writes the reports);
- ``lanes``: its worker pool processes (one per ``--jobs``), each driving one sandbox zygote;
- ``zygotes``: the sandbox zygotes (a fresh interpreter with torch imported);
- ``workers``: the confined per-student processes the zygotes fork. Their RSS includes the pages they
  share with their zygote (torch), so it starts near the zygote's; Pss splits shared pages fairly.

Workers live for a whole student (seconds), far longer than the 50 ms poll, so their VmHWM is read
shortly before they exit; growth in a worker's last 50 ms would be missed. ``getrusage(RUSAGE_CHILDREN)``
after the run gives the kernel's own figure for the largest single process of the tree, as a cross-check.
The submissions are copies of the correct files and of the sample class (Dave, who hangs on purpose,
is left out: his timeouts would dominate the run without using memory).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02_optimizers"
JOBS = 2
SIZES = (10, 100)
POLL_S = 0.05
SOURCES = [
    *sorted((ROOT / "tests/submissions" / ASSIGNMENT / "correct").glob("*.py")),
    *(ROOT / "tests/submissions" / ASSIGNMENT / "sample_class" / f"{name}.py"
      for name in ("alice", "bob", "carol", "erin")),
]
MIB = 1024 * 1024


@dataclass
class Proc:
    pid: int
    ppid: int
    cmdline: str
    hwm: int = 0  # bytes, VmHWM: the kernel's peak RSS of the process so far
    pss: int = 0  # bytes, the largest Pss seen
    role: str = "other"


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, start time in clock ticks) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19])


def _kib_field(path: str, name: str) -> int | None:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class TreeSampler(threading.Thread):
    """Polls every process below ``root`` until stopped; keeps one ``Proc`` per (pid, start time)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.procs: dict[tuple[int, int], Proc] = {}
        self.peak_tree_pss = 0
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    def run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(POLL_S)

    def _sample(self) -> None:
        children: dict[int, list[tuple[int, int]]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                st = _stat(int(entry.name))
                if st is not None:
                    children.setdefault(st[0], []).append((int(entry.name), st[1]))
        todo, tree_pss = [self.root], 0
        root_stat = _stat(self.root)
        seen = [(self.root, root_stat[1])] if root_stat else []
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                seen.append(child)
                todo.append(child[0])
        for pid, start in seen:
            proc = self.procs.get((pid, start))
            if proc is None:
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    cmdline = raw.replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                st = _stat(pid)
                proc = self.procs[pid, start] = Proc(pid, st[0] if st else 0, cmdline)
            hwm = _kib_field(f"/proc/{pid}/status", "VmHWM:")
            pss = _kib_field(f"/proc/{pid}/smaps_rollup", "Pss:")
            proc.hwm = max(proc.hwm, hwm or 0)
            proc.pss = max(proc.pss, pss or 0)
            tree_pss += pss or 0
        self.peak_tree_pss = max(self.peak_tree_pss, tree_pss)


def assign_roles(procs: list[Proc], root: int) -> None:
    """Name each process by its place in the tree (see the module docstring)."""
    by_pid = {p.pid: p for p in procs}
    for p in sorted(procs, key=lambda p: p.pid != root):
        parent = by_pid.get(p.ppid)
        parent_role = parent.role if parent else None
        if p.pid == root:
            p.role = "cli"
        elif parent_role in ("zygote", "worker", "intermediate"):
            p.role = "worker"
        elif "kitworker.confinement.zygote" in p.cmdline:
            p.role = "zygote"
        elif "multiprocessing" in p.cmdline and "resource_tracker" not in p.cmdline:
            p.role = "lane"
    # Unprivileged namespaces: a zygote's child may be an intermediate that forks the real worker.
    for p in procs:
        if p.role == "worker" and any(q.ppid == p.pid and q.role == "worker" for q in procs):
            p.role = "intermediate"


def make_class(folder: Path, n: int) -> list[Path]:
    """``n`` student files, copies cycling through the correct and sample submissions."""
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        src = SOURCES[i % len(SOURCES)]
        paths.append(folder / f"student{i:03d}_{src.stem}.py")
        shutil.copy(src, paths[-1])
    return paths


def measure(n: int, work: Path) -> dict:
    """Grade a class of ``n``; return wall time, peaks per role (bytes) and the kernel's cross-check."""
    paths = make_class(work / f"class{n}", n)
    cmd = [sys.executable, "-m", "autograder", "grade", "--assignment", ASSIGNMENT, *map(str, paths),
           "--out", str(work / f"out{n}"), "--jobs", str(JOBS), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    output = proc.communicate()[0]
    seconds = time.perf_counter() - start
    sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"grading failed ({proc.returncode}): {output.decode(errors='replace')[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    procs = list(sampler.procs.values())
    assign_roles(procs, proc.pid)

    def peaks(role: str) -> list[int]:
        return [p.hwm for p in procs if p.role == role and p.hwm]

    workers = peaks("worker")
    return {
        "students": n,
        "seconds": seconds,
        "cli": max(peaks("cli"), default=0),
        "lanes": max(peaks("lane"), default=0),
        "zygotes": max(peaks("zygote"), default=0),
        "workers_seen": len(workers),
        "worker_max": max(workers, default=0),
        "worker_median": statistics.median(workers) if workers else 0,
        "worker_pss_max": max((p.pss for p in procs if p.role == "worker"), default=0),
        "tree_pss": sampler.peak_tree_pss,
        # RUSAGE_CHILDREN only ever grows: it shows this run's largest process if it beats the earlier runs'
        "largest_process_kernel": after if after > before * 1024 else None,
    }


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / MIB:.0f}"


def main(argv: list[str] | tuple[str, ...] = ()) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES),
                        help="class sizes (default 10 100)")
    args = parser.parse_args(list(argv))
    console = Console(width=130)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for n in args.sizes:
            console.print(f"grading a class of {n} ({ASSIGNMENT}, --jobs {JOBS})...")
            rows.append(measure(n, Path(tmp)))
    table = Table(title=f"Peak memory grading {ASSIGNMENT} with --jobs {JOBS} (MiB)")
    table.add_column("")
    for r in rows:
        table.add_column(f"{r['students']} students", justify="right")
    lines = [
        ("wall time (s)", lambda r: f"{r['seconds']:.0f}"),
        ("grader CLI: peak RSS", lambda r: _mib(r["cli"])),
        (f"lanes ({JOBS}): largest peak RSS", lambda r: _mib(r["lanes"])),
        ("zygotes: largest peak RSS", lambda r: _mib(r["zygotes"])),
        ("workers seen", lambda r: str(r["workers_seen"])),
        ("worker peak RSS: max / median", lambda r: f"{_mib(r['worker_max'])} / {_mib(r['worker_median'])}"),
        ("worker: largest Pss seen", lambda r: _mib(r["worker_pss_max"])),
        ("whole tree: peak of summed Pss", lambda r: _mib(r["tree_pss"])),
        ("largest single process (getrusage)", lambda r: _mib(r["largest_process_kernel"])),
    ]
    for label, cell in lines:
        table.add_row(label, *(cell(r) for r in rows))
    console.print(table)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(f"load average now: {load} on {os.cpu_count()} cpus")
    if len(rows) >= 2:
        small, big = rows[0], rows[-1]
        for role in ("cli", "lanes"):
            grow = (big[role] - small[role]) / MIB
            console.print(f"{role}: {grow:+.0f} MiB from {small['students']} to {big['students']} students")


if __name__ == "__main__":
    main(sys.argv[1:])
