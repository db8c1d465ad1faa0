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

# Layers: constructor keywords per configuration (momentum=None is left out: torch itself reads the
# batch count on the host there).
LAYER_CONFIGS = {
    "Dropout": ("dropout", ({"p": 0.5},)),
    "BatchNormFunction": ("bn_function", ({},)),
    "BatchNorm1d": ("bn_module", ({}, {"affine": False}, {"track_running_stats": False})),
    "BatchNorm2d": ("bn_module", ({}, {"affine": False})),
}
LAYER_CALLS = {
    "dropout": "layer = {name}({kw}).to('meta')\nx = torch.ones(4, 5, device='meta', requires_grad=True)\n"
               "for training in (True, False):\n    layer.train(training)\n"
               "    layer(x).backward(torch.ones(4, 5, device='meta'))",
    "bn_function": "x = torch.ones(4, 3, 2, device='meta', requires_grad=True)\n"
                   "w = torch.ones(3, device='meta', requires_grad=True)\n"
                   "b = torch.ones(3, device='meta', requires_grad=True)\n"
                   "{name}.apply(x, w, b, 1e-5).backward(torch.ones(4, 3, 2, device='meta'))",
    "bn_module": "bn = {name}({args}).to('meta')\n"
                 "x = torch.ones({shape}, device='meta', requires_grad=True)\n"
                 "for training in (True, False):\n    bn.train(training)\n"
                 "    bn(x).backward(torch.ones({shape}, device='meta'))",
}
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


def _problem(runs: list[dict], snippet) -> str | None:
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
    reply = ctx.call(ops.DeviceRun(ctx.name, kind, list(configs)))
    shape = (4, 3, 2, 2) if ctx.name == "BatchNorm2d" else (4, 3)

    def snippet(i: int) -> str:
        kw = configs[i]
        args = ", ".join(["3", *([kwargs_literal(kw)] if kw else [])])
        body = LAYER_CALLS[kind].format(name=ctx.name, kw=kwargs_literal(kw), args=args,
                                        shape=", ".join(map(str, shape)))
        tensors = {"dropout": "[]", "bn_function": "[]", "bn_module": "list(bn.buffers())"}[kind]
        return reproducer("regularization", ctx.name, f"{body}\ntensors = {tensors}")

    why = _problem(reply.runs, snippet)
    if why:
        raise Fail(why)
