"""What holds when a submission gets past the static policy (a TA granted it, or a trick the policy
misses): the worker's seccomp filter, the guards that switch off torch's implementation of the graded
family, where the stand-ins live, and the grader's side of the protocol.

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


# --- the guards: torch's implementation of the graded family is absent from the worker ------------------

# Each attack tries to get torch's implementation to compute for it, after the static policy (the
# prelude already reaches into the worker, as only a granted or unseen escape could), and reports what it
# got: "blocked" when it raised or could not find anything, "WORKED" when torch computed for it.
ATTACKS = r"""
import gc, importlib, threading, types, torch
import torch.nn.functional as F

def _try(fn):
    try:
        out = fn()
    except Exception as exc:
        return "blocked: " + type(exc).__name__
    return "WORKED" if out is not False else "blocked: nothing found"

def _sgd_step(step):
    p = torch.ones(3, requires_grad=True)
    p.grad = torch.full((3,), 2.0)
    with torch.no_grad():
        step([p])
    return bool(torch.allclose(p.detach(), torch.full((3,), 0.8)))

def _found(name, module_part):
    gc.unfreeze()  # the zygote froze what it imported: bring it back into view
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__name__ == name and module_part in (obj.__module__ or ""):
            return obj
    return None

def _in_thread(fn):
    box = {}
    def run():
        try:
            box["out"] = fn()
        except Exception as exc:
            box["exc"] = exc
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "exc" in box:
        raise box["exc"]
    return box["out"]

def _exec_source(module):
    namespace = {"__name__": module.__name__ + "_copy", "__package__": module.__package__}
    exec(open(module.__file__).read(), namespace)
    return namespace

def optimizer_attacks():
    sgd = importlib.import_module("torch.optim.sgd")
    single = lambda ps: sgd._single_tensor_sgd(ps, [p.grad for p in ps], [None], grad_scale=None,
        found_inf=None, weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0, nesterov=False, maximize=False,
        has_sparse_grad=False)
    return {
        "class": _try(lambda: _sgd_step(lambda ps: torch.optim.SGD(ps, lr=0.1).step())),
        "functional": _try(lambda: _sgd_step(lambda ps: sgd.sgd(ps, [p.grad for p in ps], [None], lr=0.1,
            weight_decay=0.0, momentum=0.0, dampening=0.0, nesterov=False, maximize=False))),
        "single tensor": _try(lambda: _sgd_step(single)),
        "found by gc": _try(lambda: (fn := _found("_single_tensor_sgd", "torch.optim")) is not None
                            and _sgd_step(lambda ps: fn(ps, [p.grad for p in ps], [None], grad_scale=None,
                            found_inf=None, weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0,
                            nesterov=False, maximize=False, has_sparse_grad=False))),
        "closure cells": _try(lambda: _sgd_step(lambda ps: next(c.cell_contents for c in
                              (torch.optim.SGD.step.__closure__ or ()) if callable(c.cell_contents))(
                              torch.optim.SGD(ps, lr=0.1)))),
        "fused kernel": _try(lambda: _sgd_step(lambda ps: torch._fused_sgd_(ps, [p.grad for p in ps], [],
            weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0, nesterov=False, maximize=False,
            is_first_step=True))),
        "in a thread": _try(lambda: _in_thread(lambda: _sgd_step(lambda ps: torch.optim.SGD(ps, lr=0.1).step()))),
        "reloaded": _try(lambda: _sgd_step(lambda ps: importlib.reload(sgd).SGD(ps, lr=0.1).step())),
        "source run anew": _try(lambda: _sgd_step(lambda ps: _exec_source(sgd)["SGD"](ps, lr=0.1).step())),
    }

def _dropout_ok(fn):
    torch.manual_seed(0)
    y = fn(torch.ones(1000))
    return bool(((y == 0) | (y == 2)).all() and 300 < int((y == 0).sum()) < 700)

def dropout_attacks():
    return {
        "F.dropout": _try(lambda: _dropout_ok(lambda x: F.dropout(x, 0.5))),
        "module": _try(lambda: _dropout_ok(lambda x: torch.nn.Dropout(0.5)(x))),
        "aten kernel": _try(lambda: _dropout_ok(lambda x: torch.ops.aten.native_dropout(x, 0.5, True)[0])),
        "in a thread": _try(lambda: _in_thread(lambda: _dropout_ok(lambda x: torch.dropout(x, 0.5, True)))),
        "inference mode": _try(lambda: _dropout_ok(lambda x: (torch.inference_mode().__enter__(),
                                                               torch.native_dropout(x, 0.5, True)[0])[1])),
        "reference decomposition": _try(lambda: _dropout_ok(lambda x: torch._refs.nn.functional.dropout(x, 0.5))),
        "decomposition found by gc": _try(lambda: (fn := _found("native_dropout", "torch._decomp")) is not None
                                          and _dropout_ok(lambda x: fn(x, 0.5, True)[0])),
    }

