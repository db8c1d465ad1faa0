"""The independent differential oracle: does a mutant behave like the reference?

It never uses the grader's checks (a gap in their kinds would otherwise pass as "equivalence"). For
each graded name a mutant changes, an *explorer* (``explore_<assignment>.py``) drives the mutant's
object and the reference's through the same fixed, seeded scenarios, simplest first, and the first
observation that differs is the verdict: "differs", with that scenario (the smallest input found)
and what differed. A mutant that matches on every scenario is "equivalent": equivalent *as far as
these scenarios see*, which the module docstrings of the explorers spell out.

Mutants come from the instructor's own solution, not from students, so a forked child with a
timeout and resource limits is enough isolation: each lane process imports torch and computes the
reference observations once, then forks one child per mutant.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import resource
import select
import signal
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from ..cache import JsonCache
from .observe import Impl, difference

REPO = Path(__file__).resolve().parents[4]
EXPLORER_MODULES = {
    "01_gradient_descent": "explore_gradient_descent",
    "02_optimizers": "explore_optimizers",
    "03_regularization": "explore_regularization",
}
MEMORY_BYTES = 4 << 30


@dataclass(frozen=True)
class Verdict:
    """What the oracle found for one mutant. ``status``: ``equivalent``, ``differs``, ``timeout`` or
    ``crashed`` (the child died: also a difference, the reference does not)."""

    status: str
    name: str = ""  # the graded name whose scenario showed the difference
    scenario: str = ""
    difference: str = ""
    scenarios: int = 0  # how many scenarios were compared
    seconds: float = 0.0

    @property
    def equivalent(self) -> bool:
        return self.status == "equivalent"


def explorers(assignment: str):
    """The explorer module of an assignment (EXPLORERS, reference_impls)."""
    return importlib.import_module(f"{__name__}.{EXPLORER_MODULES[assignment]}")


def version(assignment: str) -> str:
    """A hash of everything a verdict depends on besides the mutant: the oracle's code, the
    reference and the torch version (the cache key's second half)."""
    import torch

    digest = hashlib.sha256(torch.__version__.encode())
    here = Path(__file__).parent
    for path in sorted([*here.glob("*.py"), *(REPO / "reference").glob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(assignment.encode())
    return digest.hexdigest()[:16]


# --- judging in one process -----------------------------------------------------------------------

_REFERENCE: dict[tuple[str, str], list] = {}


def reference_observations(assignment: str, name: str) -> list:
    """The reference's scenario stream for one graded name (computed once per process)."""
    key = (assignment, name)
    if key not in _REFERENCE:
        module = explorers(assignment)
        _REFERENCE[key] = list(module.EXPLORERS[name](module.reference_impls()[name]))
    return _REFERENCE[key]


def load_module(source: str, module_name: str) -> dict:
    """Execute a mutant's source as module ``module_name``; return its namespace."""
    import types

    module = types.ModuleType(module_name)
    module.__file__ = f"{module_name}.py"
    exec(compile(source, f"{module_name}.py", "exec"), module.__dict__)
    return module.__dict__


def compare(assignment: str, namespace: dict, names: tuple[str, ...]) -> Verdict:
    """Run the explorers of ``names`` on the objects of ``namespace``; stop at the first difference.
    Warnings a mutant triggers (torch's "degrees of freedom <= 0", ...) are not differences."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compare(assignment, namespace, names)


def _compare(assignment: str, namespace: dict, names: tuple[str, ...]) -> Verdict:
    module = explorers(assignment)
    start, count = time.monotonic(), 0
    for name in names:
        expected = reference_observations(assignment, name)
        if name not in namespace:
            return Verdict("differs", name, f"{name} is defined", f"{name} is not defined", count)
        stream = module.EXPLORERS[name](Impl(namespace[name], namespace))
        for (scenario, want), (_, got) in zip(expected, stream, strict=True):
            count += 1
            found = difference(want, got)
            if found:
                return Verdict("differs", name, scenario, found, count, time.monotonic() - start)
    return Verdict("equivalent", scenarios=count, seconds=time.monotonic() - start)


def judge_here(assignment: str, source: str, module_name: str, names: tuple[str, ...]) -> Verdict:
    """Judge a mutant in this process (tests; the tool forks a child for each mutant instead)."""
    try:
        namespace = load_module(source, module_name)
    except Exception as exc:
        return Verdict("differs", names[0], "importing the module", f"raised {type(exc).__name__}: {exc}")
    return compare(assignment, namespace, names)


# --- lanes: one process per core, one forked child per mutant -------------------------------------


def _lane_init(assignment: str) -> None:
    import torch

    # One intra-op thread: the children are forked, and the tensors are tiny anyway.
    torch.set_num_threads(1)
    import reference  # noqa: F401  (imported before forking)


def _child(assignment: str, source: str, module_name: str, names: tuple[str, ...], write_fd: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        verdict = judge_here(assignment, source, module_name, names)
        payload = json.dumps(asdict(verdict)).encode()
    except BaseException as exc:  # noqa: BLE001  (anything: report it, never fall back into the lane)
        payload = json.dumps(
            asdict(Verdict("crashed", names[0], "", f"{type(exc).__name__}: {exc}"))
        ).encode()
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(payload)
    os._exit(0)


def _judge_in_child(
    assignment: str, source: str, module_name: str, names: tuple[str, ...], timeout_s: float
) -> dict:
    for name in names:  # computed in the lane, inherited by every child
        reference_observations(assignment, name)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _child(assignment, source, module_name, names, write_fd)
    os.close(write_fd)
    chunks: list[bytes] = []
    timed_out = False
    with os.fdopen(read_fd, "rb") as pipe:
        while True:
            left = timeout_s - (time.monotonic() - start)
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([pipe], [], [], left)
            if not ready:
                continue
            data = os.read(pipe.fileno(), 1 << 16)
            if not data:
                break
            chunks.append(data)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = round(time.monotonic() - start, 3)
    if timed_out:
        return asdict(Verdict("timeout", names[0], "", f"no verdict within {timeout_s:g} s", 0, seconds))
    try:
        verdict = json.loads(b"".join(chunks))
    except json.JSONDecodeError:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {status}"
        return asdict(Verdict("crashed", names[0], "", f"the oracle's child died ({how})", 0, seconds))
    verdict["seconds"] = seconds
    return verdict


def judge_all(
    assignment: str,
    module_name: str,
    jobs: list[tuple[str, tuple[str, ...]]],
    *,
    lanes: int = 1,
    timeout_s: float = 60.0,
    on_done=None,
) -> list[Verdict]:
    """Verdicts for ``jobs`` (mutant source, graded names it may change), in order, in parallel."""
    results: list[Verdict | None] = [None] * len(jobs)
    with ProcessPoolExecutor(
        max_workers=max(1, lanes),
        mp_context=get_context("spawn"),
        initializer=_lane_init,
        initargs=(assignment,),
    ) as pool:
        futures = {
            pool.submit(_judge_in_child, assignment, source, module_name, names, timeout_s): i
            for i, (source, names) in enumerate(jobs)
        }
        for future in as_completed(futures):
            results[futures[future]] = Verdict(**future.result())
            if on_done:
                on_done()
    return [r for r in results if r is not None]


class VerdictCache(JsonCache):
    """Verdicts on disk, keyed by the mutant's source, the graded names judged and the oracle version."""

    def get(self, source: str, names: tuple[str, ...]) -> Verdict | None:  # type: ignore[override]
        found = super().get(",".join(names), source)
        return Verdict(**found) if found else None

    def put(self, source: str, names: tuple[str, ...], verdict: Verdict) -> None:  # type: ignore[override]
        super().put(asdict(verdict), ",".join(names), source)
