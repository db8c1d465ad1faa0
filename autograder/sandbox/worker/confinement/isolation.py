"""Confinement a worker applies to itself right after the zygote forks it, before any student code.

The levels (what each promises is tabulated in ``autograder/sandbox/levels.py``):

- ``namespaces`` (Linux, root or unprivileged user namespaces): the zygote forks the worker as PID 1 of
  a new PID namespace; the worker unshares mount, network, IPC, UTS and cgroup namespaces, pivots into a
  fresh root that holds only read-only binds of what it needs (the Python installation, the
  ``sys.path`` directories, the worker package, system libraries, a few device nodes), a fresh
  ``/proc`` that shows only its own processes and a size-capped tmpfs ``/tmp`` as its working
  directory; then it drops to a uid of its own (root) or drops every capability (user namespace),
  sets no_new_privs, applies Landlock where available, and the rlimits below.
- ``landlock`` (Linux >= 5.13 without namespaces): the rlimits level plus no_new_privs and a Landlock
  domain: read-only access to the same paths, writes only to the scratch directory, no TCP (ABI >= 4),
  no signals or abstract Unix sockets beyond the sandbox (ABI >= 6), no ptrace of outside processes.
- ``rlimits`` (any POSIX system, no privileges): own session and process group, rlimits on address
  space, CPU time, file size, core dumps (and processes when not root), a private scratch working
  directory, stdout/stderr into a pipe the grader drains, every inherited descriptor but the protocol
  pipes closed, SIGKILL when the zygote dies (Linux).
"""

from __future__ import annotations

import os
import resource
import sys

LEVELS = ("namespaces", "landlock", "rlimits")
LINUX = sys.platform.startswith("linux")

# Paths a worker may read besides ``sys.path`` and the worker package (system libraries for lazy
# dlopen, the loader cache, the timezone). Missing ones are skipped.
SYSTEM_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc/ld.so.cache",
                "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
DEVICES = ("null", "zero", "full", "random", "urandom")
# Kit packages that must stay invisible even if someone installed the kit into the environment.
KIT_PACKAGES = ("autograder", "reference", "solutions")


