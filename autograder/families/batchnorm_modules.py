"""Checks of the BatchNorm modules (03_regularization), written once for every row of ``MODULES``
(the ranks accepted, torch's class, the reference class, the shapes to try).

Isolation: while a BatchNorm module is graded, the worker runs it with a trusted stand-in for the
student's ``BatchNormFunction``. The table is ``batchnorm_table``; convergence is ``batchnorm_convergence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from ..sandbox.worker import operations as ops
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, register
from .batchnorm import BN_TOL, DTYPES, LITERAL_MAX, MODULE, bn_diff, bn_tensors, grid
from .batchnorm_table import MODULES, BatchNormSpec
from .compare import explain_difference, kwargs_literal, tensor_literal
from .hypo import Mismatch, search
from .reproduce import block, show, student_import

# Hypothesis examples per check (modest: each example is a round trip to the worker).
MAX_EXAMPLES = {"bn_module_train_forward": 15, "bn_module_running_stats": 10, "bn_module_eval": 12}
STANDIN_NOTE = (
    "(in this check your module runs with a correct BatchNormFunction in place of yours, so the "
    "difference comes from the module itself)"
)


def _module_kwargs(ex: dict) -> dict:
    kw = {}
    if ex.get("eps", 1e-5) != 1e-5:
        kw["eps"] = ex["eps"]
    if ex.get("momentum", 0.1) != 0.1:
        kw["momentum"] = ex["momentum"]
    if not ex.get("affine", True):
        kw["affine"] = False
    if not ex.get("track", True):
        kw["track_running_stats"] = False
    return kw


@dataclass
class ModuleRun:
    """A scripted run of a BatchNorm module: constructor arguments, values set, and steps."""

    spec: BatchNormSpec
    num_features: int
    kwargs: dict
    dtype: str
    set_values: dict[str, torch.Tensor]
    steps: list[dict]  # {"train": bool, "x": tensor, "g": tensor | None, "rg": x requires grad anyway}
    probe: bool = False  # ask the worker whether deepcopy and backward through eval work afterwards

    def request(self, catch: bool = False) -> ops.BnModuleRun:
        tensors, steps = {}, []
        for i, s in enumerate(self.steps):
            tensors[f"x{i}"] = s["x"]
            step = {"train": s["train"], "x": f"x{i}", **({"rg": True} if s.get("rg") else {})}
            if s.get("g") is not None:
                tensors[f"g{i}"] = s["g"]
                step["g"] = f"g{i}"
            steps.append(step)
        for k, v in self.set_values.items():
            tensors[f"set.{k}"] = v
        return ops.BnModuleRun(self.spec.name, self.num_features, self.kwargs, self.dtype,
                               {k: f"set.{k}" for k in self.set_values}, steps, catch, self.probe, tensors)

    def reference(self, catch: bool = False) -> list[dict]:
        """What the reference module does on the same script (same record layout as the worker's)."""
        m = self.spec.reference(self.num_features, **self.kwargs).to(DTYPES[self.dtype])
        with torch.no_grad():
            for k, v in self.set_values.items():
                getattr(m, k).copy_(v)
        out = []
        for s in self.steps:
            rec: dict = {"raised": None}
            out.append(rec)
            m.train(s["train"])
            m.zero_grad(set_to_none=True)
            x = s["x"].clone().requires_grad_(s.get("g") is not None)
            try:
                y = m(x)
            except Exception as exc:
                if not catch:
                    raise
                rec["raised"] = type(exc).__name__
                continue
            rec["y"] = y.detach()
            if s.get("g") is not None:
                y.backward(s["g"])
                rec["gx"] = x.grad
                if m.weight is not None:
                    rec["gw"], rec["gb"] = m.weight.grad, m.bias.grad
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                value = getattr(m, name)
                if value is not None:
                    rec[name] = value.detach().clone()
        return out

    def snippet(self, upto: int | None = None) -> str:
        """The run as a reproducer: the same steps on the student's module and on torch.nn's, printing
        what the last step gives (output, gradients, running statistics) or what it raised."""
        steps = self.steps if upto is None else self.steps[: upto + 1]
        rtol, atol = BN_TOL[DTYPES[self.dtype]]
        conv = ".double()" if self.dtype == "float64" else ""
        args = ", ".join([str(self.num_features)] + ([kwargs_literal(self.kwargs)] if self.kwargs else []))
        lines = ["import torch", student_import(MODULE, self.spec.name), "", "",
                 "def run(bn):", '    """The steps of the case on the module bn; what the last one gives."""']
        if self.set_values:
            lines.append("    with torch.no_grad():")
            lines += [f"        bn.{k}.copy_({tensor_literal(v)})" for k, v in self.set_values.items()]
        for s in steps:
            grad = s.get("g") is not None
            rg = grad or bool(s.get("rg"))  # a training input inside a network requires grad
            lines += ["    bn.train()" if s["train"] else "    bn.eval()",
                      f"    x = {tensor_literal(s['x'], requires_grad=rg, max_elements=LITERAL_MAX)}",
                      "    y = bn(x)"]
            if grad:
                lines.append(f"    y.backward({tensor_literal(s['g'], max_elements=LITERAL_MAX)})")
        lines += [
            "    out = {'y': y.tolist(), 'x.grad': None if x.grad is None else x.grad.tolist()}",
            "    for name in ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'):",
            "        value = getattr(bn, name, None)",
            "        value = value.grad if name in ('weight', 'bias') and value is not None else value",
            "        out[name + ('.grad' if name in ('weight', 'bias') else '')] = (",
            "            None if value is None else value.tolist())",
            "    # the running statistics must carry no autograd history (deepcopy and backward need that)",
            "    history = sorted(n for n, b in bn.named_buffers() if b.requires_grad)",
            "    out['buffers with autograd history'] = history",
            "    return out",
            "",
            "",
            "def outcome(bn):",
            "    try:",
            "        return run(bn)",
            "    except Exception as exc:  # torch.nn's modules raise ValueError on some inputs too",
            "        return {'raised': f'{type(exc).__name__}: {exc}'}",
            "",
            "",
            f"got = outcome({self.spec.name}({args}){conv})",
            f"expected = outcome(torch.nn.{self.spec.name}({args}){conv})",
            "",
            "",
            "def close(a, b):  # equal within the grader's tolerance for this dtype",
            "    try:",
            "        a, b = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)",
            f"        return a.shape == b.shape and torch.allclose(a, b, rtol={rtol!r}, atol={atol!r})",
            "    except (TypeError, ValueError, RuntimeError):  # None, a message, a list of names",
            "        return a == b",
            "",
            "",
            "keys = sorted(set(got) | set(expected))",
            "print('the same in both:', ', '.join(k for k in keys if close(got.get(k), expected.get(k))))",
            "for key in [k for k in keys if not close(got.get(k), expected.get(k))]:",
            "    print(key, '<- differs')",
            show("got.get(key)", "expected.get(key)", "    "),
        ]
        return block(*lines)


def run_module(ctx: CheckContext, run: ModuleRun, catch: bool = False) -> tuple[list[dict], dict]:
    resp = ctx.call(run.request(catch))
    return resp.steps, resp.tensors


def _state_problem(spec: BatchNormSpec, i: int, kwargs: dict, got: dict, tensors: dict) -> str | None:
    """Module config ``i`` (constructed with ``kwargs``) against torch's module: state_dict keys,
    parameters, initial values and the attributes that must be None."""
    call = f"{spec.name}(3{', ' if kwargs else ''}{kwargs_literal(kwargs)})"
    if not got["is_module"]:
        return f"{call} is not a torch.nn.Module"
    torch_m = spec.torch_module(3, **kwargs)
    want_state = torch_m.state_dict()
    want_keys, got_keys = sorted(want_state), sorted(got["keys"])
    if want_keys != got_keys:
        return (
            f"bn = {call}\nprint(sorted(bn.state_dict()))\n# {got_keys}; expected {want_keys} as "
            f"torch.nn.{spec.name} (parameters weight/bias only with affine, buffers running_mean/"
            "running_var/num_batches_tracked only with track_running_stats; register_buffer / "
            "register_parameter with None otherwise)"
        )
    want_params = sorted(n for n, _ in torch_m.named_parameters())
    if sorted(got["params"]) != want_params:
        return (
            f"bn = {call}\nprint(sorted(name for name, _ in bn.named_parameters()))\n"
            f"# {sorted(got['params'])}; expected {want_params} (weight and bias are nn.Parameters, the "
            "running statistics are buffers)"
        )
    for key, value in want_state.items():
        why = explain_difference(value, tensors.get(f"{i}/{key}"), 0.0, 0.0, f"bn.{key}")
        if why:
            return (
                f"bn = {call}\nprint(bn.{key})\n# {why} (expected as torch.nn.{spec.name}: weight ones, "
                "bias zeros, running_mean zeros, running_var ones, num_batches_tracked "
                "torch.tensor(0) of dtype torch.long)"
            )
    for attr in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        seen = got["attrs"][attr]
        if getattr(torch_m, attr) is None and seen != "none":
            return (
                f"bn = {call}\nprint(bn.{attr})\n# expected None (as torch.nn.{spec.name}), "
                f"got {'no such attribute' if seen == 'absent' else 'a ' + seen}"
            )
    return None


# The optional factory keywords: when __init__ takes them by name (the stub does), parameters and buffers
# are created there and in that dtype, as torch's (num_batches_tracked stays torch.long).
FACTORY_CONFIGS = ({"dtype": "float64"}, {"device": "meta"}, {"dtype": "float64", "affine": False})


def _factory_problem(spec: BatchNormSpec, kwargs: dict, got: dict) -> str | None:
    torch_kw = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
    args = ", ".join(f"{k}=torch.{v}" if k == "dtype" else f"{k}={v!r}" for k, v in kwargs.items())
    call = f"{spec.name}(3, {args})"
    if not got["is_module"]:
        return f"{call} is not a torch.nn.Module"
    want = spec.torch_module(3, **torch_kw).state_dict()
    for key, value in want.items():
        entry = got["entries"].get(key)
        where = {"dtype": str(value.dtype), "device": value.device.type}
        seen = {k: entry.get(k) for k in where} if entry else None
        if seen != where:
            return (f"bn = {call}\nprint(bn.{key}.dtype, bn.{key}.device)\n# {seen}; expected {where} as "
                    f"torch.nn.{spec.name}: create parameters and buffers with the device and dtype "
                    "given (e.g. torch.zeros(num_features, device=device, dtype=dtype); "
                    "num_batches_tracked stays torch.long)")
    return None


@register("bn_module_interface")
def bn_module_interface(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    info = interface.require(ctx.describe, spec.interface)
    configs = [
        {},
        {"affine": False},
        {"track_running_stats": False},
        {"affine": False, "track_running_stats": False},
    ]
    resp = ctx.call(ops.BnModuleState(spec.name, configs, 3))
    for i, kwargs in enumerate(configs):
        why = _state_problem(spec, i, kwargs, resp.configs[i], resp.tensors)
        if why:
            raise Fail(why)
    named = {p["name"] for p in info.get("signature") or [] if p.get("has_default")}
    factory = [kw for kw in FACTORY_CONFIGS if {"device", "dtype"} & set(kw) <= named]
    if factory:
        resp = ctx.call(ops.BnModuleState(spec.name, factory, 3))
        for i, kwargs in enumerate(factory):
            why = _factory_problem(spec, kwargs, resp.configs[i])
            if why:
                raise Fail(why)


def _train_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    t = bn_tensors(ex)
    c = ex["shape"][1]
    set_values = {"weight": t["weight"], "bias": t["bias"]} if ex["affine"] else {}
    return ModuleRun(
        spec, c, _module_kwargs(ex), ex["dtype"], set_values, [{"train": True, "x": t["x"], "g": t["grad"]}]
    )


def _compare_steps(run: ModuleRun, got: dict, keys: tuple[str, ...]) -> str | None:
    """First difference between the student's tensors and the reference's ('after forward i: ...')."""
    want_steps = run.reference()
    labels = {
        "y": "y",
        "gx": "x.grad",
        "gw": "bn.weight.grad",
        "gb": "bn.bias.grad",
        "running_mean": "bn.running_mean",
        "running_var": "bn.running_var",
        "num_batches_tracked": "bn.num_batches_tracked",
    }
    for i, want in enumerate(want_steps):
        for key in keys:
            if key not in want:
                continue
            tensor_key = f"{key}{i}" if key in ("y", "gx", "gw", "gb") else f"{key}@{i}"
            why = bn_diff(want[key], got.get(tensor_key), labels[key])
            if why:
                return why if len(want_steps) == 1 else f"after forward {i + 1}: {why}"
    return None


@register("bn_module_train_forward")
def bn_module_train_forward(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _train_run(spec, ex)
        _, got = run_module(ctx, run)
        why = _compare_steps(run, got, ("y", "gx", "gw", "gb"))
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        return (
            f"in training mode {spec.name} must normalize with the batch statistics (through "
            f"BatchNormFunction) and apply weight and bias ({ex['dtype']}): {detail}\n{STANDIN_NOTE}\n"
            f"{_train_run(spec, ex).snippet()}"
        )

    strategy = S.bn_examples(spec.shapes(), track=st.sampled_from([True, False]), momentum=S.bn_momenta())
    explicit = [
        {"shape": s, "affine": a, "eps": e, "dtype": d, "seed": 7, "offset": 2.0, "scale": 1.0, "track": tr}
        for s in spec.explicit_shapes
        for a, e, d, tr in (
            (True, 1e-5, "float64", True),
            (True, 0.1, "float32", False),
            (False, 1.0, "float64", True),
        )
    ]
    search(
        ctx,
        strategy,
        body,
        max_examples=MAX_EXAMPLES["bn_module_train_forward"],
        describe=describe,
        explicit=explicit,
    )


def _stats_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    steps = []
    for k in range(ex["steps"]):
        t = bn_tensors(ex, seed_shift=k)
        # An eval forward in between must leave the statistics alone (without tracking there are none,
        # and what eval mode then computes is the eval line's business).
        # The input requires grad, as inside a network: the statistics must not keep its graph.
        steps.append({"train": k != ex.get("eval_at") or not ex.get("track", True), "x": t["x"], "g": None,
                      "rg": True})
    kw = _module_kwargs(ex)
    return ModuleRun(spec, ex["shape"][1], kw, ex["dtype"], {}, steps, probe=True)


BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _untracked_problem(steps: list[dict]) -> str | None:
    """With track_running_stats=False there are no running statistics at all (torch keeps them None)."""
    for i, rec in enumerate(steps):
        present = [k for k in rec.get("state_keys", []) if k.split(".")[-1] in BUFFERS]
        not_none = [k for k, v in rec.get("buffers", {}).items() if v not in ("none", "absent")]
        if present or not_none:
            return (
                f"after forward {i + 1}: with track_running_stats=False there are no running "
                f"statistics (torch keeps them None, out of state_dict), but bn has "
                f"{', '.join(present or not_none)}"
            )
    return None


def _history_problem(steps: list[dict]) -> str | None:
    """Running statistics are plain numbers: no autograd graph in the buffers, so the module can be
    copied and an eval output backpropagated (torch updates them under torch.no_grad())."""
    for i, rec in enumerate(steps):
        kept = [name for name, has in rec.get("history", {}).items() if has]
        if kept:
            return (f"after forward {i + 1}: bn.{kept[0]} is part of the autograd graph (requires_grad or "
                    "grad_fn set): update the running statistics under torch.no_grad() (or from "
                    "x.detach()), else copy.deepcopy(bn) fails and backward through an eval output raises")
    probe = steps[-1].get("probe", {}) if steps else {}
    calls = {"deepcopy": "copy.deepcopy(bn)", "eval_backward": "bn.eval(); bn(x).sum().backward()"}
    for what, call in calls.items():
        if probe.get(what):
            return (f"after these forwards, {call} raised {probe[what]['raised']}: "
                    f"{probe[what].get('message', '')} (keep the running statistics free of autograd "
                    "history)")
    return None


def _stats_explicit(spec: BatchNormSpec) -> list[dict]:
    base = {"affine": True, "eps": 1e-5, "seed": 11, "offset": 2.0, "scale": 1.0, "steps": 3, "eval_at": None,
            "track": True}
    shape = spec.explicit_shapes[-1]
    return [
        dict(base, shape=shape, momentum=0.1, dtype="float64"),
        dict(base, shape=shape, momentum=None, dtype="float64"),
        dict(base, shape=shape, momentum=0.0, dtype="float64"),
        dict(base, shape=shape, momentum=0.5, dtype="float32", steps=4, eval_at=1),
        dict(base, shape=spec.explicit_shapes[0], momentum=0.1, dtype="float32"),
        dict(base, shape=shape, momentum=0.1, dtype="float64", track=False),
    ]


@register("bn_module_running_stats")
def bn_module_running_stats(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _stats_run(spec, ex)
        steps, got = run_module(ctx, run)
        why = _untracked_problem(steps) if not ex.get("track", True) else _compare_steps(run, got, BUFFERS)
        why = why or _history_problem(steps)
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        run = _stats_run(spec, ex)
        return (
            f"the running statistics differ from torch.nn.{spec.name}'s (running = (1 - momentum) * running "
            "+ momentum * batch statistic, with the unbiased variance; momentum=None: cumulative average; "
            f"updated in training mode only) ({ex['dtype']}): {detail}\n"
            f"{run.snippet()}"
        )

    search(ctx, S.bn_running_stats(spec.shapes()), body, max_examples=MAX_EXAMPLES["bn_module_running_stats"],
           describe=describe, explicit=_stats_explicit(spec))


def _eval_run(spec: BatchNormSpec, ex: dict) -> ModuleRun:
    t = bn_tensors(ex)
    c = ex["shape"][1]
    dtype = DTYPES[ex["dtype"]]
    gen = torch.Generator().manual_seed(ex["seed"] + 1000)
    set_values = {"weight": t["weight"], "bias": t["bias"]} if ex["affine"] else {}
    if ex.get("track", True):
        set_values["running_mean"] = (grid(gen, (c,)) + ex.get("offset", 0.0)).to(dtype)
        set_values["running_var"] = (
            torch.round(torch.rand(c, generator=gen, dtype=torch.float64) * 16) / 8 + 0.25
        ).to(dtype)
    return ModuleRun(
        spec, c, _module_kwargs(ex), ex["dtype"], set_values, [{"train": False, "x": t["x"], "g": t["grad"]}]
    )


@register("bn_module_eval")
def bn_module_eval(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]

    def body(ex: dict) -> None:
        run = _eval_run(spec, ex)
        _, got = run_module(ctx, run)
        why = _compare_steps(run, got, ("y", "gx", "gw", "gb", "running_mean", "running_var",
                                        "num_batches_tracked"))
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        what = (
            f"in eval mode {spec.name} must use the running statistics, y = (x - running_mean) / "
            "sqrt(running_var + eps) * weight + bias, leave them unchanged and let gradients flow to x, "
            "weight and bias"
            if ex.get("track", True)
            else f"in eval mode with track_running_stats=False, {spec.name} must use the batch statistics"
        )
        return f"{what} ({ex['dtype']}): {detail}\n{_eval_run(spec, ex).snippet()}"

    strategy = S.bn_examples(spec.shapes(), track=S.bn_tracking(), momentum=S.bn_momenta())
    explicit = [
        {
            "shape": spec.explicit_shapes[0],
            "affine": a,
            "eps": e,
            "dtype": d,
            "seed": 13,
            "offset": 2.0,
            "scale": 1.0,
            "track": tr,
        }
        for a, e, d, tr in (
            (True, 1e-5, "float64", True),
            (False, 0.1, "float32", True),
            (True, 1e-3, "float64", False),
        )
    ]
    search(
        ctx, strategy, body, max_examples=MAX_EXAMPLES["bn_module_eval"], describe=describe, explicit=explicit
    )


@register("bn_module_errors")
def bn_module_errors(ctx: CheckContext) -> None:
    spec = MODULES[ctx.name]
    gen = torch.Generator().manual_seed(17)
    # (training mode?, input shape, what is wrong with it: "rank", "single" or None = fine)
    cases = [(True, shape, "rank") for shape in spec.wrong_ranks] + [(False, spec.wrong_ranks[0], "rank")]
    cases += [(True, shape, "single") for shape in spec.single] + [
        (False, shape, None) for shape in spec.single
    ]
    # Without running statistics eval mode uses the batch statistics too: one value per channel raises.
    # (Whether num_batches_tracked counts a batch that raised is not graded: torch counts it.)
    untracked = {"track_running_stats": False}
    cases += [(False, shape, "single", untracked) for shape in spec.single]
    cases += [(True, shape, "single", {"momentum": None, "affine": False}) for shape in spec.single[:1]]
    for train, shape, wrong, *kw in cases:
        kwargs = kw[0] if kw else {}
        x = grid(gen, shape).float()
        run = ModuleRun(spec, 3, kwargs, "float32", {}, [{"train": train, "x": x, "g": None}])
        steps, got = run_module(ctx, run, catch=True)
        rec = steps[0]
        mode = "training" if train else "eval"
        if wrong:
            if "ValueError" not in (rec.get("mro") or []):
                what = (
                    f"raised {rec['raised']}: {rec.get('message', '')}" if rec["raised"] else "raised nothing"
                )
                reason = (
                    f"for a {len(shape)}-D input ({spec.name} accepts {spec.ranks} inputs)"
                    if wrong == "rank"
                    else "when there is only one value per channel (no batch statistics)"
                    + (" and track_running_stats=False (eval mode uses the batch statistics then)"
                       if kwargs.get("track_running_stats") is False else "")
                )
                raise Fail(f"like torch.nn.{spec.name}, raise ValueError in {mode} mode {reason}; "
                           f"yours {what}\n{run.snippet()}")
            continue
        y = got.get("y0")
        if rec["raised"] or not isinstance(y, torch.Tensor) or tuple(y.shape) != shape:
            what = (
                f"raised {rec['raised']}: {rec.get('message', '')}"
                if rec["raised"]
                else (f"y should have the input's shape {shape}")
            )
            raise Fail(f"in eval mode a batch of one sample is fine (the running statistics are used); yours "
                       f"{what}\n{run.snippet()}")
