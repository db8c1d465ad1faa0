"""The trusted side of the sandbox: start the zygote, spawn confined workers, talk to them with
deadlines, and kill a worker's whole process tree when it is done or misbehaves.

The grader never imports student code. Each student gets a ``WorkerSession``: a worker forked by the
zygote that loaded the student's module once; when a request times out or the worker dies, the
session kills it, and the next request transparently starts a fresh one (re-loading the module).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .worker import protocol

WORKER_PACKAGE = Path(__file__).parent / "worker"
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Resource caps of one worker. Memory is address space (RLIMIT_AS): torch needs ~1 GiB of it."""

    memory_bytes: int = 4 * GiB
    file_bytes: int = 64 << 20
    cpu_seconds: int = 600
    load_seconds: float = 20.0  # module-level code of the submission


class WorkerTimeout(Exception):
    """The worker did not answer within its deadline (it has been killed)."""


class WorkerDied(Exception):
    """The worker ended without answering; ``reason`` says how (exit code, signal, memory)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe_status(status: int | None) -> str:
    if status is None:
        return "the worker process ended"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "CPU time limit exceeded"
        if sig == signal.SIGXFSZ:
            return "file size limit exceeded"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"the worker process was killed by {name}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"the submission ended the worker process (exit code {code})"


class Zygote:
    """A fresh interpreter with torch imported that forks workers on request (one per grader process)."""

    def __init__(self, level: str = "rlimits") -> None:
        self.level = level
        self.base = Path(tempfile.mkdtemp(prefix="kit-sandbox-"))
        os.chmod(self.base, 0o711)
        pkg_root = self.base / "pkg"
        shutil.copytree(WORKER_PACKAGE, pkg_root / "kitworker", ignore=shutil.ignore_patterns("__pycache__"))
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = f"import sys; sys.path.insert(0, {str(pkg_root)!r}); from kitworker.zygote import main; main()"
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "HOME": str(self.base)}
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=self.base, env=env, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._jobs = 0

    def _command(self, cmd: dict, fds: list[int] = ()) -> dict:
        socket.send_fds(self._sock, [json.dumps(cmd).encode()], list(fds))
        reply = self._sock.recv(1 << 16)
        if not reply:
            raise RuntimeError("the sandbox zygote died")
        return json.loads(reply)

    def spawn(self, limits: Limits) -> tuple[int, int, int, Path]:
        """Fork a confined worker; return (pid, request write fd, response read fd, scratch dir)."""
        self._jobs += 1
        scratch = self.base / f"job-{self._jobs}"
        scratch.mkdir(mode=0o700)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        try:
            pid = self._command({"cmd": "spawn", "scratch": str(scratch), "limits": asdict(limits),
                                 "level": self.level}, [req_r, resp_w])["pid"]
        finally:
            os.close(req_r)
            os.close(resp_w)
        return pid, req_w, resp_r, scratch

    def kill(self, pid: int) -> str:
        """Kill the worker's whole process group and return how it ended."""
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass
        return _describe_status(self._command({"cmd": "reap", "pid": pid}).get("status"))

    def close(self) -> None:
        try:
            socket.send_fds(self._sock, [json.dumps({"cmd": "exit"}).encode()], [])
        except OSError:
            pass
        self._sock.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class WorkerSession:
    """One student's worker: loaded with the student's module, restarted after a crash or timeout."""

    zygote: Zygote
    source: str
    filename: str
    module: str
    limits: Limits = field(default_factory=Limits)
    restarts: int = 0
    _pid: int | None = None
    _req: int = -1
    _resp: int = -1
    _scratch: Path | None = None

    def _start(self) -> protocol.Response:
        self._pid, self._req, self._resp, self._scratch = self.zygote.spawn(self.limits)
        return self._roundtrip(protocol.Request("load", {"source": self.source, "filename": self.filename,
                                                         "module": self.module}), self.limits.load_seconds)

    def load(self) -> protocol.Response:
        """Start the worker and execute the submission's module-level code (its own time budget)."""
        self.stop()
        return self._start()

    def call(self, req: protocol.Request, timeout: float) -> protocol.Response:
        """Send one request; raise WorkerTimeout/WorkerDied (worker killed) when it goes wrong."""
        if self._pid is None:
            self.restarts += 1
            loaded = self._start()
            if not loaded.ok:
                raise WorkerDied("the submission failed to load again after a restart")
        return self._roundtrip(req, timeout)

    def _roundtrip(self, req: protocol.Request, timeout: float) -> protocol.Response:
        deadline = time.monotonic() + timeout
        data = memoryview(protocol.encode_request(req))
        try:
            while data:
                _, writable, _ = select.select([], [self._req], [], max(0.0, deadline - time.monotonic()))
                if not writable:
                    raise WorkerTimeout()
                data = data[os.write(self._req, data[: 1 << 16]):]
            header = self._read(protocol.HEADER_SIZE, deadline)
            return protocol.decode_response(header, lambda n: self._read(n, deadline))
        except WorkerTimeout:
            self.stop()
            raise
        except (EOFError, BrokenPipeError, protocol.ProtocolError) as exc:
            reason = self.stop()
            if isinstance(exc, protocol.ProtocolError):
                reason = f"the worker sent a malformed reply ({exc})"
            raise WorkerDied(reason) from None

    def _read(self, n: int, deadline: float) -> bytes:
        chunks, left = [], n
        while left:
            readable, _, _ = select.select([self._resp], [], [], max(0.0, deadline - time.monotonic()))
            if not readable:
                raise WorkerTimeout()
            chunk = os.read(self._resp, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def output_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the student's code printed in the current worker."""
        if self._scratch is None:
            return ""
        path = self._scratch / "output.txt"
        try:
            with open(path, "rb") as fh:
                fh.seek(max(0, path.stat().st_size - limit))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> str:
        """Kill the current worker (whole tree) if any; return how it ended."""
        if self._pid is None:
            return ""
        for fd in (self._req, self._resp):
            try:
                os.close(fd)
            except OSError:
                pass
        reason = self.zygote.kill(self._pid)
        self._pid = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        return reason
