"""The zygote: a fresh interpreter that imports torch once and forks one confined worker per request.

Started by the grader as ``python -I -c BOOT CONTROL_FD`` from a scratch copy of this package (the
grader then sends its configuration as the first message); it is never forked from the grader, so a
worker cannot read reference results from its parent's memory, and it holds nothing but torch and
this package. Once torch is imported it answers
``{"ready": true, "details": {...}}``, then serves commands that arrive on a Unix seqpacket socket as
JSON, with file descriptors attached (SCM_RIGHTS):

- ``{"cmd": "spawn", "job": N, "limits": {...}, "scratch": DIR, "masks": [PATH, ...]}`` + [request read
  end, response write end, output write end] -> ``{"pid": PID}``: the worker's pid as the grader sees it
  (at the namespaces level the PID 1 of its PID namespace, whose death ends every process in it).
  ``masks``: files the worker must not read (torch's sources of the implementations its guards switch
  off), hidden at the namespaces and landlock levels. Once confined, the worker writes ``READY`` on its
  response pipe: an exit before that is the sandbox's failure, any exit after it is the submission's.
- ``{"cmd": "kill", "pid": PID}`` -> ``{"status": WAITSTATUS, "oom": bool}``: SIGKILL the worker's
  whole tree (namespace, cgroup, process group, and orphans it left behind), reap it, clean up.
- ``{"cmd": "exit"}``: kill every worker and end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback

SETUP_FAILED = 71  # exit code of a worker whose confinement failed (EX_OSERR); it ran no student code
READY = b"READY\n"  # what a confined worker writes on its response pipe before it runs anything else


class _Worker:
    def __init__(self, pid: int, reap: int, oom_before: int) -> None:
        self.pid, self.reap, self.oom_before = pid, reap, oom_before


class ZygoteServer:
    """The zygote process's own state: its level, the workers it forked and how it confines them. (The
    grader's handle on this process is ``runner.Zygote``.)"""

    def __init__(self, config: dict) -> None:
        from . import isolation

        self.level: str = config["level"]
        self.userns: bool = bool(config.get("userns"))
        self.deny: list[str] = list(config.get("deny", []))
        self.base: str = config["base"]
        self.newroot = os.path.join(self.base, "root")
        self.workers: dict[int, _Worker] = {}
        self.readable = isolation.read_paths(self.deny, config["pkg_root"])
        self.linux = isolation.LINUX
        self.seccomp = False
        self.cgroup = None
        self.pidns_fd = -1
        self.abi = 0
        details: dict = {"level": self.level}
        if self.linux:
            from . import linux

            linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)  # orphans of a worker become ours to kill
            from . import seccomp

            self.abi = linux.landlock_abi()
            details["landlock_abi"] = self.abi
            self.seccomp = seccomp.available()
            details["seccomp"] = self.seccomp
            if self.level != "namespaces":
                linux.prctl(linux.PR_SET_DUMPABLE, 0)  # same-uid workers can't ptrace or read us
        if self.level == "namespaces":
            details["userns"] = self.userns
            if not self.userns:
                self.pidns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.count_processes = self.level != "namespaces" and os.geteuid() != 0
        if self.linux and os.geteuid() == 0 and not (self.level == "namespaces" and self.userns):
            from . import cgroups

            self.cgroup = cgroups.ZygoteCgroup.create(f"kit-zygote-{os.getpid()}")
            details["cgroup"] = self.cgroup.describe() if self.cgroup else None
            try:  # the out-of-memory killer never picks the zygote; workers raise theirs to 1000
                with open("/proc/self/oom_score_adj", "w") as fh:
                    fh.write("-1000")
            except OSError:
                pass
        self.details = details

    # -- spawning --------------------------------------------------------------------------------

    def spawn(self, cmd: dict, fds: list[int]) -> dict:
        limits, job = cmd["limits"], int(cmd["job"])
        masks = [str(m) for m in cmd.get("masks") or []]
        oom_before = 0
        if self.cgroup is not None:
            self.cgroup.set_limits(int(limits["memory_bytes"]), int(limits["max_tasks"]))
            oom_before = self.cgroup.oom_kills()
        if self.level == "namespaces" and not self.userns:
            pid, reap = self._spawn_ns_root(limits, job, fds, masks)
        elif self.level == "namespaces":
            pid, reap = self._spawn_ns_userns(limits, fds, masks)
        else:
            # RLIMIT_NPROC counts every process of our uid: allow max_tasks more than there are now.
            nproc = _count_own_processes() + int(limits["max_tasks"]) if self.count_processes else None
            pid = reap = os.fork()
            if pid == 0:
                self._run_child(fds, lambda: self._confine_plain(limits, cmd["scratch"], nproc, masks))
        self.workers[pid] = _Worker(pid, reap, oom_before)
        return {"pid": pid}

    def _spawn_ns_root(self, limits: dict, job: int, fds: list[int], masks: list[str]):
        from . import isolation, linux

        uid = 10_000_000 + ((os.getpid() % 4_194_304) << 8) + (job & 0xFF)  # a uid of its own

        def confine() -> None:
            isolation.enter_namespaces_root(newroot=self.newroot, readable=self.readable, deny=self.deny,
                                            uid=uid, tmp_bytes=int(limits["file_bytes"]), masks=masks)
            self._confine_common(limits, "/tmp", nproc=int(limits["max_tasks"]), rules=self._ns_rules())

        # The next child is PID 1 of a new PID namespace; afterwards point pid_for_children back at ours.
        linux.unshare(linux.CLONE_NEWPID)
        try:
            pid = os.fork()
            if pid == 0:
                self._run_child(fds, confine)
        finally:
            linux.setns(self.pidns_fd, linux.CLONE_NEWPID)
        return pid, pid

    def _spawn_ns_userns(self, limits: dict, fds: list[int], masks: list[str]):
        """Unprivileged: an intermediate process creates the user namespace (mapping our uid to 0) and
        the others, builds the root, forks the worker as PID 1, reports its pid and mirrors its end."""
        from . import isolation, linux

        r, w = os.pipe()
        inter = os.fork()
        if inter == 0:
            try:
                os.close(r)
                isolation.close_other_fds((w, *fds))  # the control socket above all
                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
                isolation.userns_prepare(newroot=self.newroot, readable=self.readable, deny=self.deny,
                                         tmp_bytes=int(limits["file_bytes"]), masks=masks)
                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)  # gaining capabilities cleared it

                def confine() -> None:
                    isolation.enter_namespaces_userns(newroot=self.newroot)
                    self._confine_common(limits, "/tmp", nproc=int(limits["max_tasks"]),
                                         rules=self._ns_rules())

                pid = os.fork()
                if pid == 0:
                    os.close(w)
                    self._run_child(fds, confine)
                for fd in fds:
                    os.close(fd)
                os.write(w, str(pid).encode())
                os.close(w)
                _mirror(pid)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                os._exit(SETUP_FAILED)
        os.close(w)
        with os.fdopen(r, "rb") as fh:
            text = fh.read()
        if not text:  # the intermediate failed before forking: report its own end as the worker's
            return inter, inter
        return int(text), inter

    def _ns_rules(self) -> list | None:
        from . import isolation, linux

        if self.abi < 1:
            return None
        rules = [("/", linux.FS_READ), ("/tmp", linux.landlock_fs_all(self.abi))]
        return rules + [(f"/dev/{name}", linux.FS_RW_FILE) for name in isolation.DEVICES]

    def _confine_plain(self, limits: dict, scratch: str, nproc: int | None, masks: list[str]) -> None:
        from . import isolation

        rules = None
        if self.level == "landlock":
            rules = isolation.landlock_rules_for_worker(self.readable, scratch, self.deny, masks)
        os.setsid()  # own session + process group: the zygote kills the group
        if self.linux and os.geteuid() == 0:
            # A root grader forced to a weak level: stay uid 0 (the Python install may sit under a 0700
            # home) but without any capability, now or after exec.
            from . import linux

            linux.drop_bounding_set()
            linux.lock_securebits()
            linux.clear_capabilities()
        self._confine_common(limits, scratch, nproc=nproc, rules=rules)

    def _confine_common(self, limits: dict, workdir: str, *, nproc: int | None, rules: list | None) -> None:
        from . import isolation

        if self.level == "namespaces":
            os.setsid()
            # PID 1 of a namespace ignores every signal it has no handler for, SIGXCPU included.
            signal.signal(signal.SIGXCPU, lambda *_: os._exit(128 + signal.SIGXCPU))
        os.chdir(workdir)
        isolation.set_home(workdir)
        if rules is not None:
            isolation.landlock(rules, self.abi)
        isolation.apply_rlimits(limits, nproc=nproc)

    def _run_child(self, fds: list[int], confine) -> None:
        """In a fresh child: output to the grader's pipe, die with the zygote, confine, then serve."""
        from ..serve import serve
        from . import isolation

        req_fd, resp_fd, out_fd = fds
        try:
            isolation.redirect_output(out_fd)
            if self.linux:
                from . import linux

                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
                if self.cgroup is not None:  # first in line for the out-of-memory killer
                    with open("/proc/self/oom_score_adj", "w") as fh:
                        fh.write("1000")
            confine()
            if self.linux:  # again: a change of uid or capabilities clears it
                linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
            if self.seccomp:  # last: the confinement above needed unshare, mount and friends
                from . import seccomp

                seccomp.apply()
            isolation.close_other_fds((req_fd, resp_fd))
            os.write(resp_fd, READY)  # from here on, any way this process ends is the submission's
        except BaseException:  # noqa: BLE001 - report, never run student code half-confined
            sys.stderr.write("sandbox setup failed: ")
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(SETUP_FAILED)
        try:
            serve(req_fd, resp_fd)
        finally:
            os._exit(0)

    # -- killing ---------------------------------------------------------------------------------

    def kill(self, pid: int) -> dict:
        w = self.workers.pop(pid, None)
        if w is None:
            return {"status": None, "oom": False}
        if self.level == "namespaces":
            _signal(pid, False)  # PID 1 of the namespace: the kernel kills every process in it
        else:
            _signal(pid, True)
        try:
            _pid, status, usage = os.wait4(w.reap, 0)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            status, cpu = None, 0.0
        oom = self.cgroup is not None and self.cgroup.oom_kills() > w.oom_before
        if self.linux and self.level != "namespaces":
            self._kill_orphans()
        return {"status": status, "oom": oom, "cpu_seconds": cpu}

    def _kill_orphans(self) -> None:
        """Kill what a worker left behind: processes that escaped its process group (setsid daemons)
        were re-parented to us (we are a child subreaper), so every child that is not a live worker
        is an escapee. Killing one re-parents its children to us as well; repeat until none is left."""
        live = {w.reap for w in self.workers.values()}
        for _ in range(1000):
            orphans = _children() - live
            if not orphans:
                return
            for pid in orphans:
                _signal(pid, True)
            for pid in orphans:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass

    def close(self) -> None:
        for pid in list(self.workers):
            self.kill(pid)


