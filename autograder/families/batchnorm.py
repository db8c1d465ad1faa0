"""Checks of ``BatchNormFunction`` (03_regularization), and what every BatchNorm check shares: the
examples, their tensors and the tolerances (the modules' checks are in ``batchnorm_modules.py``).

Every check sends inputs to the worker, gets the student's raw outputs back and judges them here,
against ``reference`` computed in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

import reference

from ..sandbox.worker import operations as ops
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, StudentError, register
from .compare import explain_difference, tensor_literal
from .hypo import Mismatch, search
from .interface import InterfaceSpec
from .reproduce import block, show, student_import

DTYPES = {"float64": torch.float64, "float32": torch.float32}
LITERAL_MAX = 160  # tensors up to this many elements are written out in feedback
MODULE = "regularization"

# BatchNorm tolerances per dtype, (rtol, atol relative to the largest expected magnitude). Calibrated
# on three independently written correct submissions (sum/n vs mean, rsqrt vs 1/sqrt, a (C, M) view,
# a chain-rule backward) with 500 examples per check: the worst used 4% of the float32 and 0.003% of
# the float64 tolerance (float32 x.grad of two-sample batches, where the gradient nearly cancels).
# The bugs these checks exist for (unbiased variance, eps outside the sqrt, a missing backward term,
# wrong momentum) change float64 results by far more than 1e-8 (eps outside the sqrt: ~eps/2 relative).
BN_TOL = {torch.float64: (1e-8, 1e-10), torch.float32: (1e-4, 5e-5)}


def bn_diff(expected: torch.Tensor, got: torch.Tensor | None, label: str) -> str | None:
    if got is None:
        return f"{label}: no value (None)"
    if expected.dtype not in BN_TOL:
        return explain_difference(expected, got, 0.0, 0.0, label)
    rtol, atol = BN_TOL[expected.dtype]
    scale = max(1.0, float(expected.detach().abs().max())) if expected.numel() else 1.0
    return explain_difference(expected, got, rtol, atol * scale, label)


def grid(gen: torch.Generator, shape) -> torch.Tensor:
    """Values on a grid of 1/8: exact in float32 and readable when they end up in feedback."""
    return torch.round(torch.randn(tuple(shape), generator=gen, dtype=torch.float64) * 8) / 8 + 0.0  # no -0.0


def bn_tensors(ex: dict, shape: tuple | None = None, seed_shift: int = 0) -> dict[str, torch.Tensor]:
    """x, grad (same shape), weight and bias (per channel) of an example, in its dtype."""
    shape = tuple(shape or ex["shape"])
    gen = torch.Generator().manual_seed(ex["seed"] + seed_shift)
    dtype = DTYPES[ex["dtype"]]
    c = shape[1]
    x = grid(gen, shape) * ex.get("scale", 1.0) + ex.get("offset", 0.0)
    weight = 1 + grid(gen, (c,)) / 2
    bias = grid(gen, (c,))
    g = grid(gen, shape)
    return {"x": x.to(dtype), "weight": weight.to(dtype), "bias": bias.to(dtype), "grad": g.to(dtype)}


# --- the BatchNormFunction row -------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    """A graded autograd function: its contract (a class with its own static forward and backward),
    the reference, examples per check and the hand-picked cases every grade tries."""

    name: str
    reference: type
    interface: InterfaceSpec
    max_examples: int
    explicit: tuple[dict, ...]


def _ex(shape, affine, eps, dtype, seed, offset, scale) -> dict:
    return {"shape": shape, "affine": affine, "eps": eps, "dtype": dtype, "seed": seed, "offset": offset,
            "scale": scale}


FUNCTION = FunctionSpec(
    name="BatchNormFunction",
    reference=reference.BatchNormFunction,
    interface=InterfaceSpec(
        "BatchNormFunction", "class",
        "`class BatchNormFunction(torch.autograd.Function)` with its own\n"
        "`forward(ctx, x, weight, bias, eps)` and `backward(ctx, grad_output)`",
        base="torch.autograd.function.Function", base_label="torch.autograd.Function",
        methods=("forward", "backward"), signature=False,
    ),
    max_examples=25,
    explicit=(
        _ex((4, 3), True, 1e-5, "float64", 1, 2.0, 1.0),
        _ex((2, 2), True, 1.0, "float64", 2, 0.0, 0.5),
        _ex((1, 2, 3), True, 1e-3, "float32", 3, -3.0, 1.0),
        _ex((2, 3, 2, 2), False, 0.1, "float64", 4, 0.0, 3.0),
        _ex((3, 2, 2, 1), True, 1e-5, "float32", 5, 2.0, 0.5),
        dict(_ex((4, 3), True, 1e-5, "float64", 6, 1.0, 1.0), parts="b"),
        dict(_ex((2, 3, 2), True, 1e-3, "float64", 7, -1.0, 2.0), parts="w"),
    ),
)


def parts(ex: dict) -> str:
    """Which of weight (``w``) and bias (``b``) an example gives BatchNormFunction; the others are None."""
    return ex.get("parts", "wb" if ex["affine"] else "")


def reference_function(t: dict, given: str, eps: float, backward: bool, needs: str = "xwb"
                       ) -> dict[str, torch.Tensor]:
    """The reference's output and the gradients of the inputs in ``needs`` (those that require grad);
    ``given``: which of weight and bias are not None."""
    x = t["x"].clone().requires_grad_(backward and "x" in needs)
    w = t["weight"].clone().requires_grad_(backward and "w" in needs) if "w" in given else None
    b = t["bias"].clone().requires_grad_(backward and "b" in needs) if "b" in given else None
    y = FUNCTION.reference.apply(x, w, b, eps)
    out = {"y": y.detach()}
    if backward:
        y.backward(t["grad"])
        for key, tensor in (("gx", x), ("gw", w), ("gb", b)):
            if tensor is not None and tensor.grad is not None:
                out[key] = tensor.grad
    return out


UNNEEDED = "which needs none here"


def function_snippet(ex: dict, backward: bool, direct: bool = False) -> str:
    """The case as a reproducer: the student's BatchNormFunction.apply and torch's F.batch_norm (batch
    statistics) on fresh copies of the same tensors, printing the output or every gradient of both."""
    t = bn_tensors(ex)
    needs = ex.get("needs", "xwb") if backward else ""  # which inputs require grad
    lines = ["import torch", "import torch.nn.functional as F", student_import(MODULE, "BatchNormFunction"),
             "", "", "def inputs():", '    """Fresh copies of the case\'s tensors."""',
             f"    x = {tensor_literal(t['x'], requires_grad='x' in needs, max_elements=LITERAL_MAX)}"]
    given = parts(ex)
    lines += [f"    weight = {tensor_literal(t['weight'], requires_grad='w' in needs)}" if "w" in given
              else "    weight = None",
              f"    bias = {tensor_literal(t['bias'], requires_grad='b' in needs)}" if "b" in given
              else "    bias = None"]
    lines += ["    return x, weight, bias", "", "",
              "x, weight, bias = inputs()", f"y = BatchNormFunction.apply(x, weight, bias, {ex['eps']!r})"]
    grad = f"grad = {tensor_literal(t['grad'], max_elements=LITERAL_MAX)}" if backward else ""
    if direct:  # what backward returns where autograd would drop it (no reference run needed)
        want = [name[0] in needs and name[0] in "x" + given for name in ("x", "weight", "bias")]
        return block(*lines, grad,
                     "returned = y.grad_fn.apply(grad)  # your backward, called as autograd calls it",
                     "print('a gradient returned for (x, weight, bias):')",
                     show("[g is not None for g in returned[:3]]", repr(want)))
    lines += ["rx, rweight, rbias = inputs()",
              f"ry = F.batch_norm(rx, None, None, rweight, rbias, training=True, eps={ex['eps']!r})"]
    rtol, atol = BN_TOL[DTYPES[ex["dtype"]]]
    if not backward:
        return block(*lines, show("y.tolist() if isinstance(y, torch.Tensor) else f'a {type(y).__name__}'",
                                  "ry.tolist()"),
                     "print('the same within tolerance:', isinstance(y, torch.Tensor) and "
                     f"torch.allclose(y, ry, rtol={rtol!r}, atol={atol!r}))",
                     "print('inputs unchanged by the call:')",
                     show("all(torch.equal(a, b) for a, b in zip((x, weight, bias), inputs())"
                          " if a is not None)", "True"))
    lines += [grad, "if isinstance(y, torch.Tensor):  # apply must return the output tensor only",
              "    y.backward(grad)", "ry.backward(grad)"]
    pairs = [("x", "rx")] + [(n, f"r{n}") for n in ("weight", "bias") if n[0] in given]
    for mine, ref in (pair for pair in pairs if pair[0][0] in needs):
        lines += [f"print('{mine}.grad')",
                  show(f"None if {mine}.grad is None else {mine}.grad.tolist()", f"{ref}.grad.tolist()"),
                  f"print('the same within tolerance:', {mine}.grad is not None and "
                  f"torch.allclose({mine}.grad, {ref}.grad, rtol={rtol!r}, atol={atol!r}))"]
    return block(*lines)


