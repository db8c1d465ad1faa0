"""What holds when a submission gets past the static policy (a TA granted it, or a trick the policy
misses): the worker's seccomp filter, the runtime tripwires, and the grader's side of the protocol.

Each submission here reaches into the worker package on purpose (through the test prelude), as a
student could only after a grant; the tests check from the outside what must hold.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from autograder.sandbox.worker import protocol

from ._support import NAME_PROCESS, REPO, call, require, session, token, variants_promising, wait_gone

pytestmark = pytest.mark.hostile


@pytest.mark.parametrize("variant", variants_promising("syscalls"))
def test_seccomp_refuses_namespaces_and_keeps_threads(zyg, variant):
    require(zyg, "syscalls")
    s = session(zyg, '''
import ctypes, os, threading, torch
def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    out = {}
    for name, flags in (("user", 0x10000000), ("mount", 0x00020000), ("net", 0x40000000)):
        ok = libc.unshare(flags) == 0
        out[f"unshare_{name}"] = "ok" if ok else os.strerror(ctypes.get_errno())
    out["setns"] = "ok" if libc.setns(0, 0) == 0 else os.strerror(ctypes.get_errno())
    out["clone3"] = "ok" if libc.syscall(435, None, 0) == 0 else os.strerror(ctypes.get_errno())
    out["ptrace"] = "ok" if libc.ptrace(0, 0, None, None) == 0 else os.strerror(ctypes.get_errno())
    out["mount"] = "ok" if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0 else \\
        os.strerror(ctypes.get_errno())
    torch.set_num_threads(4)
    a = torch.randn(256, 256)
    out["torch_threads"] = bool(torch.isfinite(a @ a).all())
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(5)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return out
''')
    try:
        assert s.load().ok, s.output_tail()
        got = call(s, "probe", timeout=30).value
    finally:
        s.stop()
    refused = os_error = "Operation not permitted"
    assert got["unshare_user"] == got["unshare_mount"] == got["unshare_net"] == refused, got
    assert got["setns"] == got["ptrace"] == got["mount"] == os_error, got
    assert got["clone3"] == "Function not implemented", got  # so libc falls back to clone
    assert got["torch_threads"] is True and got["fork"] == 5, got


RSS_PROBE = """
import json, resource, sys
sys.path.insert(0, {repo!r})
from autograder.sandbox.runner import WorkerDied, Zygote
from autograder.sandbox.session import WorkerSession
from autograder.sandbox.worker import protocol
from tests.sandbox._support import PRELUDE, SMALL
zygote = Zygote()
results = {{}}
for name, body in json.loads({bodies!r}).items():
    s = WorkerSession(zygote, PRELUDE + body, "submission.py", "submission", SMALL)
    assert s.load().ok, s.output_tail()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        s.call(protocol.Request("call", {{"fn": "noop"}}), 60)
        outcome = "answered"
    except WorkerDied as exc:
        outcome = exc.reason
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s.stop()
    results[name] = {{"outcome": outcome, "grew_kib": after - before}}
