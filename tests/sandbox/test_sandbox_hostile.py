"""Hostile or broken submissions against every isolation level that promises to hold them.

Each test runs a small submission that tries one thing (at import or inside a function the test calls)
and checks from the outside that it failed, cost nothing beyond its own deadline, and left nothing
running. Levels are forced; a threat is tested only at the levels whose promise table row says "yes"
(``autograder/sandbox/levels.py``).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time

import pytest

from autograder.sandbox.runner import GiB, WorkerDied, WorkerTimeout

from ._support import (
    NAME_PROCESS,
    REPO,
    SMALL,
    call,
    level_of,
    processes_named,
    require,
    session,
    token,
    variants_promising,
    wait_gone,
)

pytestmark = pytest.mark.hostile

QUICK = dataclasses.replace(SMALL, load_seconds=1.0, load_wall_seconds=2.0)
# a hang at import costs CPU (busy loop) or only wall time (sleep): both budgets are small here
HANG = dataclasses.replace(SMALL, load_seconds=0.5, load_wall_seconds=1.0)


# --- ending or hanging the worker ------------------------------------------------------------------

@pytest.mark.parametrize("variant", variants_promising("hang"))
@pytest.mark.parametrize("body", [
    "while True:\n    pass\n",
    "import time\ntime.sleep(60)\n",
    "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)\n",
], ids=["busy-loop", "sleep", "ignores-signals"])
def test_hang_at_import_is_killed_at_the_deadline(zyg, variant, body):
    tag = token()
    s = session(zyg, NAME_PROCESS.format(tag=tag) + body, HANG)
    start = time.monotonic()
    with pytest.raises(WorkerTimeout):
        s.load()
    # at its own deadline (plus the kill's grace), not at a later backstop
    assert time.monotonic() - start < HANG.load_wall_seconds + 5
    assert not wait_gone(tag)


@pytest.mark.parametrize("variant", variants_promising("hang"))
def test_the_import_budget_counts_cpu_time_not_waiting(zyg, variant):
    """A busy machine must not turn a slow import into a timeout: the budget is the worker's CPU time
    (read by the grader from /proc), and only the wall-clock backstop bounds waiting."""
    limits = dataclasses.replace(SMALL, load_seconds=0.5, load_wall_seconds=15.0)
    waits = session(zyg, "import time\ntime.sleep(1.5)\ndef fine():\n    return 1\n", limits)
    try:
        assert waits.load().ok  # 1.5 s of wall time, next to no CPU time
    finally:
        waits.stop()
    busy = session(zyg, "while True:\n    pass\n", limits)
    start = time.monotonic()
    with pytest.raises(WorkerTimeout):
        busy.load()
    assert time.monotonic() - start < limits.load_wall_seconds  # killed for its CPU time, before the backstop


@pytest.mark.parametrize("variant", variants_promising("hang"))
def test_hang_inside_a_function_then_recover(zyg, variant):
    s = session(zyg, "import signal\ndef stuck():\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                     "    while True:\n        pass\ndef fine():\n    return 'ok'\n")
    try:
        assert s.load().ok
        with pytest.raises(WorkerTimeout):
            call(s, "stuck", timeout=0.5)
        assert call(s, "fine").value == "ok"
    finally:
        s.stop()


@pytest.mark.parametrize("variant", variants_promising("hang"))
def test_sys_exit_is_an_error_not_a_death(zyg, variant):
    # at import: that statement is reported, the rest of the module still runs
    at_import = session(zyg, "import sys\nsys.exit(4)\ndef after():\n    return 2\n", QUICK)
    reply = at_import.load()
    assert reply.ok and [f["type"] for f in reply.value["failures"]] == ["SystemExit"], reply
    assert "after" in reply.value["names"] and call(at_import, "after").value == 2
    at_import.stop()
    inside = session(zyg, "import sys\ndef leave():\n    sys.exit('bye')\ndef fine():\n    return 1\n", QUICK)
    try:
        assert inside.load().ok
        reply = call(inside, "leave")
        assert not reply.ok and reply.error["type"] == "SystemExit"
        assert call(inside, "fine").value == 1  # the same worker goes on serving
        assert inside.restarts == 0
    finally:
        inside.stop()


@pytest.mark.parametrize("variant", variants_promising("hang"))
def test_os_exit_reports_the_exit_code(zyg, variant):
    with pytest.raises(WorkerDied, match="exit code 7"):
        session(zyg, "import os\nos._exit(7)\n", QUICK).load()
    s = session(zyg, "import os\ndef leave():\n    os._exit(9)\n", QUICK)
    try:
        assert s.load().ok
        with pytest.raises(WorkerDied, match="exit code 9"):
            call(s, "leave")
    finally:
        s.stop()


# --- exhausting the machine -----------------------------------------------------------------------

@pytest.mark.parametrize("variant", variants_promising("rlimits"))
def test_huge_allocations_fail_inside_the_worker(zyg, variant):
    limits = dataclasses.replace(SMALL, memory_bytes=GiB + (GiB >> 2))  # leaves ~0.5 GiB to fill
    s = session(zyg, "import torch\ndef numpy_like():\n    return len(bytearray(64 << 30))\n"
                     "def tensor():\n    return torch.empty(16 << 30, dtype=torch.uint8).numel()\n"
                     "def grow():\n    keep = []\n    while True:\n"
                     "        keep.append(bytearray(64 << 20))\n", limits)
    try:
        assert s.load().ok
        for fn in ("numpy_like", "tensor", "grow"):
            reply = call(s, fn, timeout=20)
            assert not reply.ok, fn
            assert reply.error["type"] in ("MemoryError", "RuntimeError"), reply.error
    finally:
        s.stop()


@pytest.mark.parametrize("variant", variants_promising("rlimits"))
def test_cpu_time_limit(zyg, variant):
    limits = dataclasses.replace(SMALL, cpu_seconds=1)
    s = session(zyg, "def spin():\n    while True:\n        pass\n", limits)
    try:
        assert s.load().ok
        with pytest.raises(WorkerDied, match="CPU time limit exceeded"):
            call(s, "spin", timeout=10)
    finally:
        s.stop()


@pytest.mark.parametrize("variant", variants_promising("rlimits"))
def test_file_size_limit(zyg, variant):
    s = session(zyg, "def write():\n    with open('big.bin', 'wb') as fh:\n"
                     "        for _ in range(1024):\n            fh.write(bytes(1 << 20))\n")
    try:
        assert s.load().ok
        try:
            reply = call(s, "write", timeout=10)
        except WorkerDied as exc:
            assert "file size limit exceeded" in exc.reason
        else:  # tmpfs full before the rlimit: an error inside the worker is as good
            assert not reply.ok and reply.error["type"] == "OSError", reply.error
    finally:
        s.stop()


@pytest.mark.parametrize("variant", variants_promising("output"))
def test_printing_megabytes_keeps_only_a_tail(zyg, variant):
    s = session(zyg, "import sys\ndef shout():\n    line = 'x' * 1023 + '\\n'\n"
                     "    for _ in range(20 * 1024):\n        sys.stdout.write(line)\n"
                     "    print('THE END')\n    return 1\n")
    try:
        assert s.load().ok
        assert call(s, "shout", timeout=20).value == 1
        assert s.output_bytes >= 20 << 20
        assert s.output_tail(100).rstrip().endswith("THE END")
        assert len(s._output.buf) <= 2 * s._output.keep
    finally:
        s.stop()


ESCAPE = '''
import os, subprocess, time, signal
def _linger():
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    while True:
        time.sleep(0.05)
if os.fork() == 0:                     # a child in the worker's process group
    _linger()
first = os.fork()
if first == 0:                         # a daemon: new session, double fork, parent gone
    os.setsid()
    if os.fork() == 0:
        _linger()
    os._exit(0)
os.waitpid(first, 0)
subprocess.Popen(["sleep", "{seconds}"], start_new_session=True)   # an exec'd program, own session too
def count():
    return 3
'''


@pytest.mark.parametrize("variant", variants_promising("escape"))
def test_children_and_daemons_die_with_the_worker(zyg, variant):
    tag = token()
    seconds = f"{int(tag[2:], 16) % 10**6 + 10**6}"  # a unique command line for the exec'd sleep
    s = session(zyg, NAME_PROCESS.format(tag=tag) + ESCAPE.format(seconds=seconds))
    try:
        assert s.load().ok, s.output_tail()
        deadline = time.monotonic() + 3
        while len(processes_named(tag)) + len(processes_named(seconds)) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(processes_named(tag)) >= 3 and processes_named(seconds), "the escapees did not start"
    finally:
        s.stop()
    assert not wait_gone(tag) and not wait_gone(seconds)


@pytest.mark.parametrize("variant", variants_promising("escape"))
def test_children_die_after_a_timeout_too(zyg, variant):
    tag = token()
    body = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    while True:\n        time.sleep(0.05)\n"
    s = session(zyg, NAME_PROCESS.format(tag=tag) + body + "while True:\n    pass\n", HANG)
    with pytest.raises(WorkerTimeout):
        s.load()
    assert not wait_gone(tag)


@pytest.mark.parametrize("variant", variants_promising("forkbomb"))
def test_fork_bomb_is_bounded(zyg, variant):
    require(zyg, "forkbomb")
    tag = token()
    s = session(zyg, NAME_PROCESS.format(tag=tag) + '''
import os, time
def bomb():
    made = 0
    for _ in range(2000):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                while True:
                    os.fork()           # the children keep forking too
            except OSError:
                time.sleep(30)
            os._exit(0)
        made += 1
    return made
''')
    try:
        assert s.load().ok
        made = call(s, "bomb", timeout=20).value
        assert made < SMALL.max_tasks
        assert len(processes_named(tag)) <= SMALL.max_tasks + 1
    finally:
        s.stop()
    assert not wait_gone(tag)


@pytest.mark.parametrize("variant", variants_promising("tree_memory"))
def test_memory_of_the_whole_tree_is_capped(zyg, variant):
    require(zyg, "tree_memory")
    limits = dataclasses.replace(SMALL, memory_bytes=GiB + (GiB >> 2))
    s = session(zyg, '''
import os, time
def hog(children):
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            block = bytearray(500 << 20)        # touched: 500 MiB resident in each child
            time.sleep(1.0)
            os._exit(0)
        pids.append(pid)
    survived = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        survived += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return survived
''', limits)
    try:
        assert s.load().ok
        survived = call(s, "hog", 3, timeout=30).value
        assert survived <= 2, "three children of 500 MiB each fit under a 1.25 GiB cap"
    finally:
        s.stop()


@pytest.mark.parametrize("variant", variants_promising("disk"))
def test_many_files_cannot_fill_the_disk(zyg, variant):
    s = session(zyg, "def fill():\n    n = 0\n    try:\n        for i in range(1000):\n"
                     "            with open(f'f{i}', 'wb') as fh:\n                fh.write(bytes(1 << 20))\n"
                     "            n += 1\n    except OSError:\n        pass\n    return n\n")
    try:
        assert s.load().ok
        written = call(s, "fill", timeout=20).value
        assert written * (1 << 20) <= SMALL.file_bytes
    finally:
        s.stop()


# --- reading what it must not ---------------------------------------------------------------------

PROBE_READ = '''
import os
def attempt(paths):
    seen = {}
    for path in paths:
        try:
            if os.path.isdir(path):
                seen[path] = sorted(os.listdir(path))[:3]
            else:
                with open(path, "rb") as fh:
                    seen[path] = fh.read(64).decode("latin-1")
        except OSError as exc:
            seen[path] = None
    return seen
def env():
    return dict(os.environ)
'''


@pytest.fixture
def grader_secrets(tmp_path):
    out = tmp_path / "grades"
    out.mkdir()
    (out / "alice.json").write_text('{"score": 10}')
    other = tmp_path / "class" / "bob"
    other.mkdir(parents=True)
    (other / "optimizers.py").write_text("# bob's work\n")
    return out, other


@pytest.mark.parametrize("variant", variants_promising("read"))
def test_cannot_read_the_kit_other_students_or_the_output(zyg, variant, grader_secrets):
    out, other = grader_secrets
    targets = [REPO / "reference", REPO / "solutions", REPO / "autograder" / "rubric",
               REPO / "autograder" / "checks", REPO / "tests", REPO / "README.md", REPO, out,
               out / "alice.json", other / "optimizers.py", zyg.base, zyg.base / "pkg" / ".." / "root"]
    targets += [p for p in (REPO / "autograder" / "rubric").glob("*.toml")][:1]
    s = session(zyg, PROBE_READ)
    try:
        assert s.load().ok
        seen = call(s, "attempt", [str(p) for p in targets]).value
    finally:
        s.stop()
    # At the namespaces level the repository's folder exists as an empty scaffold around the
    # environment's read-only bind (.venv/lib/.../site-packages): nothing else of it may show.
    scaffold = seen.pop(str(REPO))
    assert scaffold is None or set(scaffold) <= {".venv"}, scaffold
    # Likewise the zygote's folder, when it lies under /tmp, shows only the worker package's bind.
    scaffold = seen.pop(str(zyg.base))
    assert scaffold is None or set(scaffold) <= {"pkg"}, scaffold
    leaked = {path: what for path, what in seen.items() if what}
    assert not leaked


@pytest.mark.parametrize("variant", variants_promising("read"))
def test_cannot_read_another_live_workers_files(zyg, variant):
    a = session(zyg, "import os\nwith open('answers.txt', 'w') as fh:\n    fh.write('secret')\n"
                     "def where():\n    return os.path.abspath('answers.txt')\n")
    b = session(zyg, PROBE_READ)
    try:
        assert a.load().ok and b.load().ok
        path = call(a, "where").value  # at the namespaces level b has a /tmp of its own at the same path
        seen = call(b, "attempt", [path, os.path.dirname(path)]).value
        assert seen[path] is None and "answers.txt" not in (seen[os.path.dirname(path)] or [])
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("variant", variants_promising("proc"))
def test_cannot_see_the_grader_through_proc(zyg, variant, monkeypatch):
    grader, zygote_pid = os.getpid(), zyg._proc.pid
    paths = [f"/proc/{pid}/{what}" for pid in (grader, zygote_pid)
             for what in ("environ", "cmdline", "mem", "maps")]
    paths += [f"/proc/{pid}/root/{REPO}/README.md" for pid in (grader, zygote_pid)]
    s = session(zyg, PROBE_READ + '''
def pids():
    try:
        return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    except OSError:
        return None
''')
    try:
        assert s.load().ok
        seen = call(s, "attempt", paths).value
        assert not {p: w for p, w in seen.items() if w}
        visible = call(s, "pids").value
        assert visible is None or (grader not in visible and zygote_pid not in visible)
        env = call(s, "env").value
    finally:
        s.stop()
    # The zygote starts with a fixed minimal environment; torch adds its own cache settings. (The
    # grader's own process may hold some of the fixed names too: a grading lane pins torch's threads.)
    allowed = {"PATH", "LANG", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "HOME", "TMPDIR", "LC_CTYPE"}
    grader_only = {k for k in os.environ if not k.startswith("TORCH")} - allowed
    assert not grader_only & set(env), grader_only & set(env)
    assert {k for k in env if not k.startswith("TORCH")} <= allowed
    assert env.get("OMP_NUM_THREADS", "1") == "1" and env["PATH"] == "/usr/bin:/bin"


@pytest.mark.parametrize("variant", [v for v in variants_promising("read")
                                     if level_of(v.values[0]) == "namespaces"])
def test_no_way_out_of_the_new_root(zyg, variant):
    """A user namespace gives back every capability, but only over a copy of the sandbox's own mounts."""
    s = session(zyg, f'''
import ctypes, os
def escape():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare(0x10000000 | 0x00020000)        # CLONE_NEWUSER | CLONE_NEWNS, may well succeed
    try:
        os.makedirs("/tmp/jail", exist_ok=True)
        os.chroot("/tmp/jail")
        for _ in range(30):
            os.chdir("..")
        os.chroot(".")
    except OSError:
        pass
    try:
        libc.mount(b"/dev/vda", b"/tmp", b"ext4", 1, None)
    except OSError:
        pass
    return [p for p in ({str(REPO / "reference")!r}, {str(REPO / "autograder")!r}, "/root/.bash_history",
                        "/etc/shadow") if os.path.exists(p)]
''')
    try:
        assert s.load().ok
        assert call(s, "escape").value == []
    finally:
        s.stop()


