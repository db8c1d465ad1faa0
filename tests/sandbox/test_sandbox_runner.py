"""The runner's contract at every level: load and call, output capture, death reasons, restarts, cost."""

from __future__ import annotations

import os
import signal
import time

import pytest

from autograder.sandbox.runner import WorkerDied, WorkerTimeout, describe_end
from autograder.sandbox.worker import protocol

from ._support import VARIANTS, call, session

ALL = [pytest.param(v, id=v) for v in VARIANTS]


def _status(*, code: int | None = None, sig: int | None = None) -> int:
    return (code << 8) if code is not None else sig


@pytest.mark.parametrize("status, oom, expected", [
    (_status(code=3), False, "exit code 3"),
    (_status(sig=signal.SIGXCPU), False, "CPU time limit exceeded"),
    (_status(sig=signal.SIGXFSZ), False, "file size limit exceeded"),
    (_status(sig=signal.SIGKILL), True, "memory limit"),
    (_status(code=128 + signal.SIGXCPU), False, "exit code 152"),  # without the CPU time to show for it
    (_status(sig=signal.SIGSEGV), False, "SIGSEGV"),
    (None, False, "ended"),
])
def test_death_reasons_are_specific(status, oom, expected):
    assert expected in describe_end(status, oom=oom)


@pytest.mark.parametrize("status", [_status(sig=signal.SIGXCPU), _status(sig=signal.SIGKILL),
                                    _status(code=128 + signal.SIGXCPU)])
def test_cpu_exhaustion_is_named_whatever_the_signal(status):
    assert describe_end(status, cpu_exhausted=True) == "CPU time limit exceeded"
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:  # our own kill at a deadline
        assert "CPU" not in describe_end(status, cpu_exhausted=True, killed_by_grader=True)


def test_other_deaths_are_not_blamed_on_the_cpu_limit():
    assert "exit code 3" in describe_end(_status(code=3), cpu_exhausted=True)
    assert "SIGSEGV" in describe_end(_status(sig=signal.SIGSEGV), cpu_exhausted=True)


@pytest.mark.parametrize("variant", ALL)
def test_load_call_and_output(zyg, variant):
    s = session(zyg, "import torch\nprint('hello from', __name__)\n"
                     "def total(n):\n    return float(torch.ones(n).sum())\n")
    try:
        loaded = s.load()
        assert loaded.ok, loaded.error
        assert "total" in loaded.value["names"]
        assert call(s, "total", 5).value == 5.0
        assert s.call(protocol.Request("ping"), 5).value == "pong"
        assert "hello from submission" in s.output_tail()
    finally:
        s.stop()


@pytest.mark.parametrize("variant", ALL)
def test_a_hang_ends_at_its_timeout_and_the_next_call_restarts(zyg, variant):
    """The deadline is honoured (a hang does not run on: the bound is an order above the timeout, not a
    speed target; bench/isolation.py times the restart) and the next call reloads the module."""
    s = session(zyg, "def spin():\n    while True:\n        pass\ndef ok():\n    return 1\n")
    try:
        assert s.load().ok
        start = time.monotonic()
        with pytest.raises(WorkerTimeout):
            call(s, "spin", timeout=0.3)
        assert time.monotonic() - start < 10.0
        assert call(s, "ok").value == 1  # a fresh worker, the module loaded again
        assert s.restarts == 1
    finally:
        s.stop()


@pytest.mark.parametrize("variant", ALL)
def test_workers_start_load_and_end_one_after_another(zyg, variant):
    """spawn + confine + load of a module + kill, many times over (bench/isolation.py times it)."""
    for i in range(7):
        s = session(zyg, f"x = {i}\n", prelude=False)
        loaded = s.load()
        assert loaded.ok and "x" in loaded.value["names"], loaded
        assert s.stop()


@pytest.mark.parametrize("variant", ALL)
def test_scratch_is_removed_and_not_shared(zyg, variant):
    first = session(zyg, "import os\nopen('note.txt', 'w').write('mine')\n"
                         "def where():\n    return os.getcwd()\n")
    try:
        assert first.load().ok
        cwd = call(first, "where").value
    finally:
        first.stop()
    if zyg.level != "namespaces":
        assert not os.path.exists(cwd), "the scratch dir must be removed after the worker"
    second = session(zyg, "import os\ndef look():\n    return os.path.exists('note.txt')\n")
    try:
        assert second.load().ok
        assert call(second, "look").value is False
    finally:
        second.stop()


@pytest.mark.parametrize("variant", ["namespaces", "namespaces-userns", "rlimits"])  # landlock: as rlimits
def test_a_dead_zygote_takes_its_workers_and_is_restarted(zyg, variant):
    restarts, old_pid = zyg.restarts, zyg._proc.pid
    s = session(zyg, "import time\ndef wait():\n    time.sleep(30)\n")
    assert s.load().ok
    worker = s.pid
    os.killpg(old_pid, signal.SIGKILL)  # the grader's view: the zygote crashed
    with pytest.raises(WorkerDied):
        call(s, "wait", timeout=5)
    assert not os.path.exists(f"/proc/{worker}") or _is_zombie(worker)
    assert s.load().ok  # the next spawn starts a new zygote
    s.stop()
    assert zyg.restarts == restarts + 1 and zyg._proc.pid != old_pid


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sessions_are_independent(zygotes):
    z = zygotes("rlimits")
    a = session(z, "state = []\ndef push():\n    state.append(1)\n    return len(state)\n")
    b = session(z, "state = []\ndef push():\n    state.append(1)\n    return len(state)\n")
    try:
        assert a.load().ok and b.load().ok
        assert [call(a, "push").value, call(a, "push").value, call(b, "push").value] == [1, 2, 1]
    finally:
        a.stop()
        b.stop()
