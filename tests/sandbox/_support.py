"""Helpers of the sandbox tests: the isolation variants to test, sessions with small limits, a way for
a test submission to expose functions to the test, and process bookkeeping on the host."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import pytest

from autograder.sandbox import levels
from autograder.sandbox.runner import GiB, Limits, Zygote
from autograder.sandbox.session import WorkerSession
from autograder.sandbox.worker import protocol

REPO = Path(__file__).resolve().parents[2]

# Every level, plus, when run by root, the unprivileged flavour of the namespaces level (a user
# namespace and an intermediate process instead of root's uid switch): root may create user namespaces
# too. Run unprivileged, "namespaces" is that flavour already.
VARIANTS = {
    "namespaces": ("namespaces", None),
    "namespaces-userns": ("namespaces", True),
    "landlock": ("landlock", None),
    "rlimits": ("rlimits", None),
}

# Small but workable limits: torch maps ~0.7 GiB of address space before any student code runs.
SMALL = Limits(memory_bytes=2 * GiB, file_bytes=4 << 20, cpu_seconds=30, load_seconds=5.0,
               load_wall_seconds=20.0, max_tasks=32)

# A test submission starts with this: it registers a "call" handler that runs one of its own module
# functions and returns its JSON-able result, so a test can ask the worker what it could do.
PRELUDE = '''
import sys as _sys
_serve = _sys.modules["kitworker.registry"]
def _call(ctx, args, tensors):
    return _serve.protocol.Response(ok=True, value=globals()[args["fn"]](*args.get("args", [])))
_serve.HANDLERS["call"] = _call
'''


def variants_promising(threat: str) -> list:
    """pytest params of the variants whose level may promise ``threat`` on this machine (what depends on
    a running zygote, its cgroups, is checked by ``require``)."""
    out = []
    assumed = {"cgroup": {"memory": "?", "pids": "?"}} if os.geteuid() == 0 else {}
    for name, (level, userns) in VARIANTS.items():
        if threat not in levels.promises(level, assumed):
            continue
        if userns and threat == "forkbomb" and os.geteuid() == 0:
            # Run by root, the user namespace maps its uid 0 to the real root, whom the kernel exempts
            # from RLIMIT_NPROC; an unprivileged grader maps its own uid and is bounded.
            out.append(pytest.param(name, id=name, marks=pytest.mark.skip(
                reason="RLIMIT_NPROC does not bind a user namespace owned by root")))
            continue
        out.append(pytest.param(name, id=name))
    if not out:
        why = "needs root for cgroups" if threat in ("tree_memory",) else "not promised on this machine"
        skip = pytest.mark.skip(reason=f"no level holds {threat}: {why}")
        out.append(pytest.param(None, id="none", marks=skip))
    return out


def require(zygote: Zygote, threat: str) -> None:
    """Skip, saying why, when this zygote's level does not promise ``threat`` after all."""
    if threat not in levels.promises(zygote.level, zygote.details):
        cgroups = zygote.details.get("cgroup")
        pytest.skip(f"{zygote.level} does not promise {threat} here (cgroups: {cgroups})")


def level_of(variant: str) -> str:
    return VARIANTS[variant][0]


def start_zygote(variant: str) -> Zygote:
    level, userns = VARIANTS[variant]
    if userns and os.geteuid() != 0:
        pytest.skip("unprivileged, the namespaces variant already uses a user namespace")
    ok, why = levels.available(level)
    if not ok:
        pytest.skip(f"isolation level {level} unavailable here: {why}")
    return Zygote(level, userns=userns)


def session(zygote: Zygote, body: str, limits: Limits = SMALL, *, prelude: bool = True,
            graded: str | None = None) -> WorkerSession:
    """A session for a test submission; ``graded``: prepared as the worker that grades that graded name
    is (its guards and stand-ins, ``families/recipes.py``)."""
    source = (PRELUDE if prelude else "") + body
    if graded is None:
        return WorkerSession(zygote, source, "submission.py", "submission", limits)
    from autograder.families.recipes import recipe_of
    from autograder.sandbox import guards, standins

    recipe = recipe_of(graded)
    return WorkerSession(zygote, source, "submission.py", "submission", limits,
                         disabled={f: guards.GUARDS[f].label for f in recipe.disabled},
                         standins=standins.sources(recipe.standins),
                         masks=guards.masked_files(recipe.disabled))


def call(sess: WorkerSession, fn: str, *args, timeout: float = 5.0) -> protocol.Response:
    return sess.call(protocol.Request("call", {"fn": fn, "args": list(args)}), timeout)


def token() -> str:
    """A process name (at most 15 bytes) that marks every process a test submission starts."""
    return "kt" + secrets.token_hex(6)


NAME_PROCESS = '''
import ctypes as _ct
_ct.CDLL(None).prctl(15, {tag!r}.encode(), 0, 0, 0)  # PR_SET_NAME: inherited by every fork
'''


def processes_named(tag: str) -> list[int]:
    """Host pids whose name (comm) or command line contains ``tag``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm", "rb") as fh:
                comm = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z" and (tag.encode() in comm or tag.encode() in cmdline):
            found.append(int(entry))
    return found


def wait_gone(tag: str, timeout: float = 3.0) -> list[int]:
    """Poll until no process carries ``tag``; return those still there at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        left = processes_named(tag)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)