# --- forging ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", variants_promising("write"))
def test_cannot_write_outside_its_scratch(zyg, variant, grader_secrets):
    out, _other = grader_secrets
    import sys

    site = next(p for p in sys.path if p.endswith("site-packages"))
    targets = [out / "alice.json", out / "mallory.json", REPO / "forged.txt", zyg.base / "forged.txt",
               os.path.join(site, "forged.py"), os.path.join(site, "torch", "__init__.py")]
    s = session(zyg, '''
def forge(paths):
    done = []
    for path in paths:
        try:
            with open(path, "a") as fh:
                fh.write("{\\"score\\": 1e9}")
            done.append(path)
        except OSError:
            pass
    with open("mine.txt", "w") as fh:   # the scratch directory stays writable
        fh.write("ok")
    return done
''')
    try:
        assert s.load().ok
        done = call(s, "forge", [str(t) for t in targets]).value
    finally:
        s.stop()
    assert done == []
    assert (out / "alice.json").read_text() == '{"score": 10}' and not (out / "mallory.json").exists()


@pytest.mark.parametrize("variant", variants_promising("signal"))
def test_cannot_signal_or_trace_the_grader_or_zygote(zyg, variant):
    zygote_pid = zyg._proc.pid
    s = session(zyg, f'''
import ctypes, os, signal
def reach():
    libc = ctypes.CDLL(None, use_errno=True)
    hits = []
    for pid in ({os.getpid()}, {zygote_pid}):
        try:
            os.kill(pid, 0)                   # signal 0: only checks that the signal could be sent
            hits.append(("kill", pid))
        except OSError:
            pass
        if libc.ptrace(16, pid, None, None) == 0:       # PTRACE_ATTACH
            hits.append(("ptrace", pid))
            libc.ptrace(17, pid, None, None)
    return hits
def kill_parent():
    os.kill(os.getppid(), signal.SIGKILL)     # the zygote, unless the worker is PID 1 of a namespace
    os.kill({zygote_pid}, signal.SIGKILL)
    return "survived"
''')
    restarts = zyg.restarts
    try:
        assert s.load().ok
        assert call(s, "reach").value == []
        try:
            call(s, "kill_parent")
        except WorkerDied:
            pass  # killing its own process group (getppid() is 0 in a PID namespace) ends the worker only
    finally:
        s.stop()
    assert zyg.alive() and zyg._proc.pid == zygote_pid and zyg.restarts == restarts


