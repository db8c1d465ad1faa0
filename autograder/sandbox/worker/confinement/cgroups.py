"""Control groups for the zygote and everything it forks (Linux, root, best effort).

The zygote moves itself once into fresh ``memory`` and ``pids`` cgroups (cgroup v2 where the controller
is enabled for our subtree, else the v1 hierarchy that has it); every worker is then born inside, so no
worker pays for a cgroup migration (writing ``cgroup.procs`` costs 5-15 ms per process on these
machines, more than everything else a spawn does). Before each spawn the zygote sets

- ``memory``: the cap on the resident memory of the worker's whole process tree plus its tmpfs ``/tmp``
  (pages the zygote touched before it moved are still charged to its old cgroup, so the cap is on what
  workers allocate); the ``oom_kill`` count tells "memory limit" deaths from other SIGKILLs;
- ``pids``: the tasks already there plus the worker's ``max_tasks``: a fork bomb stops even where
  RLIMIT_NPROC does not apply (root).

A zygote runs one worker at a time in the grader, so the caps are per student. Anything missing is
simply not used; no level depends on it.
"""

from __future__ import annotations

import os

CONTROLLERS = ("memory", "pids")


def _read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _parents() -> dict[str, tuple[str, str]]:
    """Controller -> (directory of our cgroup that has it, "v1"|"v2"), where we may create children."""
    own: dict[str, str] = {}
    try:
        for line in _read("/proc/self/cgroup").splitlines():
            hid, ctrls, path = line.split(":", 2)
            for c in (["0"] if hid == "0" else ctrls.split(",")):
                own[c] = path
        mounts = _read("/proc/self/mountinfo").splitlines()
    except OSError:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for line in mounts:
        left, _, right = line.partition(" - ")
        fields, (fstype, _src, opts) = left.split(), (right.split() + ["", ""])[:3]
        mnt, root = fields[4], fields[3]
        if fstype == "cgroup2" and "0" in own:
            key, version, ctrls = "0", "v2", CONTROLLERS
        elif fstype == "cgroup" and set(opts.split(",")) & set(CONTROLLERS):
            ctrls = tuple(c for c in CONTROLLERS if c in opts.split(",") and c in own)
            if not ctrls:
                continue
            key, version = ctrls[0], "v1"
        else:
            continue
        path = own[key]
        if root != "/" and (path + "/").startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")):]
        parent = os.path.join(mnt, path.lstrip("/"))
        if not os.access(parent, os.W_OK):
            continue
        for ctrl in ctrls:
            if version == "v2":
                try:  # refused when our cgroup holds other processes (the no-internal-process rule)
                    if ctrl not in _read(os.path.join(parent, "cgroup.subtree_control")).split():
                        _write(os.path.join(parent, "cgroup.subtree_control"), f"+{ctrl}")
                except OSError:
                    continue
                found[ctrl] = (parent, version)  # v2 wins over v1
            else:
                found.setdefault(ctrl, (parent, version))
    return found


def _sweep(parent: str, prefix: str) -> None:
    """Remove empty cgroups of zygotes that died without their grader cleaning up (``prefix<pid>``)."""
    try:
        entries = [e for e in os.listdir(parent) if e.startswith(prefix) and e[len(prefix):].isdigit()]
    except OSError:
        return
    for entry in entries:
        if os.path.exists(f"/proc/{entry[len(prefix):]}"):
            continue  # its zygote (or a process that reused the pid) is alive: leave it
        try:
            os.rmdir(os.path.join(parent, entry))  # fails unless empty
        except OSError:
            pass


class ZygoteCgroup:
    """The cgroups the zygote joined (``create`` returns ``None`` when there is none to use)."""

    def __init__(self) -> None:
        self.dirs: dict[str, tuple[str, str]] = {}  # controller -> (our new directory, version)
        self._limits: dict[str, int] = {}

    @classmethod
    def create(cls, name: str) -> ZygoteCgroup | None:
        cg = cls()
        made: dict[str, str] = {}
        parents = _parents()
        for parent in {p for p, _v in parents.values()}:
            _sweep(parent, name.rsplit("-", 1)[0] + "-")
        for ctrl, (parent, version) in parents.items():
            path = made.get(parent) or os.path.join(parent, name)
            try:
                if parent not in made:
                    os.mkdir(path)
                    made[parent] = path
                cg.dirs[ctrl] = (path, version)
            except OSError:
                continue
        try:
            for path in made.values():
                _write(os.path.join(path, "cgroup.procs"), "0")
        except OSError:
            cg.remove_dirs()
            return None
        return cg if cg.dirs else None

    @property
    def paths(self) -> list[str]:
        return sorted({path for path, _ in self.dirs.values()})

    def set_limits(self, memory_bytes: int, max_tasks: int) -> None:
        if "memory" in self.dirs and self._limits.get("memory") != memory_bytes:
            path, version = self.dirs["memory"]
            if version == "v2":
                _write(os.path.join(path, "memory.max"), str(memory_bytes))
                try:
                    _write(os.path.join(path, "memory.swap.max"), "0")
                except OSError:
                    pass
            else:
                _write(os.path.join(path, "memory.limit_in_bytes"), str(memory_bytes))
            self._limits["memory"] = memory_bytes
        if "pids" in self.dirs:
            path, _version = self.dirs["pids"]
            current = int(_read(os.path.join(path, "pids.current")))
            _write(os.path.join(path, "pids.max"), str(current + max_tasks))

    def oom_kills(self) -> int:
        if "memory" not in self.dirs:
            return 0
        path, version = self.dirs["memory"]
        name = "memory.events" if version == "v2" else "memory.oom_control"
        try:
            for line in _read(os.path.join(path, name)).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def describe(self) -> dict:
        return {ctrl: path for ctrl, (path, _v) in self.dirs.items()}

    def remove_dirs(self) -> None:
        for path in self.paths:
            try:
                os.rmdir(path)
            except OSError:
                pass
