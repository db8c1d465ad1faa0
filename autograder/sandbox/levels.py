"""Isolation levels: what each one does, what it promises, and how the grader picks one.

The grader runs student code only in workers forked by a zygote (``runner.Zygote``); each worker
confines itself (``worker/confinement/isolation.py``) before it runs any student code. The level is
chosen once per grading run: ``KIT_ISOLATION=<level>`` (or the CLI flag that passes it on) forces
one, and forcing a level this machine cannot provide is an error, never a silent downgrade; otherwise
``detect_level()`` picks the strongest level that works here. Grading never stops because a
mechanism is missing: the weakest level needs nothing but POSIX. The level (and its details) goes
into ``run.json``.

What each level promises (``yes``: held, and tested on Linux by forcing the level; ``-``: not promised).
Deadlines, SIGKILL of the whole tree and a bounded output tail hold at every level; the rest:

| threat (key in ``PROMISES``)                                     | namespaces | landlock | rlimits |
|------------------------------------------------------------------|------------|----------|---------|
| hangs, exits, ignored signals: killed at the deadline (``hang``)  | yes        | yes      | yes     |
| memory per process, CPU time, size of one file (``rlimits``)      | yes        | yes      | yes     |
| endless output: drained, only a tail is kept (``output``)        | yes        | yes      | yes     |
| child processes and setsid daemons killed (``escape``)           | yes        | yes [1]  | yes [1] |
| fork bomb bounded (``forkbomb``)                                 | yes        | yes [2]  | yes [2] |
| resident memory of the whole process tree (``tree_memory``)      | [3]        | [3]      | [3]     |
| total size of the files it writes (``disk``)                     | yes        | -        | -       |
| repo, other students, grader output unreadable (``read``)        | yes        | yes      | -       |
| grader memory, command line, environment via /proc (``proc``)    | yes        | yes      | -       |
| no writes outside its scratch directory (``write``)              | yes        | yes      | -       |
| no signals or ptrace to the grader or zygote (``signal``)        | yes        | yes [4]  | -       |
| no network, 127.0.0.1 included (``network``)                     | yes        | TCP [5]  | -       |
| kernel surface: unshare, mount, ptrace, bpf... (``syscalls``)    | yes [6]    | yes [6]  | yes [6] |

[1] Linux: the zygote is a child subreaper; orphans a worker leaves behind are killed after it.
[2] RLIMIT_NPROC, which the kernel does not apply to root: a root grader needs the pids cgroup [3]. At
    the namespaces level every worker runs as a uid of its own (root grader) or in a user namespace of
    its own (unprivileged grader), so RLIMIT_NPROC counts exactly its processes and threads.
[3] Where the zygote can make cgroups (root, on cgroup v1 or v2 with the controllers delegated), at
    any level: a memory cap on the whole tree and a pids cap; ``Zygote.details["cgroup"]`` lists them.
[4] Signals need Landlock ABI >= 6 (Linux 6.12); ptrace of processes outside the domain is always
    denied. Run as root, this level (like ``rlimits``) drops every capability of the worker.
[5] TCP bind/connect need Landlock ABI >= 4 (Linux 6.7); UDP is not covered.
[6] Linux (x86_64, aarch64): a seccomp filter (``worker/confinement/seccomp.py``) installed after confinement,
    before any student code, fails namespace creation (``unshare``, ``setns``, ``clone`` with
    CLONE_NEW* flags; ``clone3`` gets ENOSYS so libc falls back to ``clone``), mounts and root changes,
    ``ptrace`` and other processes' memory, ``bpf``, ``perf_event_open``, ``userfaultfd``,
    ``io_uring``, key rings, modules, ``kexec``, swap, ``reboot``, ``acct``, ``quotactl`` and file
    handles with EPERM, and any foreign system-call ABI. ``Zygote.details["seccomp"]`` says whether
    this kernel took it.

Levels, strongest first:

- ``namespaces``: Linux as root, or with unprivileged user namespaces. PID 1 of its own PID namespace
  (killing it kills every process inside, daemons included), own mount/network/IPC/UTS/cgroup
  namespaces, a new root with read-only binds of only the Python installation, ``sys.path``, the worker
  package, system libraries and a few devices, a fresh ``/proc``, a size-capped tmpfs ``/tmp`` as
  working directory, a uid of its own (root) or no capabilities (user namespace), no_new_privs,
  Landlock where available, the zygote's cgroups where writable, and all the rlimits below.
- ``landlock``: Linux >= 5.13 without namespaces (e.g. Ubuntu's AppArmor user-namespace restriction).
  Everything of ``rlimits`` plus a Landlock allow-list: read-only access to the same paths, full access
  to the scratch directory only, TCP and signals denied where the ABI allows.
- ``rlimits``: any POSIX system (macOS, Linux without privileges). Own session and process group,
  RLIMIT_AS/CPU/FSIZE/CORE (and NPROC when not root), timeouts, output into a drained pipe, a private
  scratch directory, a minimal environment, SIGKILL of the group (and orphans on Linux) afterwards.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

LEVELS = ("namespaces", "landlock", "rlimits")
ENV_VAR = "KIT_ISOLATION"
LINUX = sys.platform.startswith("linux")

THREATS = ("hang", "rlimits", "output", "escape", "forkbomb", "tree_memory", "disk", "read", "proc",
           "write", "signal", "network", "syscalls")
_BASE = frozenset({"hang", "rlimits", "output", "syscalls"})
PROMISES: dict[str, frozenset[str]] = {
    "namespaces": _BASE | {"escape", "forkbomb", "disk", "read", "proc", "write", "signal", "network"},
    "landlock": _BASE | {"escape", "forkbomb", "read", "proc", "write", "signal", "network"},
    "rlimits": _BASE | {"escape", "forkbomb"},
}


class IsolationUnavailable(RuntimeError):
    """A forced isolation level cannot be provided on this machine."""


def promises(level: str, details: dict | None = None) -> frozenset[str]:
    """The threats ``level`` holds on this machine (footnotes of the table applied); ``details`` are a
    running zygote's (``Zygote.details``), which say whether it got a memory cgroup."""
    out = set(PROMISES[level])
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    cgroup = (details or {}).get("cgroup") or {}
    if not LINUX or (details is not None and "seccomp" in details and not details["seccomp"]):
        out.discard("syscalls")
    if level != "namespaces":
        if not LINUX:
            out.discard("escape")
        if root and "pids" not in cgroup:
            out.discard("forkbomb")
    if "memory" in cgroup:
        out.add("tree_memory")
    else:
        out.discard("tree_memory")
    if level == "landlock":
        abi = landlock_abi()
        if abi < 6:
            out.discard("signal")
        if abi < 4:
            out.discard("network")
    return frozenset(out)