@pytest.mark.parametrize("variant", ["rlimits"])
def test_a_killed_zygote_is_restarted(zyg, variant):
    """The rlimits level does not protect the zygote: the runner starts a new one."""
    old, restarts = zyg._proc.pid, zyg.restarts
    s = session(zyg, "import os, signal\ndef kill_parent():\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                     "    return 'still here'\n")
    assert s.load().ok
    try:
        call(s, "kill_parent")  # may answer before the zygote's death takes the worker with it
    except WorkerDied:
        pass
    s.stop()
    assert s.load().ok
    s.stop()
    assert zyg.restarts == restarts + 1 and zyg._proc.pid != old


# --- the network -----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", variants_promising("network"))
def test_no_network_not_even_localhost(zyg, variant):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    s = session(zyg, '''
import socket
def connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
def datagram(port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"forged", ("127.0.0.1", port))
        return True
    except OSError:
        return False
''')
    try:
        assert s.load().ok
        assert call(s, "connect", tcp.getsockname()[1]).value is False
        if level_of(variant) == "namespaces":  # Landlock covers TCP only
            call(s, "datagram", udp.getsockname()[1])
    finally:
        s.stop()
    with pytest.raises(BlockingIOError):
        tcp.accept()
    if level_of(variant) == "namespaces":
        with pytest.raises(BlockingIOError):
            udp.recv(100)
    tcp.close()
    udp.close()
