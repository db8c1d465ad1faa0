"""The trusted side of the sandbox: start the zygote, spawn confined workers, talk to them with
deadlines, and kill a worker's whole process tree when it is done or misbehaves.

The grader never imports student code. Each student gets a ``session.WorkerSession``: a worker forked by the
zygote that loaded the student's module once; when a request times out or the worker dies, the
session kills it, and the next request transparently starts a fresh one (re-loading the module). If
the zygote itself dies, the next spawn starts a new one. What the student prints goes into a pipe that
the session drains while it waits for replies, keeping only a bounded tail. The isolation level and
what it promises are described in ``levels.py``.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path

from . import levels
from .guards import guard_config
from .worker.confinement.zygote import READY, SETUP_FAILED

WORKER_PACKAGE = Path(__file__).parent / "worker"
REPO_ROOT = Path(__file__).resolve().parents[2]
GiB = 1 << 30
_ZYGOTE_START_S = 120.0  # a cold `import torch` on a busy machine
_ZYGOTE_REPLY_S = 30.0


@dataclass(frozen=True)
class Limits:
    """Resource caps of one worker. ``memory_bytes`` is address space per process (RLIMIT_AS: torch
    alone maps ~0.7 GiB, below ~768 MiB it cannot start) and, where a memory cgroup is available, the
    resident memory of the whole tree. ``file_bytes`` caps one file and, at the namespaces level, the
    whole of ``/tmp``. ``max_tasks`` caps processes plus threads where the level can (see levels.py)."""

    memory_bytes: int = 4 * GiB
    file_bytes: int = 64 << 20
    cpu_seconds: int = 600
    # Module-level code of the submission: CPU seconds of the worker (a busy grading machine must not
    # turn a slow import into a timeout), with a wall-clock backstop for code that sleeps or blocks.
    load_seconds: float = 20.0
    load_wall_seconds: float = 60.0
    max_tasks: int = 64


class WorkerTimeout(Exception):
    """The worker did not answer within its deadline (it has been killed)."""


class BudgetSpent(WorkerTimeout):
    """The student's whole budget of wall time is spent: nothing more of theirs runs."""


class WorkerDied(Exception):
    """The worker ended without answering; ``reason`` says how (exit code, signal, memory)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxError(RuntimeError):
    """The sandbox itself failed (the zygote could not start): a grader fault, not the student's."""


def describe_end(status: int | None, *, oom: bool = False, killed_by_grader: bool = False,
                 cpu_exhausted: bool = False, ready: bool = True) -> str:
    """How a worker ended, in words a student can act on. The phrases ``memory limit``, ``CPU time
    limit exceeded``, ``file size limit exceeded`` and ``exit code N`` are stable. ``ready``: the worker
    had finished its confinement (after that, no exit code it chose can read as the sandbox's fault)."""
    if oom:
        return "memory limit exceeded (the worker was killed by the out-of-memory killer)"
    if status is None:
        return "the worker process ended"
    # The CPU limit ends a worker with SIGXCPU; as PID 1 of a namespace (which ignores SIGXCPU by
    # default) through its handler's exit code 128 + SIGXCPU; with SIGKILL at the hard limit, one second
    # later, if the code ignored SIGXCPU. The last two need the CPU time to show for it.
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    xcpu_exit = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGXCPU
    if cpu_exhausted and (xcpu_exit or (killed and not killed_by_grader)):
        return "CPU time limit exceeded"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "CPU time limit exceeded"
        if sig == signal.SIGXFSZ:
            return "file size limit exceeded"
        if killed_by_grader:
            return "the worker stopped answering and was killed"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"the worker process was killed by {name}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    if code == SETUP_FAILED and not ready:
        return "the sandbox could not confine the worker (exit code 71)"
    return f"the submission ended the worker process (exit code {code})"


@dataclass
class WorkerProcess:
    """One forked worker as the grader sees it: its pid and the grader's ends of its three pipes."""

    pid: int
    req: int
    resp: int
    out: int
    scratch: Path | None
    generation: int
    limits: Limits
    pidfd: int = -1
    ready: bool = False  # the worker reported its confinement done (``READY``)

    def exited(self, timeout: float = 0.0) -> bool:
        """Whether the process has ended (needs a pidfd, i.e. Linux >= 5.3; else always False)."""
        if self.pidfd < 0:
            return False
        return bool(select.select([self.pidfd], [], [], timeout)[0])