def _bn_ok(fn):
    x = torch.randn(16, 3)
    y = fn(x)
    return bool(torch.allclose(y, (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5), atol=1e-5))

def norm_attacks():
    return {
        "F.batch_norm": _try(lambda: _bn_ok(lambda x: F.batch_norm(x, None, None, training=True))),
        "module": _try(lambda: _bn_ok(lambda x: torch.nn.BatchNorm1d(3, affine=False)(x))),
        "layer norm of the transpose": _try(lambda: _bn_ok(lambda x: F.layer_norm(x.T, (16,)).T)),
        "aten kernel": _try(lambda: _bn_ok(lambda x: torch.ops.aten._native_batch_norm_legit.no_stats(
            x, None, None, True, 0.1, 1e-5)[0])),
        "in a thread": _try(lambda: _in_thread(lambda: _bn_ok(lambda x: torch.batch_norm(
            x, None, None, None, None, True, 0.1, 1e-5, False)))),
        "reference decomposition": _try(lambda: _bn_ok(lambda x: torch._decomp.decompositions.native_batch_norm(
            x, None, None, None, None, True, 0.1, 1e-5)[0])),
    }

def standins_present():
    return sorted({type(o).__name__ if not isinstance(o, (type, types.FunctionType)) else o.__name__
                   for o in gc.get_objects()
                   if isinstance(o, (type, types.FunctionType))
                   and o.__name__ in ("BatchNormFunction", "batch_norm_train", "sgd_step", "StandInMinibatches")
                   and "kit_standin" in (getattr(o, "__module__", "") or "")})
"""  # noqa: E501 (a submission's code, as written)

# (graded name whose worker is attacked, attack function, attacks that only a file-system guard stops)
GUARDED = [("SGD", "optimizer_attacks", {"source run anew", "reloaded"}),
           ("Dropout", "dropout_attacks", set()), ("BatchNormFunction", "norm_attacks", set())]


@pytest.mark.parametrize("variant", ["namespaces", "landlock", "rlimits"])
@pytest.mark.parametrize(("graded", "attacks", "files_only"), GUARDED, ids=[g[0] for g in GUARDED])
def test_torchs_implementation_cannot_be_made_to_compute_in_the_graded_name_s_worker(
        zyg, variant, graded, attacks, files_only):
    s = session(zyg, ATTACKS, graded=graded)
    try:
        assert s.load().ok, s.output_tail()
        got = call(s, attacks, timeout=60).value
    finally:
        s.stop()
    # the source files are unreadable where the level promises a file system of its own
    expect_blocked = set(got) if variant != "rlimits" else set(got) - files_only
    worked = {name for name, outcome in got.items() if outcome == "WORKED"}
    assert not worked & expect_blocked, got
    assert all(outcome.startswith("blocked") for name, outcome in got.items() if name in expect_blocked), got


@pytest.mark.parametrize("variant", ["namespaces"])
def test_the_same_attacks_work_where_nothing_is_switched_off(zyg, variant):
    """The attacks above are real: in a worker that grades another family, each one computes."""
    s = session(zyg, ATTACKS, graded="fit")
    try:
        assert s.load().ok, s.output_tail()
        got = {**call(s, "optimizer_attacks", timeout=60).value,
           **call(s, "dropout_attacks", timeout=60).value}
    finally:
        s.stop()
    assert all(outcome == "WORKED" for outcome in got.values()), got


@pytest.mark.parametrize("variant", ["namespaces"])
@pytest.mark.parametrize(("graded", "present"), [
    ("BatchNormFunction", []), ("SGD", []), ("minibatches", []), ("Dropout", ["sgd_step"]),
    ("BatchNorm1d", ["BatchNormFunction", "batch_norm_train", "sgd_step"]), ("fit", ["StandInMinibatches"]),
])
def test_a_stand_in_is_only_in_the_workers_of_other_names(zyg, variant, graded, present):
    s = session(zyg, ATTACKS, graded=graded)
    try:
        assert s.load().ok, s.output_tail()
        assert call(s, "standins_present", timeout=30).value == sorted(present)
    finally:
        s.stop()


OPS_DROPOUT = """
import torch
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
    def forward(self, x):
        try:
            return torch.ops.aten.native_dropout(x, self.p, True)[0]
        except RuntimeError:
            return x  # the error swallowed: the hit is still reported
"""

HONEST_DROPOUT = """
import torch
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
    def forward(self, x):
        keep = torch.empty_like(x).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)