zygote.close()
print(json.dumps(results))
"""

BOMBS = {
    # announces 512 MiB of tensors and streams them
    "huge_blob": "return struct.pack('>II', 64, 512 << 20) + b' ' * 64 + bytes(1 << 20) * 512",
    # a valid header, then JSON nested a million levels deep
    "deep_json": "raw = b'{\"version\": 2, \"ok\": true, \"value\": ' + b'[' * 1_000_000 + b']' * 1_000_000 "
                 "+ b'}'\n    return struct.pack('>II', len(raw), 0) + raw",
    # a frame whose JSON is not UTF-8
    "bad_utf8": "raw = b'\\xff\\xfe' * 100\n    return struct.pack('>II', len(raw), 0) + raw",
    # valid JSON with fields of the wrong types
    "wrong_types": "raw = b'{\"version\": 2, \"ok\": \"yes\", \"error\": 3}'\n"
                   "    return struct.pack('>II', len(raw), 0) + raw",
    # garbage where the safetensors blob should be
    "bad_tensors": "raw = b'{\"version\": 2, \"ok\": true}'\n"
                   "    return struct.pack('>II', len(raw), 16) + raw + b'\\x00' * 16",
}


@pytest.mark.slow
def test_a_hostile_reply_is_refused_without_buffering_it():
    """Each malformed reply is a protocol error: the line errors, the worker tree is killed, and the
    grader's peak memory does not grow with what the worker announced or sent (measured in a grader
    process of its own, one session per kind of reply)."""
    tag = token()
    bodies = {
        bomb: NAME_PROCESS.format(tag=tag) + (
            "import struct\n"
            "def noop():\n    return 1\n"
            "_original, _replies = _serve.protocol.encode_response, []\n"
            "def _encode(resp):\n"
            "    _replies.append(1)\n"
            "    if len(_replies) == 1:  # the reply to the load itself goes out intact\n"
            "        return _original(resp)\n"
            f"    {code}\n"
            "_serve.protocol.encode_response = _encode\n"
        )
        for bomb, code in BOMBS.items()
    }
    proc = subprocess.run([sys.executable, "-c", RSS_PROBE.format(repo=str(REPO), bodies=json.dumps(bodies))],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(results) == set(BOMBS)
    for bomb, result in results.items():
        assert result["outcome"].startswith("the worker sent a malformed reply"), (bomb, result)
        assert result["grew_kib"] < 100 * 1024, (bomb, result)  # far below the 512 MiB announced
    assert not wait_gone(tag)


def test_the_hostile_frames_carry_the_current_protocol_version():
    """Else each would be refused for its version alone, and its own decoding path never tried."""
    framed = [code for code in BOMBS.values() if "version" in code]
    assert len(framed) == 3 and all(f'"version": {protocol.VERSION},' in code for code in framed)


def test_protocol_caps_are_checked_before_reading():
    read = []
    header = protocol._HEADER.pack(64, protocol.REPLY_LIMITS[1] + 1)
    with pytest.raises(protocol.ProtocolError, match="too large"):
        protocol.decode_response(header, lambda n: read.append(n) or b"")
    assert read == []


# --- the runtime tripwires ------------------------------------------------------------------------

SWAP = '''
import contextlib, torch
_tw = _sys.modules["kitworker.handlers.tripwires"]
_tw._armed = [False]
_tw._hits = []
_tw.armed = contextlib.nullcontext
_tw.disarmed = contextlib.nullcontext
_init = torch.optim.SGD.__init__
UNWRAPPED = hasattr(_init, "__wrapped__") or hasattr(_init, "__closure__") and any(
    "armed" in repr(c) for c in (_init.__closure__ or ()))
class SGD(torch.optim.SGD):
    pass
'''


@pytest.mark.parametrize("variant", ["namespaces", "rlimits"])
def test_tripwires_survive_a_submission_that_tries_to_disarm_them(zyg, variant):
    s = session(zyg, SWAP + "def unwrapped():\n    return UNWRAPPED\n")
    try:
        assert s.load().ok, s.output_tail()
        assert call(s, "unwrapped").value is False  # no __wrapped__ to reach the original
        args = {"name": "SGD", "kwargs": {"lr": 0.1}, "with_params": True}
        reply = s.call(protocol.Request("construct", args, {"p0": torch.zeros(2)}), 10)
    finally:
        s.stop()
    assert not reply.ok and "torch.optim.SGD" in reply.error.get("tripwire", ""), reply


OPS_DROPOUT = '''
import torch
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
    def forward(self, x):
        return torch.ops.aten.native_dropout(x, self.p, True)[0]
'''

HONEST_DROPOUT = '''
import torch
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
    def forward(self, x):
        keep = torch.empty_like(x).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)
'''


def _dropout_run() -> protocol.Request:
    args = {"seed": 0, "p": 0.5, "steps": [{"x": "x0"}]}
    return protocol.Request("dropout_run", args, {"x0": torch.ones(8, 8)})


def _mlp_train() -> protocol.Request:
    """The convergence run: the watch is around the student's layer only, the trusted loop unwatched."""
    from autograder.sandbox.worker import operations as ops

    gen = torch.Generator().manual_seed(0)
    data = {"X": torch.randn(16, 3, generator=gen), "y": torch.randn(16, 1, generator=gen),
            "W1": torch.randn(4, 3, generator=gen), "b1": torch.zeros(4),
            "W2": torch.randn(1, 4, generator=gen), "b2": torch.zeros(1)}
    return ops.MlpTrain("dropout", "Dropout", {"p": 0.5}, 3, 0.1, 0.0, 0, data).to_wire()