def _set_rlimit(which: int, value: int, slack: int = 0) -> None:
    """soft = ``value``, hard = ``value + slack`` (never above the current hard limit). Linux enforces
    every limit used here and a failure is fatal; elsewhere (macOS ignores RLIMIT_AS, for one) a limit
    the system refuses is skipped rather than leaving the submission ungraded."""
    try:
        _soft, hard = resource.getrlimit(which)
        top = value + slack if hard == resource.RLIM_INFINITY else min(value + slack, hard)
        resource.setrlimit(which, (min(value, top), top))
    except (ValueError, OSError):
        if LINUX:
            raise


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def read_paths(deny: list[str], pkg_root: str) -> list[str]:
    """Everything a worker may read: the import path, the worker package and system libraries, minus
    anything that contains a denied path (the repository, the grader's folders); computed once."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    out: list[str] = []
    for entry in [*sys.path, pkg_root, *SYSTEM_PATHS]:
        if not entry or not os.path.exists(entry):
            continue
        path = os.path.abspath(entry)
        real = os.path.realpath(entry)
        if any(_inside(d, real) or _inside(d, path) for d in deny) and entry not in SYSTEM_PATHS:
            continue  # e.g. the repository root on sys.path through an editable install
        if any(_inside(real, d) for d in deny) and not any(_inside(real, p) for p in prefixes) \
                and not _inside(real, pkg_root):
            continue  # inside the repository but not the environment (a venv may live there)
        if path not in out:
            out.append(path)
    return out


def kit_shadows(paths: list[str]) -> list[str]:
    """Kit packages found inside readable directories (to be hidden under an empty tmpfs)."""
    return [os.path.join(p, name) for p in paths for name in KIT_PACKAGES
            if os.path.isdir(os.path.join(p, name)) and not os.path.islink(p)]


# --- namespaces -------------------------------------------------------------------------------------

def _mount_flags_of(path: str) -> int:
    """The flags a bind remount must keep (a user namespace may not clear locked ones)."""
    from . import linux

    st = os.statvfs(path).f_flag
    flags = 0
    for st_bit, ms_bit in ((1, linux.MS_RDONLY), (2, linux.MS_NOSUID), (4, linux.MS_NODEV),
                           (8, linux.MS_NOEXEC), (1024, 1024), (2048, 2048), (4096, 1 << 21)):
        if st & st_bit:
            flags |= ms_bit
    return flags


def _makedirs(path: str) -> None:
    try:
        os.makedirs(path, mode=0o755, exist_ok=True)
    except FileExistsError:
        pass


def _bind(src: str, dst: str, *, readonly: bool = True, dev: bool = False) -> None:
    from . import linux

    if os.path.isdir(src):
        _makedirs(dst)
    elif not os.path.exists(dst):
        _makedirs(os.path.dirname(dst))
        os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
    linux.mount(src, dst, None, linux.MS_BIND)
    flags = linux.MS_REMOUNT | linux.MS_BIND | linux.MS_NOSUID | _mount_flags_of(dst)
    flags |= linux.MS_RDONLY if readonly else 0
    if not dev:
        flags |= linux.MS_NODEV
    linux.mount(None, dst, None, flags)


def build_root(newroot: str, readable: list[str], deny: list[str], uid: int, tmp_bytes: int,
               masks: list[str] = ()) -> None:
    """Mount a tmpfs on ``newroot`` and bind into it, read-only, exactly the readable paths (at the same
    absolute paths, so ``sys.path`` and loaded modules stay valid), a few device nodes, and a minimal
    ``/etc``. Denied paths that fall inside a bound tree are covered with an empty tmpfs. Called in a
    fresh private mount namespace; ``/proc`` comes later (``finish_root``).

    The private, size-capped ``/tmp`` is mounted *before* the binds: the environment itself may live
    under ``/tmp`` (a clone checked out there, the zygote's copy of the worker package), and a tmpfs
    mounted over those binds afterwards would hide every module not imported yet. Each file of ``masks``
    (torch's sources of what the worker's guards switch off) is covered by an empty read-only file."""
    from . import linux

    nosuid = linux.MS_NOSUID | linux.MS_NODEV
    linux.mount("tmpfs", newroot, "tmpfs", nosuid, "size=4m,mode=0755")
    _makedirs(f"{newroot}/tmp")
    linux.mount("tmpfs", f"{newroot}/tmp", "tmpfs", nosuid,
                f"size={max(tmp_bytes, 1 << 20)},nr_inodes=4096,mode=0700,uid={uid},gid={uid}")
    covered: list[str] = []
    for src in sorted(readable, key=lambda p: (p.count("/"), p)):
        if any(_inside(src, c) for c in covered):
            continue  # already visible through an enclosing bind
        dst = newroot + src
        if os.path.islink(src) and src in SYSTEM_PATHS:
            os.symlink(os.readlink(src), dst)  # /lib -> usr/lib on merged-/usr systems
            continue
        _bind(os.path.realpath(src), dst)
        if os.path.isdir(src):
            covered.append(src)
    shadows = [d for d in deny if any(_inside(d, c) and d != c for c in covered)]
    for d in shadows + kit_shadows(covered):
        if os.path.isdir(newroot + d):
            linux.mount("tmpfs", newroot + d, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_RDONLY,
                        "size=4k,mode=0555")
    empty = f"{newroot}/.empty"
    os.close(os.open(empty, os.O_WRONLY | os.O_CREAT, 0o444))
    for path in masks:
        if os.path.isfile(newroot + path):
            _bind(empty, newroot + path)
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", f"{newroot}/dev/{name}", readonly=False, dev=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{newroot}/dev/{name}")
    # The scaffold of folders leading to binds inside the private /tmp is the worker's to read, not to
    # change: make it read-only (the binds themselves already are).
    for src in readable:
        parent = os.path.dirname(src)
        while _inside(parent, "/tmp") and parent != "/tmp":
            if os.path.isdir(newroot + parent):
                os.chmod(newroot + parent, 0o555)
            parent = os.path.dirname(parent)
    for d in ("proc", "tmp", "etc", ".old"):
        _makedirs(f"{newroot}/{d}")
    with open(f"{newroot}/etc/passwd", "w") as fh:
        fh.write(f"root:x:0:0:root:/tmp:/bin/false\nstudent:x:{uid}:{uid}:student:/tmp:/bin/false\n")
    with open(f"{newroot}/etc/group", "w") as fh:
        fh.write(f"root:x:0:\nstudent:x:{uid}:\n")
    with open(f"{newroot}/etc/hostname", "w") as fh:
        fh.write("sandbox\n")


def finish_root(newroot: str) -> None:
    """In the worker (PID 1 of its PID namespace): a fresh /proc, pivot into the new root, detach the
    old one, make the root read-only."""
    from . import linux

    nosuid = linux.MS_NOSUID | linux.MS_NODEV
    linux.mount("proc", f"{newroot}/proc", "proc", nosuid | linux.MS_NOEXEC)
    linux.pivot_root(newroot, f"{newroot}/.old")
    os.chdir("/")
    linux.umount2("/.old", linux.MNT_DETACH)
    os.rmdir("/.old")
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_RDONLY | nosuid)


def enter_namespaces_root(*, newroot: str, readable: list[str], deny: list[str], uid: int,
                          tmp_bytes: int, masks: list[str] = ()) -> None:
    """Root path: this process is PID 1 of a new PID namespace and still root; unshare the rest, build
    the root, pivot, then become ``uid`` (no capabilities, no way back)."""
    from . import linux

    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
                  | linux.CLONE_NEWCGROUP)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    build_root(newroot, readable, deny, uid, tmp_bytes, masks)
    finish_root(newroot)
    _sethostname()
    linux.drop_bounding_set()
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # clears every capability
    linux.clear_capabilities()


def userns_prepare(*, newroot: str, readable: list[str], deny: list[str], tmp_bytes: int,
                   masks: list[str] = ()) -> None:
    """User-namespace path, in the intermediate process: new user namespace mapping only our own
    uid/gid to 0, new mount/PID/network/IPC/UTS namespaces, and the root with its binds."""
    from . import linux

    uid, gid = os.geteuid(), os.getegid()
    linux.prctl(linux.PR_SET_DUMPABLE, 1)  # our own /proc files must stay ours to write the maps
    linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS | linux.CLONE_NEWPID | linux.CLONE_NEWNET
                  | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS | linux.CLONE_NEWCGROUP)
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    build_root(newroot, readable, deny, 0, tmp_bytes, masks)


def enter_namespaces_userns(*, newroot: str) -> None:
    """User-namespace path, in the worker (PID 1 of the new PID namespace)."""
    from . import linux

    finish_root(newroot)
    _sethostname()
    linux.drop_bounding_set()
    linux.lock_securebits()
    linux.clear_capabilities()


def _sethostname() -> None:
    import socket

    try:
        socket.sethostname("sandbox")
    except OSError:
        pass


# --- common ---------------------------------------------------------------------------------------

def redirect_output(out_fd: int) -> None:
    """stdout and stderr into the output pipe, stdin from /dev/null."""
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def close_other_fds(keep: tuple[int, ...]) -> None:
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def landlock(rules: list[tuple[str, int]], abi: int) -> dict:
    from . import linux

    linux.set_no_new_privs()
    return linux.landlock_restrict(rules, abi=abi)


def allowed_except(root: str, excluded: list[str]) -> list[str]:
    """Paths whose trees together hold everything under ``root`` but the ``excluded`` files (Landlock
    grants whole trees: a folder holding an excluded file is replaced by its other entries)."""
    inside = [e for e in excluded if _inside(e, root)]
    if not inside:
        return [root]
    if root in inside or not os.path.isdir(root) or os.path.islink(root):
        return []
    out: list[str] = []
    for name in sorted(os.listdir(root)):
        out += allowed_except(os.path.join(root, name), inside)
    return out


def landlock_rules_for_worker(readable: list[str], writable: str, deny: list[str],
                              masks: list[str] = ()) -> list[tuple[str, int]]:
    """Read-only rules for the readable paths (but none on an ancestor of a denied path, nor on the
    ``masks`` files), read-write rules for the device nodes, full access to ``writable``."""
    from . import linux

    masks = [os.path.realpath(m) for m in masks]
    rules = [(q, linux.FS_READ) for p in readable if not any(_inside(d, os.path.realpath(p)) for d in deny)
             for q in allowed_except(os.path.realpath(p), masks)]
    rules += [(f"/dev/{name}", linux.FS_RW_FILE) for name in DEVICES]
    rules.append((writable, linux.landlock_fs_all(linux.landlock_abi())))
    return rules


def apply_rlimits(limits: dict, *, nproc: int | None) -> None:
    _set_rlimit(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _set_rlimit(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    # SIGXCPU at the soft limit, SIGKILL one second later (with soft == hard the kernel skips SIGXCPU).
    _set_rlimit(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), slack=1)
    _set_rlimit(resource.RLIMIT_CORE, 0)
    if nproc is not None and hasattr(resource, "RLIMIT_NPROC"):
        _set_rlimit(resource.RLIMIT_NPROC, nproc)


def set_home(path: str) -> None:
    os.environ["HOME"] = path
    os.environ["TMPDIR"] = path
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None  # recomputed from TMPDIR on next use
