"""Per-worker control groups (Linux, root only, best effort): one cgroup per worker caps the memory and
the number of tasks of its whole process tree, counts out-of-memory kills, and kills the tree at once.

Works with cgroup v2 (``memory.max``, ``pids.max``, ``cgroup.kill``), with v1 hierarchies (``memory``,
``pids``) and with hybrid setups, taking each controller from wherever it is mounted. Anything missing is
simply not used: the namespaces level does not depend on cgroups (the pid namespace already kills the
whole tree, the per-worker uid already bounds the number of processes), they only add the tree-wide
memory cap and the "memory limit" death reason.
"""

from __future__ import annotations

import os
import signal
import time


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount point, mounted root, fstype, options) of every cgroup mount of this mount namespace."""
    out = []
    try:
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                fstype, _src, opts = (right.split() + ["", ""])[:3]
                if fstype in ("cgroup", "cgroup2"):
                    fields = left.split()
                    out.append((fields[4], fields[3], fstype, set(opts.split(","))))
    except OSError:
        pass
    return out


def _own_paths() -> dict[str, str]:
    """Our cgroup path per hierarchy: ``"0"`` is v2, else the v1 controller names."""
    paths = {}
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                hid, ctrls, path = line.rstrip("\n").split(":", 2)
                if hid == "0":
                    paths["0"] = path
                for c in ctrls.split(","):
                    if c:
                        paths[c] = path
    except OSError:
        pass
    return paths


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


class Hierarchy:
    """Where to create worker cgroups: a parent directory per use (kill, memory, pids)."""

    def __init__(self) -> None:
        self.kill_parent: str | None = None  # v2 directory with cgroup.kill
        self.memory: tuple[str, str] | None = None  # (parent dir, "v1"|"v2")
        self.pids: tuple[str, str] | None = None
        own = _own_paths()

        def under(mnt: str, root: str, path: str) -> str:
            if root != "/" and (path + "/").startswith(root.rstrip("/") + "/"):
                path = path[len(root.rstrip("/")):]
            return os.path.join(mnt, path.lstrip("/"))

        for mnt, root, fstype, opts in _mounts():
            if fstype == "cgroup2" and "0" in own:
                parent = under(mnt, root, own["0"])
                if not os.access(parent, os.W_OK):
                    continue
                if os.path.exists(os.path.join(parent, "cgroup.kill")):
                    self.kill_parent = parent
                enabled = self._enable_v2(parent)
                for ctrl in ("memory", "pids"):
                    if ctrl in enabled and getattr(self, ctrl) is None:
                        setattr(self, ctrl, (parent, "v2"))
            elif fstype == "cgroup":
                for ctrl in ("memory", "pids"):
                    if ctrl in opts and ctrl in own and getattr(self, ctrl) is None:
                        parent = under(mnt, root, own[ctrl])
                        if os.access(parent, os.W_OK):
                            setattr(self, ctrl, (parent, "v1"))

    @staticmethod
    def _enable_v2(parent: str) -> set[str]:
        try:
            available = set(_read(os.path.join(parent, "cgroup.controllers")).split())
            enabled = set(_read(os.path.join(parent, "cgroup.subtree_control")).split())
        except OSError:
            return set()
        for ctrl in ({"memory", "pids"} & available) - enabled:
            try:  # refused when the parent holds processes itself (no-internal-process rule)
                _write(os.path.join(parent, "cgroup.subtree_control"), f"+{ctrl}")
                enabled.add(ctrl)
            except OSError:
                pass
        return enabled

    def describe(self) -> str:
        parts = [f"{name}:{spec[1]}" for name, spec in (("memory", self.memory), ("pids", self.pids)) if spec]
        if self.kill_parent:
            parts.append("kill:v2")
        return ",".join(parts) or "none"


class WorkerCgroup:
    """The cgroups of one worker (created before it starts, removed after it was reaped)."""

    def __init__(self, hier: Hierarchy, name: str, memory_bytes: int, max_tasks: int) -> None:
        self.dirs: list[str] = []
        self.memory: tuple[str, str] | None = None
        self.kill_dir: str | None = None
        made: dict[str, str] = {}

        def make(parent: str) -> str:
            if parent not in made:
                path = os.path.join(parent, name)
                os.mkdir(path)
                self.dirs.append(path)
                made[parent] = path
            return made[parent]

        if hier.kill_parent:
            self.kill_dir = make(hier.kill_parent)
        if hier.memory:
            path = make(hier.memory[0])
            if hier.memory[1] == "v2":
                _write(os.path.join(path, "memory.max"), str(memory_bytes))
                try:
                    _write(os.path.join(path, "memory.swap.max"), "0")
                except OSError:
                    pass
            else:
                _write(os.path.join(path, "memory.limit_in_bytes"), str(memory_bytes))
            self.memory = (path, hier.memory[1])
        if hier.pids:
            _write(os.path.join(make(hier.pids[0]), "pids.max"), str(max_tasks))

    def join(self) -> None:
        """Move the calling process into every cgroup of this worker."""
        for d in self.dirs:
            _write(os.path.join(d, "cgroup.procs"), "0")

    def oom_kills(self) -> int:
        if not self.memory:
            return 0
        path, version = self.memory
        name = "memory.events" if version == "v2" else "memory.oom_control"
        try:
            for line in _read(os.path.join(path, name)).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def kill(self) -> None:
        """SIGKILL every task of the worker's cgroups."""
        if self.kill_dir:
            try:
                _write(os.path.join(self.kill_dir, "cgroup.kill"), "1")
            except OSError:
                pass
        for d in self.dirs:
            for _ in range(100):
                try:
                    pids = [int(p) for p in _read(os.path.join(d, "cgroup.procs")).split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass

    def remove(self) -> None:
        """Remove the (empty) cgroups; a few retries while the last tasks finish exiting."""
        for d in reversed(self.dirs):
            for attempt in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if attempt == 0:
                        self.kill()
                    time.sleep(0.01)
        self.dirs = []