def function_call(ctx: CheckContext, ex: dict, backward: bool) -> dict[str, torch.Tensor]:
    t = bn_tensors(ex)
    sent = {"x": t["x"]}
    sent.update({name: t[name] for name in ("weight", "bias") if name[0] in parts(ex)})
    if backward:
        sent["grad"] = t["grad"]
    resp = ctx.call(ops.BnFunctionRun(ex["eps"], backward, name=ctx.name, needs=ex.get("needs", "xwb"),
                                      tensors=sent))
    if resp.type != "Tensor" or "y" not in resp.tensors:
        raise Mismatch(
            f"BatchNormFunction.apply must return the output tensor y only; it returned a {resp.type}"
        )
    if backward and resp.unneeded:
        raise Mismatch(
            f"backward returned a gradient for {', '.join(resp.unneeded)}, {UNNEEDED} "
            "(ctx.needs_input_grad[i] is False): return None there (autograd drops it, after your code "
            "computed it for nothing)")
    if not backward and not resp.intact:
        raise Mismatch("the call changed its input x (or weight, bias) in place: the caller's tensors must "
                       "keep their values (compute new tensors, e.g. x - mean, not x -= mean)")
    return resp.tensors


# --- the checks ----------------------------------------------------------------------------------------


def _method_problems(info: dict) -> list[str]:
    """forward and backward: defined in the class itself, static, forward with five parameters."""
    problems = []
    own, static = set(info.get("own") or []), set(info.get("staticmethods") or [])
    for meth in ("forward", "backward"):
        if meth not in own:
            problems.append(f"define `{meth}` in the class itself (a @staticmethod)")
        elif meth not in static:
            problems.append(
                f"`{meth}` must be a @staticmethod (autograd calls it on the class, with ctx first)"
            )
    fwd = (info.get("methods") or {}).get("forward")
    if "forward" in own and fwd is not None:
        positional = [p for p in fwd if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
        if len(positional) != 5 and not any(p["kind"] == "VAR_POSITIONAL" for p in fwd):
            got = ", ".join(p["name"] for p in fwd)
            problems.append(f"forward should take (ctx, x, weight, bias, eps), not ({got})")
    return problems


@register("bn_function_interface")
def bn_function_interface(ctx: CheckContext) -> None:
    spec = FUNCTION.interface
    info = ctx.describe(ctx.name, spec.methods)
    interface.fail_with(spec, interface.problems(info, spec) + _method_problems(info))
    # Implemented at all? (What forward and backward compute is graded by the other lines.)
    ex = FUNCTION.explicit[0]
    try:
        function_call(ctx, ex, backward=True)
    except StudentError as exc:
        if exc.info.get("type") == "NotImplementedError":
            raise Fail("forward and backward are not implemented yet (NotImplementedError)") from None
    except Mismatch:
        pass


def _describe_function(what: str, backward: bool):
    def describe(ex: dict, detail: str) -> str:
        code = function_snippet(ex, backward, direct=UNNEEDED in detail)
        return f"{what} ({ex['dtype']}): {detail}\n{code}"

    return describe


@register("bn_function_forward")
def bn_function_forward(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        got = function_call(ctx, ex, backward=False)
        want = reference_function(bn_tensors(ex), parts(ex), ex["eps"], backward=False)
        why = bn_diff(want["y"], got.get("y"), "y")
        if why:
            raise Mismatch(why)

    describe = _describe_function(
        "BatchNormFunction.apply differs from batch normalization with batch "
        "statistics over every dim but 1 (biased variance)",
        False,
    )
    search(ctx, S.bn_function_examples(S.bn_shapes_any()), body, max_examples=FUNCTION.max_examples,
           describe=describe, explicit=FUNCTION.explicit)


@register("bn_function_backward")
def bn_function_backward(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        got = function_call(ctx, ex, backward=True)
        want = reference_function(bn_tensors(ex), parts(ex), ex["eps"], backward=True, needs=ex["needs"])
        labels = [(f"g{k}", label) for k, label in (("x", "x.grad"), ("w", "weight.grad"), ("b", "bias.grad"))
                  if f"g{k}" in want]
        for key, label in labels:
            why = bn_diff(want[key], got.get(key), label)
            if why:
                if bn_diff(want["y"], got["y"], "y"):
                    why += " (your forward output y is wrong here too: fix the forward first)"
                raise Mismatch(why)

    describe = _describe_function(
        "the gradients of your backward differ from the exact derivative of batch "
        "normalization, as torch.autograd.gradcheck would find",
        True,
    )
    # Which inputs require grad varies (ctx.needs_input_grad): each hand-picked case with all of them,
    # the first one also with each single input and with the parameters only.
    explicit = tuple(dict(ex, dtype="float64", needs="x" + parts(ex)) for ex in FUNCTION.explicit)
    explicit += tuple(dict(explicit[0], needs=n) for n in ("x", "w", "b", "wb"))
    explicit += (dict(explicit[0], parts="b", needs="b"),)
    examples = S.bn_function_examples(S.bn_shapes_any(), dtypes=("float64",), needs=S.bn_needs())
    search(ctx, examples, body, max_examples=FUNCTION.max_examples, describe=describe, explicit=explicit)