class Zygote:
    """A fresh interpreter with torch imported that forks confined workers on request (one per grader
    process): the grader's handle on the zygote process (whose own state is ``ZygoteServer``).
    ``level``: a level resolved once per run (``levels.resolve_level``), taken as it is; None resolves
    it here (``$KIT_ISOLATION``, else the strongest available one). ``hide`` lists extra paths no worker
    may see (the repository and the zygote's own folder always are). ``guards`` replaces the table of
    what workers can switch off (``guards.guard_config``; benchmarks measure their cost without)."""

    def __init__(self, level: str | None = None, *, userns: bool | None = None,
                 hide: tuple[str, ...] = (), guards: dict | None = None) -> None:
        self.level = levels.resolve_level(level) if level is None else levels.known(level)
        self.userns = (os.geteuid() != 0) if userns is None else userns
        self.details: dict = {}
        self.restarts = 0
        self._hide = [str(Path(p).resolve()) for p in (REPO_ROOT, *hide)]
        # What workers can switch off (guards.guard_config); the bench overrides it.
        self._guards = guard_config() if guards is None else guards
        self._lock = threading.RLock()
        self._generation = 0
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self.base = Path(tempfile.mkdtemp(prefix="kit-sandbox-"))
        os.chmod(self.base, 0o711)
        pkg_root = self.base / "pkg"
        shutil.copytree(WORKER_PACKAGE, pkg_root / "kitworker", ignore=shutil.ignore_patterns("__pycache__"))
        os.chmod(pkg_root, 0o755)
        (self.base / "root").mkdir(mode=0o755)
        self._jobs = 0
        # A grader that forgets close() (or exits on an exception) still ends the zygote and removes its
        # folder and cgroups, at garbage collection or interpreter exit; the state dict holds no `self`.
        self._finalizer = weakref.finalize(self, _cleanup, self.__dict__)
        self._start()

    # -- the zygote process ------------------------------------------------------------------------

    def _start(self) -> None:
        pkg_root = self.base / "pkg"
        config = {"level": self.level, "userns": self.userns, "base": str(self.base),
                  "pkg_root": str(pkg_root), "deny": [*self._hide, str(self.base)],
                  "guards": self._guards}
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                f"sys.path.insert(0, {str(pkg_root)!r}); "
                "from kitworker.confinement.zygote import main; main()")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "HOME": str(self.base / "root")}
        # The configuration (which names the repository) travels over the socket, not the command
        # line: every worker inherits the zygote's argv, and a worker can read its own /proc/1/cmdline.
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=self.base, env=env, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._generation += 1
        try:
            self._sock.send(json.dumps(config).encode())
            hello = self._receive(_ZYGOTE_START_S)
        except (OSError, RuntimeError) as exc:
            self._terminate()
            raise SandboxError(f"the sandbox zygote did not start: {exc}") from None
        if not hello.get("ready"):
            self._terminate()
            raise SandboxError(f"the sandbox zygote could not set up level {self.level!r}: "
                               f"{hello.get('error')}")
        self.details = hello.get("details", {"level": self.level})

    def _receive(self, timeout: float) -> dict:
        assert self._sock is not None
        self._sock.settimeout(timeout)
        try:
            reply = self._sock.recv(1 << 16)
        except TimeoutError:
            raise RuntimeError("the sandbox zygote did not answer") from None
        if not reply:
            raise RuntimeError("the sandbox zygote died")
        return json.loads(reply)

    def _command(self, cmd: dict, fds: list[int] = ()) -> dict:
        assert self._sock is not None
        try:
            socket.send_fds(self._sock, [json.dumps(cmd).encode()], list(fds))
            return self._receive(_ZYGOTE_REPLY_S)
        except (OSError, RuntimeError):
            self._terminate()  # dead or stuck: make sure it is gone; the next spawn restarts it
            raise

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._sock is not None

    def _terminate(self) -> None:
        _end_process(self.__dict__)

    def restart(self) -> None:
        """Start a new zygote (after the old one died or hung); its workers died with it."""
        with self._lock:
            self._terminate()
            self.restarts += 1
            self._start()

    # -- workers -----------------------------------------------------------------------------------

    def spawn(self, limits: Limits, masks: tuple[str, ...] = (),
              timeout: float = _ZYGOTE_REPLY_S) -> WorkerProcess:
        """Fork a confined worker (restarting the zygote first if it died) and wait for it to report its
        confinement done; ``masks``: files it must not read. ``WorkerDied`` (the sandbox's failure) when
        it ends before that."""
        with self._lock:
            if not self.alive():
                self.restart()
            try:
                worker = self._spawn(limits, masks)
            except (OSError, RuntimeError):
                self.restart()
                worker = self._spawn(limits, masks)
        self._wait_ready(worker, timeout)
        return worker

    def _wait_ready(self, worker: WorkerProcess, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        got = b""
        while len(got) < len(READY):
            left = deadline - time.monotonic()
            ready = select.select([worker.resp], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(worker.resp, len(READY) - len(got)) if ready else b""
            if not chunk:
                raise WorkerDied(f"the sandbox could not confine a worker ({self.kill(worker)})")
            got += chunk
        if got != READY:
            self.kill(worker)
            raise WorkerDied("the sandbox could not confine a worker (it did not report ready)")
        worker.ready = True

    def _spawn(self, limits: Limits, masks: tuple[str, ...] = ()) -> WorkerProcess:
        self._jobs += 1
        scratch = None
        if self.level != "namespaces":  # the namespaces level gets a private tmpfs instead
            scratch = self.base / f"job-{self._jobs}"
            scratch.mkdir(mode=0o700)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            reply = self._command({"cmd": "spawn", "job": self._jobs, "limits": asdict(limits),
                                   "scratch": str(scratch) if scratch else None, "masks": list(masks)},
                                  [req_r, resp_w, out_w])
        except BaseException:
            for fd in (req_w, resp_r, out_r):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, out_w):
                os.close(fd)
        if "pid" not in reply:
            for fd in (req_w, resp_r, out_r):
                os.close(fd)
            raise WorkerDied(f"the sandbox could not start a worker ({reply.get('error')})")
        fcntl.fcntl(out_r, fcntl.F_SETFL, fcntl.fcntl(out_r, fcntl.F_GETFL) | os.O_NONBLOCK)
        worker = WorkerProcess(reply["pid"], req_w, resp_r, out_r, scratch, self._generation, limits)
        if hasattr(os, "pidfd_open"):
            try:
                worker.pidfd = os.pidfd_open(worker.pid)
            except OSError:
                pass  # already reaped? only when the zygote died; the channel tells the rest
        return worker

    def kill(self, worker: WorkerProcess) -> str:
        """Kill the worker's whole tree, reap it, remove its scratch dir; return how it ended."""
        killed_live = not worker.exited()
        result: dict = {"status": None, "oom": False}
        with self._lock:
            if worker.generation == self._generation and self.alive():
                try:
                    result = self._command({"cmd": "kill", "pid": worker.pid})
                except (OSError, RuntimeError):
                    pass
        if result.get("status") is None:  # the zygote is gone: kill what we can address ourselves
            _kill_direct(worker)
        for fd in (worker.req, worker.resp, worker.out, worker.pidfd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        worker.pidfd = -1
        if worker.scratch is not None:
            shutil.rmtree(worker.scratch, ignore_errors=True)
        if result.get("status") is None and not self.alive():
            return "the worker process ended with the sandbox zygote (a new zygote starts on the next spawn)"
        # rusage times are sampled: in a VM they come out as much as 20% below the scheduler's count that
        # RLIMIT_CPU uses, hence the wide margin
        cpu = float(result.get("cpu_seconds") or 0.0)
        return describe_end(result.get("status"), oom=bool(result.get("oom")), killed_by_grader=killed_live,
                            cpu_exhausted=cpu >= 0.5 * worker.limits.cpu_seconds, ready=worker.ready)

    def close(self) -> None:
        """Ask the zygote to kill its workers and exit; then remove its folder and cgroups."""
        with self._lock:
            if self._sock is not None:
                try:
                    socket.send_fds(self._sock, [json.dumps({"cmd": "exit"}).encode()], [])
                except OSError:
                    pass
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass  # _cleanup kills it
            self._finalizer()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _end_process(state: dict) -> None:
    """Close the control socket, SIGKILL the zygote's process group if it still runs, reap it, and
    remove its cgroups (they outlive it, empty, once its last workers have exited)."""
    sock, proc = state.get("_sock"), state.get("_proc")
    if sock is not None:
        sock.close()
        state["_sock"] = None
    if proc is not None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()
    for path in sorted(set((state.get("details", {}).get("cgroup") or {}).values())):
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)  # its last workers are still exiting


def _cleanup(state: dict) -> None:
    _end_process(state)
    shutil.rmtree(state["base"], ignore_errors=True)


def _kill_direct(worker: WorkerProcess) -> None:
    if worker.pidfd >= 0 and hasattr(signal, "pidfd_send_signal"):
        try:
            signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
        except OSError:
            pass
        return
    try:  # no pidfd: the pid may have been reused once nobody holds the zombie, so only the process
        os.kill(worker.pid, signal.SIGKILL)
    except OSError:
        pass