@pytest.mark.parametrize("variant", ["namespaces"])
@pytest.mark.parametrize("request_of", [_dropout_run, _mlp_train], ids=["dropout_run", "mlp_train"])
@pytest.mark.parametrize(("body", "tripped"), [(OPS_DROPOUT, True), (HONEST_DROPOUT, False)],
                         ids=["aten-kernel", "honest"])
def test_dispatch_tripwire_sees_torchs_kernels_however_reached(zyg, variant, body, tripped, request_of):
    s = session(zyg, body, prelude=False)
    try:
        assert s.load().ok, s.output_tail()
        reply = s.call(request_of(), 10)
    finally:
        s.stop()
    if tripped:
        assert not reply.ok and "native_dropout" in reply.error["tripwire"], reply
    else:
        assert reply.ok, reply.error


def test_tripwire_names_cover_torchs_implementations_and_never_what_students_build_on():
    from autograder.sandbox.tripwire_names import tripwire_config

    config = tripwire_config()
    names = set(config["entry_points"])
    assert {"torch.optim:SGD", "torch.optim.sgd:sgd", "torch.optim.adam:_single_tensor_adam",
            "torch:dropout_", "torch:native_batch_norm", "torch.nn.functional:batch_norm",
            "torch.nn:BatchNorm1d", "torch.optim.lr_scheduler:LambdaLR"} <= names
    allowed = {"Optimizer", "LRScheduler", "_LRScheduler", "Module", "Function", "wraps", "cast"}
    assert not [n for n in names if n.rpartition(":")[2] in allowed]
    assert {"_fused_*", "*batch_norm*", "*dropout*"} <= set(config["ops"])


def test_the_dispatch_watch_is_skipped_only_where_the_policy_decides():
    """02's optimizers can delegate only to torch._fused_* kernels, which no code reaches without naming
    them (torch.ops and computed names are policy violations): a source that names none needs no watch.
    A name, a TA grant, a layer family or a family the table does not know keeps it on."""
    from autograder.grading.rubric import load_rubric
    from autograder.sandbox.tripwire_names import op_watch_needed

    kinds = {line.kind for line in load_rubric("02_optimizers").lines}
    honest = "import torch\nclass SGD(torch.optim.Optimizer):\n    pass\n"
    assert not op_watch_needed(kinds, honest, granted=False)
    assert op_watch_needed(kinds, honest + "torch._fused_sgd_\n", granted=False)
    assert op_watch_needed(kinds, honest, granted=True)
    assert op_watch_needed(kinds | {"brand_new_check"}, honest, granted=False)
    layers = {line.kind for line in load_rubric("03_regularization").lines}
    assert op_watch_needed(layers, HONEST_DROPOUT, granted=False)


@pytest.mark.parametrize("variant", ["namespaces"])
def test_a_worker_loaded_without_the_watch_runs_kernels_unwatched_and_the_grader_decides_that(zyg, variant):
    """The switch is real (so the rule above is what keeps the kernels out), and the engine leaves it on
    for a submission that names a fused kernel (tests/submissions/hostile/fused_kernel.py stays forbidden
    in tests/engine/test_engine_trust.py)."""
    s = session(zyg, OPS_DROPOUT, prelude=False)
    s.watch_ops = False
    try:
        assert s.load().ok, s.output_tail()
        reply = s.call(_dropout_run(), 10)
    finally:
        s.stop()
    assert reply.ok, reply.error