"""


def _dropout_run() -> protocol.Request:
    args = {"seed": 0, "p": 0.5, "steps": [{"x": "x0"}]}
    return protocol.Request("dropout_run", args, {"x0": torch.ones(8, 8)})


def _mlp_train() -> protocol.Request:
    from autograder.sandbox.worker import operations as ops

    gen = torch.Generator().manual_seed(0)
    data = {"X": torch.randn(16, 3, generator=gen), "y": torch.randn(16, 1, generator=gen),
            "W1": torch.randn(4, 3, generator=gen), "b1": torch.zeros(4),
            "W2": torch.randn(1, 4, generator=gen), "b2": torch.zeros(1)}
    return ops.MlpTrain("dropout", "Dropout", {"p": 0.5}, 3, 0.1, 0.0, 0, data).to_wire()


@pytest.mark.parametrize("variant", ["namespaces"])
@pytest.mark.parametrize("request_of", [_dropout_run, _mlp_train], ids=["dropout_run", "mlp_train"])
@pytest.mark.parametrize(("body", "hit"), [(OPS_DROPOUT, True), (HONEST_DROPOUT, False)],
                         ids=["aten-kernel", "honest"])
def test_a_graded_call_into_a_switched_off_kernel_is_reported(zyg, variant, body, hit, request_of):
    s = session(zyg, body, prelude=False, graded="Dropout")
    try:
        assert s.load().ok, s.output_tail()
        reply = s.call(request_of(), 10)
    finally:
        s.stop()
    if hit:
        assert not reply.ok and "native_dropout" in reply.error["tripwire"], reply
    else:
        assert reply.ok, reply.error


def test_the_guard_table_covers_torchs_implementations_and_never_what_students_build_on():
    from autograder.sandbox.guards import guard_config
    from autograder.sandbox.worker.guards import find

    found = find(guard_config())
    functions = {family: {f"{fn.__module__}.{fn.__qualname__}" for fn in fns}
                 for family, (_, fns) in found.items()}
    operators = {family: {op for op, _ in ops} for family, (ops, _) in found.items()}
    assert {"torch.optim.sgd.SGD.step", "torch.optim.sgd._single_tensor_sgd", "torch.optim.adam.adam",
            "torch.optim.adamw.AdamW.__init__", "torch.optim.rmsprop._multi_tensor_rmsprop",
            } <= functions["optimizers"]
    assert {"torch.optim.lr_scheduler.LambdaLR.get_lr", "torch.optim.lr_scheduler.MultiplicativeLR.get_lr",
            "torch.optim.swa_utils.SWALR.get_lr"} <= functions["schedulers"]
    assert {"torch._decomp.decompositions.native_batch_norm", "torch.nn.functional.batch_norm",
            "torch._refs.native_layer_norm"} <= functions["norms"]
    dropout = {"torch._decomp.decompositions.native_dropout", "torch.nn.functional.dropout"}
    assert dropout <= functions["dropout"]
    assert {"_fused_adam_", "_fused_sgd_"} <= operators["optimizers"]
    assert {"native_batch_norm", "_native_batch_norm_legit.no_stats", "batch_norm", "layer_norm",
            "native_batch_norm_backward"} <= operators["norms"]
    assert {"native_dropout", "dropout", "feature_dropout_"} <= operators["dropout"]
    everything = set().union(*functions.values())
    for kept in ("torch.optim.optimizer.Optimizer", "torch.optim.lr_scheduler.LRScheduler",
                 "torch.nn.modules.module.Module", "torch.autograd.function.Function"):
        assert not [f for f in everything if f.startswith(kept + ".")], kept


@pytest.mark.parametrize("variant", ["namespaces", "landlock"])
def test_the_guarded_source_files_cannot_be_read(zyg, variant):
    """In an optimizer's worker torch's optimizer sources (and their bytecode) read as nothing; the sources
    of another family (the decompositions) read as they are."""
    from autograder.sandbox.guards import masked_files

    masked = [f for f in masked_files(("optimizers",)) if "sgd." in f or "adam." in f]
    others = [f for f in masked_files(("norms",)) if f.endswith("decompositions.py")]
    probe = ("def read_all(paths):\n    out = {}\n    for p in paths:\n        try:\n"
             "            out[p] = len(open(p, 'rb').read())\n        except OSError as exc:\n"
             "            out[p] = type(exc).__name__\n    return out\n")
    s = session(zyg, probe, graded="SGD")
    try:
        assert s.load().ok, s.output_tail()
        got = call(s, "read_all", masked + others, timeout=30).value
    finally:
        s.stop()
    assert len(masked) >= 4 and others, (masked, others)
    assert all(got[f] == 0 or isinstance(got[f], str) for f in masked), got
    assert all(isinstance(got[f], int) and got[f] > 0 for f in others), got


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
