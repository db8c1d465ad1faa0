"""The device line of every graded optimizer and layer (02, 03): the student's code runs with no data on
torch's ``meta`` device in the worker (and on ``cuda`` too when the worker has a GPU), so code that only
works on the CPU is graded on a CPU-only machine.

Each configuration runs on the CPU first: one that raises there too is left to the other lines (a crash
is not a device problem), and when every one raises there the line is an error (no point for code that
never runs). It fails when the code raises on meta only (a host sync: ``.item()``,
``float(t)``, ``if t > 0`` on a tensor; a CPU tensor mixed into the computation) and when a state tensor
or buffer that is not a 0-dim scalar is not on the parameters' device afterwards (an in-place op on a CPU
tensor with a meta argument passes silently, so the placement is checked too). The reference and
torch.optim / torch.nn pass it on both code paths (tests/reference/test_ref_device.py).
"""

from __future__ import annotations

from ..sandbox.worker import operations as ops
from .base import CheckContext, Fail, StudentError, register
from .compare import kwargs_literal
from .optimizer_table import SPECS
from .reproduce import block, show, student_import

# Layers: every configuration the contract allows, each run in training and eval mode, forward and
# backward. Dropout: p = 0, 1 and values between (the p = 0 and p = 1 shortcuts have their own code);
# BatchNormFunction: each of weight and bias given or None; the modules: the cross product of affine,
# track_running_stats, momentum (None included) and every input rank. ``shape``: the input's (not a
# constructor keyword); ``parts``: which of weight and bias BatchNormFunction gets.
_BN_MODULE = [
    {**({} if affine else {"affine": False}), **({} if track else {"track_running_stats": False}),
     **({} if momentum == 0.1 else {"momentum": momentum})}
    for affine in (True, False) for track in (True, False) for momentum in (0.1, None)
]
LAYER_CONFIGS = {
    "Dropout": ("dropout", ({"p": 0.5}, {"p": 0.0}, {"p": 1.0}, {"p": 0.3})),
    "BatchNormFunction": ("bn_function", ({}, {"parts": "w"}, {"parts": "b"}, {"parts": ""},
                                          {"parts": "wb", "shape": (4, 3)},
                                          {"parts": "", "shape": (2, 3, 2, 2)})),
    "BatchNorm1d": ("bn_module", tuple(_BN_MODULE + [dict(kw, shape=(4, 3, 2)) for kw in _BN_MODULE])),
    "BatchNorm2d": ("bn_module", tuple(_BN_MODULE)),
}
DEFAULT_SHAPES = {"dropout": (4, 5), "bn_function": (4, 3, 2), "bn_module": (4, 3)}


def sync_allowed(config: dict) -> bool:
    """momentum=None: rho = 1 / num_batches_tracked may be read on the host (torch does so itself, and
    the contract allows it), so a raise on meta there is no fault; on CUDA it still runs."""
    return "momentum" in config and config["momentum"] is None and config.get("track_running_stats", True)


def _layer_call(kind: str, name: str, config: dict, shape: tuple) -> str:
    kw = {k: v for k, v in config.items() if k not in ("shape", "parts")}
    dims = ", ".join(map(str, shape))
    run = ("for training in (True, False):\n    {obj}.train(training)\n    y = {obj}(x)\n"
           "    if y.requires_grad:\n        y.backward(torch.ones_like(y))\n    tensors.append(y)")
    if kind == "dropout":
        return (f"layer = {name}({kwargs_literal(kw)}).to('meta')\n"
                f"x = torch.ones({dims}, device='meta', requires_grad=True)\ntensors = []\n"
                + run.format(obj="layer"))
    if kind == "bn_function":
        parts = config.get("parts", "wb")
        given = {part: f"torch.ones({shape[1]}, device='meta', requires_grad=True)" if part[0] in parts
                 else "None" for part in ("weight", "bias")}
        return (f"x = torch.ones({dims}, device='meta', requires_grad=True)\n"
                f"y = {name}.apply(x, {given['weight']}, {given['bias']}, 1e-5)\n"
                "y.backward(torch.ones_like(y))\ntensors = [y]")
    args = ", ".join(["3", *([kwargs_literal(kw)] if kw else [])])
    return (f"bn = {name}({args}).to('meta')\n"
            f"x = torch.ones({dims}, device='meta', requires_grad=True)\ntensors = []\n"
            + run.format(obj="bn") + "\ntensors += list(bn.buffers())")
