"""Confinement the worker applies to itself right after the zygote forks it, before any student code.

Levels, strongest first; the grader picks the strongest available (or the one forced by
``KIT_ISOLATION``) and records it in run.json:

- ``rlimits``: own session and process group, rlimits on memory, CPU time, file size and open files,
  a private scratch working directory, stdout/stderr captured to a bounded file, every inherited
  file descriptor but the protocol pipes closed. Works on any POSIX system.
"""

from __future__ import annotations

import os
import resource

LEVELS = ("rlimits",)


def _set_rlimit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY else hard))


def _close_other_fds(keep: tuple[int, ...]) -> None:
    for fd in range(3, 1024):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def enter(*, level: str, scratch: str, limits: dict, keep_fds: tuple[int, ...]) -> None:
    """Confine the current (freshly forked) process; raise if a promised mechanism fails."""
    os.setsid()  # own session + process group: the grader kills the group, terminals can't signal it
    os.chdir(scratch)
    out = os.open(os.path.join(scratch, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    _close_other_fds(keep_fds)
    _set_rlimit(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _set_rlimit(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    _set_rlimit(resource.RLIMIT_CPU, int(limits["cpu_seconds"]))
    _set_rlimit(resource.RLIMIT_CORE, 0)