def landlock_abi() -> int:
    if not LINUX:
        return 0
    from .worker.confinement import linux

    return linux.landlock_abi()


_PROBE = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import linux
userns = os.geteuid() != 0
flags = linux.CLONE_NEWNS | linux.CLONE_NEWPID | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
if userns:
    uid, gid = os.geteuid(), os.getegid()
    linux.unshare(flags | linux.CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
else:
    linux.unshare(flags)
linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
pid = os.fork()
if pid == 0:
    try:
        linux.mount("tmpfs", sys.argv[2], "tmpfs", 0, "size=64k")
        os.mkdir(sys.argv[2] + "/proc")
        linux.mount("proc", sys.argv[2] + "/proc", "proc", 0)
        ok = os.listdir(sys.argv[2] + "/proc/self") and os.getpid() == 1
        os._exit(0 if ok else 3)
    except BaseException as exc:
        print(exc, file=sys.stderr)
        os._exit(2)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@functools.cache
def _probe_namespaces() -> tuple[bool, str]:
    if not LINUX:
        return False, "not Linux"
    import tempfile

    worker_dir = str(Path(__file__).parent / "worker" / "confinement")
    with tempfile.TemporaryDirectory(prefix="kit-probe-") as tmp:
        try:
            proc = subprocess.run([sys.executable, "-I", "-S", "-c", _PROBE, worker_dir, tmp],
                                  capture_output=True, text=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"probe failed: {exc}"
    if proc.returncode == 0:
        return True, ""
    why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return False, f"namespaces unavailable ({'root' if os.geteuid() == 0 else 'user namespaces'}): {why}"


def available(level: str) -> tuple[bool, str]:
    """Whether ``level`` works on this machine, and why not."""
    if level not in LEVELS:
        raise ValueError(f"unknown isolation level {level!r} (choose from {', '.join(LEVELS)})")
    if level == "rlimits":
        return True, ""
    if level == "landlock":
        abi = landlock_abi()
        if abi < 1:
            return False, "Landlock is not available (Linux >= 5.13 with Landlock enabled)"
        return True, ""
    return _probe_namespaces()


def detect_level() -> str:
    """The strongest level that works here (probed once per process)."""
    for level in LEVELS:
        if available(level)[0]:
            return level
    return "rlimits"


def known(level: str) -> str:
    """``level`` if it names a level (resolved by the caller), else ``ValueError``."""
    if level not in LEVELS:
        raise ValueError(f"unknown isolation level {level!r} (choose from {', '.join(LEVELS)})")
    return level


def resolve_level(requested: str | None = None) -> str:
    """``requested``, else ``$KIT_ISOLATION``, else the detected level; ``auto`` means detect. A forced
    level that is unavailable raises ``IsolationUnavailable`` with the reason."""
    choice = (requested or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if choice == "auto":
        return detect_level()
    ok, why = available(choice)
    if not ok:
        raise IsolationUnavailable(f"isolation level {choice!r} is not available here: {why}")
    return choice
