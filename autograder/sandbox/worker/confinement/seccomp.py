"""A seccomp filter for the worker: system calls that grading never needs fail with EPERM.

Applied by every worker after its confinement and before any student code (``zygote._run_child``), at
every isolation level on Linux; it needs no privileges, only no_new_privs. The filter checks the
architecture first (a foreign system-call ABI, such as i386 calls from an x86_64 process, or x32, is
refused outright), then refuses: namespaces (``unshare``, ``setns``, ``clone`` with any CLONE_NEW*
flag), mounts and root changes (``mount``, ``umount2``, ``pivot_root``, ``chroot`` and the new mount
API), tracing and other processes' memory (``ptrace``, ``process_vm_readv/writev``, ``kcmp``,
``pidfd_getfd``), the kernel's larger attack surfaces (``bpf``, ``perf_event_open``, ``userfaultfd``,
``io_uring_*``, the key ring), and administration (modules, ``kexec``, swap, ``reboot``, ``acct``,
``quotactl``, file handles). ``clone3`` passes its flags in memory a filter cannot read, so it fails
with ENOSYS instead: libc then falls back to ``clone``, whose flags are checked. Threads (torch's
included) and plain ``fork`` keep working.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

from . import linux

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7, "arm64": 0xC00000B7}
_X32_BIT = 0x40000000  # x86_64 only: system calls of the x32 ABI

# Refused system calls by architecture (numbers from the kernel's unistd tables).
_X86_64 = {
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "pidfd_getfd": 438, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "open_by_handle_at": 304, "name_to_handle_at": 303, "lookup_dcookie": 212,
    "swapon": 167, "swapoff": 168, "reboot": 169, "acct": 163, "quotactl": 179, "quotactl_fd": 443,
}
_AARCH64 = {
    "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
    "pidfd_getfd": 438, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "keyctl": 219, "add_key": 217, "request_key": 218,
    "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "open_by_handle_at": 265, "name_to_handle_at": 264, "lookup_dcookie": 18,
    "swapon": 224, "swapoff": 225, "reboot": 142, "acct": 89, "quotactl": 60, "quotactl_fd": 443,
}
REFUSED = {"x86_64": _X86_64, "aarch64": _AARCH64, "arm64": _AARCH64}
CLONE = {"x86_64": 56, "aarch64": 220, "arm64": 220}
CLONE3 = {"x86_64": 435, "aarch64": 435, "arm64": 435}
SECCOMP = {"x86_64": 317, "aarch64": 277, "arm64": 277}
# Every CLONE_NEW* flag that clone() accepts (CLONE_NEWTIME, 0x80, overlaps the exit signal there).
CLONE_NEW_MASK = (linux.CLONE_NEWNS | linux.CLONE_NEWCGROUP | linux.CLONE_NEWUTS | linux.CLONE_NEWIPC
                  | linux.CLONE_NEWUSER | linux.CLONE_NEWPID | linux.CLONE_NEWNET)

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16  # struct seccomp_data (args are little-endian u64)
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _assemble(code: list[tuple]) -> bytes:
    """Classic BPF from (opcode, k, jump-true label, jump-false label) rows and ("label", name) rows."""
    rows = [row for row in code if row[0] != "label"]
    labels, index = {}, 0
    for row in code:
        if row[0] == "label":
            labels[row[1]] = index
        else:
            index += 1
    def rel(label: str | None, at: int) -> int:
        if label is None:
            return 0
        offset = labels[label] - at - 1
        if not 0 <= offset <= 255:
            raise ValueError(f"seccomp jump to {label} out of range")
        return offset

    return b"".join(struct.pack("=HBBI", op, rel(jt, i), rel(jf, i), k & 0xFFFFFFFF)
                    for i, (op, k, jt, jf) in enumerate(rows))


def program(machine: str | None = None) -> bytes:
    """The filter for this machine's architecture (``ValueError`` for an unknown one)."""
    machine = machine or platform.machine()
    if machine not in REFUSED:
        raise ValueError(f"no seccomp filter for architecture {machine}")
    code: list[tuple] = [
        (_LD_W_ABS, _OFF_ARCH, None, None),
        (_JEQ, AUDIT_ARCH[machine], "native", "deny"),
        ("label", "native"),
        (_LD_W_ABS, _OFF_NR, None, None),
    ]
    if machine == "x86_64":
        code.append((_JGE, _X32_BIT, "deny", None))
    code += [(_JEQ, nr, "deny", None) for nr in sorted(set(REFUSED[machine].values()))]
    code += [
        (_JEQ, CLONE3[machine], "enosys", None),
        (_JEQ, CLONE[machine], "clone", None),
        (_RET, _ALLOW, None, None),
        ("label", "clone"),
        (_LD_W_ABS, _OFF_ARG0, None, None),
        (_JSET, CLONE_NEW_MASK, "deny", None),
        (_RET, _ALLOW, None, None),
        ("label", "deny"),
        (_RET, _ERRNO | errno.EPERM, None, None),
        ("label", "enosys"),
        (_RET, _ERRNO | errno.ENOSYS, None, None),
    ]
    return _assemble(code)


def apply() -> None:
    """Install the filter on this process (and its future children and threads). Raises OSError."""
    machine = platform.machine()
    filt = program(machine)
    buf = ctypes.create_string_buffer(filt, len(filt))
    prog = struct.pack("=HxxxxxxQ", len(filt) // 8, ctypes.addressof(buf))
    linux.set_no_new_privs()
    libc = linux._libc
    if libc.syscall(ctypes.c_long(SECCOMP[machine]), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
                    ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), prog) != 0:
        err = ctypes.get_errno()
        if err != errno.ENOSYS:
            raise OSError(err, f"seccomp: {os.strerror(err)}")
        fprog = ctypes.create_string_buffer(prog, len(prog))
        linux.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


def available() -> bool:
    """Whether a worker can install the filter here (probed in a throwaway child: the caller, the
    zygote, must keep its own system calls)."""
    if platform.machine() not in REFUSED:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            apply()
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
