"""Thin ctypes wrappers around the Linux system calls the sandbox needs (namespaces, mounts, Landlock,
capabilities, prctl). Python 3.10/3.11 expose none of these; every function raises ``OSError`` with the
kernel's errno when the call fails, and nothing here is imported on other systems.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import struct

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
# SECBIT_NOROOT | _LOCKED, SECBIT_NO_SETUID_FIXUP | _LOCKED, SECBIT_KEEP_CAPS_LOCKED,
# SECBIT_NO_CAP_AMBIENT_RAISE | _LOCKED
SECUREBITS_LOCKDOWN = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80

# pivot_root has no glibc wrapper; its number differs per architecture. Landlock's numbers are shared.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41}
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(os.fsencode(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    nr = _SYS_PIVOT_ROOT.get(platform.machine())
    if nr is None:
        raise OSError(38, f"pivot_root: unknown syscall number on {platform.machine()}")
    _check(_libc.syscall(nr, os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")


def drop_bounding_set() -> None:
    """Empty the capability bounding set (needs CAP_SETPCAP): no exec can ever grant a capability."""
    last = 40
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except OSError:
        pass
    for cap in range(last + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno != 22:  # EINVAL: capability unknown to this kernel
                raise


def lock_securebits() -> None:
    """uid 0 (e.g. inside a user namespace) gains no capabilities on exec, and this can't be undone."""
    prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKDOWN)


def clear_capabilities() -> None:
    """Clear the effective, permitted and inheritable capability sets of this process."""
    header = struct.pack("=Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(header, bytes(24)), "capset")  # two empty __user_cap_data_struct


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


# --- Landlock ------------------------------------------------------------------------------------

ACCESS_FS_EXECUTE = 1 << 0
ACCESS_FS_WRITE_FILE = 1 << 1
ACCESS_FS_READ_FILE = 1 << 2
ACCESS_FS_READ_DIR = 1 << 3
FS_READ = ACCESS_FS_EXECUTE | ACCESS_FS_READ_FILE | ACCESS_FS_READ_DIR
FS_RW_FILE = ACCESS_FS_READ_FILE | ACCESS_FS_WRITE_FILE
_FS_BITS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16}  # number of filesystem access bits per ABI
ACCESS_NET_BIND_TCP = 1 << 0
ACCESS_NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when Landlock is unavailable or disabled)."""
    try:
        return max(0, _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, 1))
    except Exception:  # noqa: BLE001 - any failure means "no Landlock"
        return 0


def landlock_fs_all(abi: int) -> int:
    return (1 << _FS_BITS_BY_ABI.get(abi, 16)) - 1


def landlock_restrict(rules: list[tuple[str, int]], *, abi: int, deny_tcp: bool = True,
                      scope: bool = True) -> dict:
    """Restrict this process (and its future children) to ``rules``: (path, allowed fs access) pairs;
    every other filesystem access is denied. TCP bind/connect are denied from ABI 4, signals to and
    abstract Unix sockets of processes outside the sandbox from ABI 6. Needs no_new_privs (or
    CAP_SYS_ADMIN). Returns what was enforced."""
    handled_fs = landlock_fs_all(abi)
    handled_net = ACCESS_NET_BIND_TCP | ACCESS_NET_CONNECT_TCP if deny_tcp and abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if scope and abi >= 6 else 0
    attr = struct.pack("=QQQ", handled_fs, handled_net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = _check(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, attr[:size], size, 0),
                     "landlock_create_ruleset")
    try:
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a path that does not exist needs no rule
            try:
                if not os.path.isdir(path):  # file rules may only carry file rights
                    access &= ACCESS_FS_EXECUTE | ACCESS_FS_WRITE_FILE | ACCESS_FS_READ_FILE | (3 << 14)
                rule = struct.pack("=Qi", access & handled_fs, fd)
                _check(_libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, 1, rule, 0),
                       f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return {"abi": abi, "tcp": bool(handled_net), "signals": bool(scoped)}