def _reply_frame(body: dict, flat: dict[str, torch.Tensor] | None) -> tuple[bytes, bytes]:
    from safetensors.torch import save

    raw = json.dumps({"version": protocol.VERSION, "ok": True, **body}).encode()
    blob = save(flat) if flat else b""
    return protocol._HEADER.pack(len(raw), len(blob)), raw + blob


def _decode(header: bytes, rest: bytes) -> protocol.Response:
    data = memoryview(rest)

    def read(n: int) -> bytes:
        nonlocal data
        chunk, data = bytes(data[:n]), data[n:]
        return chunk

    return protocol.decode_response(header, read)


def test_tensors_travel_packed_and_come_back_whole():
    tensors = {"a": torch.arange(6, dtype=torch.float64).view(2, 3).t(), "b": torch.tensor(2.5),
               "c": torch.zeros(0, 4), "d": torch.tensor([True, False]), "e": torch.tensor([7, 8])}
    data = protocol.encode_response(protocol.Response(ok=True, value=1, tensors=tensors))
    got = _decode(data[: protocol.HEADER_SIZE], data[protocol.HEADER_SIZE:]).tensors
    assert set(got) == set(tensors)
    for name, t in tensors.items():
        assert got[name].dtype == t.dtype and torch.equal(got[name], t)


def test_the_worker_s_tensors_each_own_their_storage():
    """A request's tensors reach student code: none of them may lead to the others' values."""
    import os

    tensors = {"x0": torch.ones(3), "x1": torch.full((2,), 7.0), "n": torch.tensor([1, 2])}
    r, w = os.pipe()
    try:
        protocol.write_all(w, protocol.encode_request(protocol.Request("op", {}, tensors)))
        got = protocol.read_request(r).tensors
    finally:
        os.close(r)
        os.close(w)
    assert all(torch.equal(got[k], tensors[k]) for k in tensors)
    assert [got[k].untyped_storage().nbytes() for k in ("x0", "x1")] == [3 * 4, 2 * 4]
    got["x0"].add_(1)
    assert torch.equal(got["x1"], tensors["x1"])


@pytest.mark.parametrize(("layout", "flat", "why"), [
    ({"x": ["float64", 2, [2]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "outside"),
    ({"x": ["float64", -1, [1]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "outside"),
    ({"x": ["float32", 0, [1]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "outside"),
    ({"x": ["float64", 0, [-1]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "wrong type"),
    ({"x": ["float64", True, [1]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "wrong type"),
    ({"x": ["float64", 0]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "wrong type"),
    (["x"], {"float64": torch.zeros(3, dtype=torch.float64)}, "wrong type"),
    ({"x": ["float64", 0, [1]]}, {"float64": torch.zeros(3, 1, dtype=torch.float64)}, "wrong type"),
    ({"x": ["float64", 0, [1]]}, None, "without tensors"),
    ({"x": ["float64", 0, [0, 10**30]]}, {"float64": torch.zeros(3, dtype=torch.float64)}, "cannot make"),
])
def test_a_tensor_layout_that_does_not_fit_is_a_protocol_error(layout, flat, why):
    header, rest = _reply_frame({"tensors": layout}, flat)
    with pytest.raises(protocol.ProtocolError, match=why):
        _decode(header, rest)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)
# entries shaped like the real ones ([dtype, offset, shape]), with values in and out of range
_entry = st.tuples(st.sampled_from(["float64", "int64", "float32", ""]), st.integers(-3, 2**70),
                   st.lists(st.integers(-2, 2**70) | st.integers(0, 4), max_size=3)).map(list)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=3), _entry | _json, max_size=4) | _json)
@example({"x": ["float64", 0, [0, 2**70]]})  # no values, yet a dimension past int64
def test_any_tensor_layout_decodes_or_is_a_protocol_error(layout):
    """A worker's reply may carry any layout: decoding it ends in tensors or a ProtocolError, never in
    another exception (which would be a grader fault instead of the student's malformed reply)."""
    flat = {"float64": torch.zeros(4, dtype=torch.float64), "int64": torch.zeros(2, dtype=torch.int64)}
    header, rest = _reply_frame({"tensors": layout}, flat)
    try:
        _decode(header, rest)
    except protocol.ProtocolError:
        pass