def _signal(pid: int, group: bool) -> None:
    targets = [lambda: os.killpg(pid, signal.SIGKILL)] if group else []
    for target in targets + [lambda: os.kill(pid, signal.SIGKILL)]:
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _children() -> set[int]:
    """Our direct children (Linux)."""
    me = os.getpid()
    try:
        kids: set[int] = set()
        for tid in os.listdir(f"/proc/{me}/task"):
            with open(f"/proc/{me}/task/{tid}/children") as fh:
                kids.update(int(p) for p in fh.read().split())
        return kids
    except OSError:
        pass
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == me:
                        kids.add(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def _count_own_processes() -> int:
    """Tasks (threads included, as RLIMIT_NPROC counts them) of our uid."""
    uid, n = os.getuid(), 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 1024  # no /proc (macOS): a generous margin instead of a count
    for entry in entries:
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    with open(f"/proc/{entry}/stat") as fh:
                        n += int(fh.read().rsplit(")", 1)[1].split()[17])  # num_threads
            except (OSError, ValueError, IndexError):
                pass
    return n


def _mirror(pid: int) -> None:
    """Wait for ``pid`` and end the same way (exit code or signal), so our parent sees its status."""
    _pid, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    config = json.loads(control.recv(1 << 16))
    import torch

    # Forking after a multi-threaded op can hang the child: keep the zygote single-threaded.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    # Run one op so that lazily initialised CPU detection (cpuinfo reads /proc and /sys) happens here,
    # where those files are visible, and every worker inherits the same kernels. No RNG is touched.
    (torch.ones(4, 4) @ torch.ones(4, 4)).sum().item()
    import gc

    from .. import guards, handlers, serve  # noqa: F401  (preload the handlers before forking)

    handlers.warm_up()
    guards.prepare(config.get("guards") or {})  # what each worker may switch off (guards.py)

    gc.collect()
    gc.freeze()  # workers' collections then skip (and don't copy-on-write) everything imported so far
    try:
        zyg = ZygoteServer(config)
    except BaseException as exc:  # noqa: BLE001
        control.sendall(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}).encode())
        raise
    control.sendall(json.dumps({"ready": True, "details": zyg.details}).encode())
    try:
        while True:
            msg, anc_fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 4)
            if not msg:
                return
            fds = list(anc_fds)
            cmd = json.loads(msg)
            if cmd["cmd"] == "spawn":
                try:
                    reply = zyg.spawn(cmd, fds)
                except OSError as exc:
                    reply = {"error": f"{type(exc).__name__}: {exc}"}
                finally:
                    for fd in fds:
                        os.close(fd)
            elif cmd["cmd"] == "kill":
                reply = zyg.kill(int(cmd["pid"]))
            elif cmd["cmd"] == "exit":
                zyg.close()
                os._exit(0)  # nothing to flush; skip tearing torch down
            else:
                reply = {"error": f"unknown command {cmd['cmd']!r}"}
            control.sendall(json.dumps(reply).encode())
    finally:
        zyg.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when the zygote ends
    main()