ADVICE = (
    "Code that runs on a GPU must not read tensor values on the host (no .item(), float(t) or "
    "`if t > 0` on a tensor: each one stalls the GPU until it catches up; keep such values as tensors, "
    "e.g. torch.where or clamp) and must create every tensor on the device of the data "
    "(torch.zeros_like(p), torch.rand_like(x), or device=p.device)."
)


def reproducer(module: str, name: str, body: str) -> str:
    """The configuration as a reproducer: run ``body`` (which leaves the state or buffers in ``tensors``)
    on the meta device; print what it raised or the devices its tensors are on, and what torch gives."""
    inner = "\n".join("        " + line for line in body.splitlines())
    return block(
        "import torch", student_import(module, name), "", "",
        "def outcome():", '    """The steps on the meta device: no data, like a GPU the host cannot read."""',
        "    try:", inner,
        "    except Exception as exc:",
        "        return f'raised {type(exc).__name__}: {exc}'",
        "    return sorted({str(t.device) for t in tensors if t.dim() > 0} | {'meta'})",
        "", "", show("outcome()", "['meta']"),
    )


def _problem(runs: list[dict], snippet, sync_ok=lambda config: False) -> str | None:
    # A configuration that raises on the CPU too is not a device problem: the other lines grade that
    # crash (a stub's NotImplementedError is still reported, so the engine says "not implemented yet").
    on_cpu = {run["config"]: run for run in runs if run["device"] == "cpu"}
    for run in on_cpu.values():
        if run["raised"] == "NotImplementedError":
            return f"your code raised NotImplementedError: {run['message']}"
    if on_cpu and all(run["raised"] for run in on_cpu.values()):
        # Nothing runs even on the CPU: there is no portability to credit (a crash, not a device fault).
        first = next(iter(on_cpu.values()))
        raise StudentError({"type": first["raised"], "message": first["message"],
                            "frames": first.get("frames", [])}, "device_run",
                           snippet(first["config"]))
    for run in runs:
        cpu = on_cpu.get(run["config"])
        if run["device"] == "cpu" or (cpu is not None and cpu["raised"]):
            continue
        where = f"on the {run['device']} device"
        if run["raised"] and run["device"] == "meta" and sync_ok(run["config"]):
            continue  # a host read the contract allows (there is no value to read on meta)
        if run["raised"]:
            return (f"your code raised {run['raised']} {where}: {run['message']}. {ADVICE}\n"
                    f"{snippet(run['config'])}")
        if run["misplaced"]:
            return (f"after running {where}, {', '.join(run['misplaced'])}: state and buffers must live on "
                    f"the parameters' device. {ADVICE}\n{snippet(run['config'])}")
    return None


@register("optimizer_device")
def optimizer_device(ctx: CheckContext) -> None:
    spec = SPECS[ctx.name]
    configs = [{}, *spec.device_configs]
    reply = ctx.call(ops.DeviceRun(spec.name, "optimizer", [spec.spelled_out(kw) for kw in configs]))

    def snippet(i: int) -> str:
        kw = configs[i]
        body = ("params = [torch.zeros(3, device='meta', requires_grad=True), "
                "torch.zeros(2, 2, device='meta', requires_grad=True)]\n"
                f"opt = {spec.name}(params{', ' if kw else ''}{kwargs_literal(kw)})\n"
                "for _ in range(2):\n    for p in params:\n        p.grad = torch.ones_like(p)\n"
                "    opt.step()\n"
                "tensors = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]")
        return reproducer("optimizers", spec.name, body)

    why = _problem(reply.runs, snippet)
    if why:
        raise Fail(why)


@register("layer_device")
def layer_device(ctx: CheckContext) -> None:
    kind, configs = LAYER_CONFIGS[ctx.name]
    reply = ctx.call(ops.DeviceRun(ctx.name, kind, [dict(kw) for kw in configs]))

    def shape(i: int) -> tuple:
        default = (4, 3, 2, 2) if ctx.name == "BatchNorm2d" else DEFAULT_SHAPES[kind]
        return tuple(configs[i].get("shape", default))

    def snippet(i: int) -> str:
        return reproducer("regularization", ctx.name, _layer_call(kind, ctx.name, configs[i], shape(i)))

    why = _problem(reply.runs, snippet, lambda i: sync_allowed(configs[i]))
    if why:
        raise Fail(why)
