"""One student's worker, seen from the grader: ``WorkerSession`` loads the student's module in a worker
the zygote forked, sends requests with deadlines (wall time, and a CPU budget read from /proc for the
load), drains what the student prints into a bounded tail, and kills the worker's tree when a request
times out or the worker dies; the next request transparently starts a fresh one."""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field

from .runner import BudgetSpent, Limits, WorkerDied, WorkerProcess, WorkerTimeout, Zygote
from .worker import operations, protocol

CPU_POLL_S = 0.1  # how often a CPU budget is checked while waiting


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of process ``pid`` (all its threads, and its children once reaped),
    from /proc; None where that cannot be read (not Linux, the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    # after the ")" that ends the command name: state is field 0, utime 11, stime 12, cutime 13, cstime 14
    return sum(int(f) for f in fields[11:15]) / ticks


class _Tail:
    """The last ``keep`` bytes of a stream plus the total length."""

    def __init__(self, keep: int = 64 << 10) -> None:
        self.keep, self.total, self.buf = keep, 0, bytearray()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        self.buf += data
        if len(self.buf) > 2 * self.keep:
            del self.buf[: len(self.buf) - self.keep]


@dataclass
class WorkerSession:
    """One student's worker for one group of graded names: prepared for them (``disabled``: torch's
    implementations its guards switch off, family -> label; ``standins``: the trusted stand-ins it is
    given, name -> source; ``masks``: files it must not read), loaded with the student's module, and
    restarted after a crash or timeout. ``deadline`` (a ``time.monotonic()`` value) ends every request,
    loads and reloads included, at the student's whole budget."""

    zygote: Zygote
    source: str
    filename: str
    module: str
    limits: Limits = field(default_factory=Limits)
    disabled: dict = field(default_factory=dict)
    standins: dict = field(default_factory=dict)
    masks: tuple = ()
    deadline: float | None = None
    restarts: int = 0
    round_trips: int = 0  # requests sent (loads included): what ``make bench`` counts per rubric line
    last_end: str = ""
    load_seconds: float = 0.0  # wall time of the last load
    loaded: protocol.Response | None = None  # the reply to the last load (names the module defines)
    _worker: WorkerProcess | None = None
    _output: _Tail = field(default_factory=_Tail)
    _cpu_budget: float | None = None

    @property
    def pid(self) -> int | None:
        return self._worker.pid if self._worker else None

    def left(self) -> float:
        """Seconds left of the student's budget (infinite without one)."""
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def _bounded(self, seconds: float) -> float:
        left = self.left()
        if left <= 0:
            raise BudgetSpent()
        return min(seconds, left)

    def _start(self, budget: float | None = None) -> protocol.Response:
        limits = self.limits
        wall = self._bounded(min(limits.load_wall_seconds, budget if budget is not None else float("inf")))
        self._output = _Tail()
        started = time.monotonic()
        self._worker = self.zygote.spawn(self.limits, self.masks)
        request = operations.Load(self.source, self.filename, self.module, self.disabled, self.standins)
        try:
            self.loaded = self._roundtrip(request.to_wire(), wall, cpu_budget=limits.load_seconds)
        except WorkerTimeout:
            if self.left() <= 0:
                raise BudgetSpent() from None
            raise
        self.load_seconds = time.monotonic() - started
        return self.loaded

    def load(self) -> protocol.Response:
        """Start the worker and execute the submission's module-level code (its own time budget)."""
        self.stop()
        return self._start()

    def call(self, req: protocol.Request, timeout: float, budget: float | None = None) -> protocol.Response:
        """Send one request; raise WorkerTimeout/WorkerDied (worker killed) when it goes wrong, and
        ``BudgetSpent`` when the student's budget is over. A worker killed earlier is started (and the
        module loaded) again first, within ``budget`` seconds when given (the line's own time)."""
        if self._worker is None:
            self.restarts += 1
            loaded = self._start(budget)
            if not loaded.ok:
                self.stop()
                raise WorkerDied("the submission failed to load again after a restart")
        wait = self._bounded(timeout)
        try:
            return self._roundtrip(req, wait)
        except WorkerTimeout:
            if wait < timeout and self.left() <= 0:
                raise BudgetSpent() from None
            raise

    def _roundtrip(self, req: protocol.Request, timeout: float,
                   cpu_budget: float | None = None) -> protocol.Response:
        """Send ``req`` and read its reply within ``timeout`` wall seconds and, when ``cpu_budget`` is
        given, within that many CPU seconds of the worker (measured here, from /proc: the student's code
        cannot fake it)."""
        self.round_trips += 1
        deadline = time.monotonic() + timeout
        self._cpu_budget = cpu_budget
        data = memoryview(protocol.encode_request(req))
        try:
            while data:
                if self._wait(self._worker.req, deadline, write=True):
                    data = data[os.write(self._worker.req, data[: 1 << 16]):]
            header = self._read(protocol.HEADER_SIZE, deadline)
            return protocol.decode_response(header, lambda n: self._read(n, deadline))
        except WorkerTimeout:
            self.stop()
            raise
        except (EOFError, BrokenPipeError, protocol.ProtocolError) as exc:
            worker = self._worker
            if worker is not None and not isinstance(exc, protocol.ProtocolError):
                worker.exited(0.25)  # let a dying worker finish so that its status says why
            reason = self.stop()
            if isinstance(exc, protocol.ProtocolError):
                reason = f"the worker sent a malformed reply ({exc})"
            raise WorkerDied(reason) from None
        except BaseException:  # anything else (a bug, KeyboardInterrupt): never leave the worker behind
            self.stop()
            raise

    def _wait(self, fd: int, deadline: float, *, write: bool = False) -> bool:
        """Wait until ``fd`` is ready, draining the output pipe meanwhile; raise WorkerTimeout at the
        deadline and EOFError when the worker process ended (a child it left may hold the pipes)."""
        w = self._worker
        while True:
            watch = [w.out] if w.out >= 0 else []
            if w.pidfd >= 0:
                watch.append(w.pidfd)
            left = deadline - time.monotonic()
            if left <= 0 or self._over_cpu_budget():
                raise WorkerTimeout()
            if self._cpu_budget is not None:
                left = min(left, CPU_POLL_S)
            if write:
                readable, writable, _ = select.select(watch, [fd], [], left)
            else:
                readable, writable, _ = select.select(watch + [fd], [], [], left)
            if w.out in readable:
                self._drain()
            if fd in readable or fd in writable:
                return True
            if w.pidfd in readable:
                raise EOFError("the worker process ended")

    def _over_cpu_budget(self) -> bool:
        if self._cpu_budget is None:
            return False
        used = process_cpu_seconds(self._worker.pid)
        return used is not None and used > self._cpu_budget

    def _drain(self) -> None:
        w = self._worker
        for _ in range(64):  # at most 64 MiB per wake-up, then serve the other descriptors
            try:
                chunk = os.read(w.out, 1 << 20)
            except BlockingIOError:
                return
            if not chunk:
                os.close(w.out)
                w.out = -1
                return
            self._output.feed(chunk)

    def _read(self, n: int, deadline: float) -> bytearray:
        """Exactly ``n`` bytes (the caller checked ``n`` against the reply caps first), read into one
        buffer: no list of chunks and no join, so a reply costs its size once."""
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            self._wait(self._worker.resp, deadline)
            k = os.readv(self._worker.resp, [view[got: got + (1 << 20)]])
            if not k:
                raise EOFError
            got += k
        view.release()
        return buf

    def output_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the student's code printed in the current (or last) worker."""
        if self._worker is not None and self._worker.out >= 0:
            self._drain()
        return bytes(self._output.buf[-limit:]).decode("utf-8", "replace")[-limit:]

    @property
    def output_bytes(self) -> int:
        """How many bytes the current (or last) worker printed in all."""
        return self._output.total

    def stop(self) -> str:
        """Kill the current worker (whole tree) if any; return how it ended."""
        if self._worker is None:
            return ""
        if self._worker.out >= 0:
            self._drain()
        worker, self._worker = self._worker, None
        self.last_end = self.zygote.kill(worker)
        return self.last_end
