"""Oracle scenarios for 03_regularization, from DESIGN.md's contract:

- ``Dropout``: an ``nn.Module``; signature; ``ValueError`` exactly outside [0, 1]; ``.p`` holds the
  probability of dropping as given (the notebook: "store it as ``self.p``"); in training, for
  several p (0, 1 and the default included), float32/float64 and ranks 1-3: dtype, shape, every
  element either 0 or x / (1 - p), the input left unchanged, the drop rate within 6 standard
  deviations of p on 100k elements, a fresh mask per call and per element (rows and columns differ),
  the same output after the same ``torch.manual_seed`` (torch's RNG), the gradient equal to
  mask / (1 - p) (p = 1 included: zeros, no error); in eval the identity, with gradient one.
  Mask values differ between correct implementations, so Dropout is judged on these properties.
- ``BatchNormFunction``: against the reference, float64 and float32, ranks 2-4, weight and bias
  present or None, several eps, a constant channel, every combination of inputs that need a
  gradient: the output (a tensor, not a tuple), the gradients of x, weight and bias for a random
  upstream gradient, and the inputs left unchanged.
- ``BatchNorm1d``/``BatchNorm2d``: an ``nn.Module``; signature; parameters, buffers and
  ``state_dict`` (keys, values, dtypes) for affine / track_running_stats on and off; three training
  forwards (float32/float64, several momenta including None, 0 and 1, several eps, random affine
  parameters) with outputs, running statistics and ``num_batches_tracked`` after each, whether the
  module-level ``BatchNormFunction`` is used in training (substituted by the reference, counting
  calls), gradients through a training and an eval output, buffers free of autograd history and a
  ``deepcopy`` that works; eval outputs (running stats, or batch stats without tracking); the errors
  for a wrong rank and for one value per channel in training.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ....sandbox.worker.handlers.standins import substituted
from .observe import Impl, Raised, Scenario, attempt, signature_of, snap

DTYPES = (torch.float64, torch.float32)


def _rand(shape, seed: int, dtype=torch.float64, low: float = 0.5) -> torch.Tensor:
    """Random values with |x| >= low (no zeros, so dropped and kept elements can be told apart)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 + low
    sign = torch.where(torch.rand(shape, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return (x * sign).to(dtype)


# --- Dropout --------------------------------------------------------------------------------------


def _dropout_train(cls, p: float | None, shape, dtype, seed: int) -> dict:
    layer = cls() if p is None else cls(p)
    layer.train()
    q = 0.5 if p is None else p
    x = _rand(shape, seed, dtype)
    x0 = x.clone()
    xg = x.clone().requires_grad_(True)
    torch.manual_seed(seed)
    y = layer(xg)
    out: dict[str, Any] = {"type": type(y).__name__}
    if not isinstance(y, torch.Tensor):
        return out
    out["dtype"], out["shape"] = y.dtype, tuple(y.shape)
    kept = y.detach() != 0
    if q < 1:
        scaled = x / (1 - q)
        rtol = 1e-12 if dtype == torch.float64 else 1e-6
        out["each element 0 or x/(1-p)"] = bool(
            ((y.detach() - scaled).abs() <= rtol * scaled.abs())[kept].all()
        )
    else:
        out["all zero"] = not bool(kept.any())
    out["input unchanged"] = bool(torch.equal(xg.detach(), x0))
    grad = attempt(lambda: torch.autograd.grad(y.sum(), xg, allow_unused=True)[0])
    if isinstance(grad, torch.Tensor):
        expected = kept.to(dtype) / (1 - q) if q < 1 else torch.zeros_like(x)
        out["gradient = mask/(1-p)"] = bool(torch.allclose(grad, expected, rtol=1e-6, atol=0))
    else:
        out["gradient"] = grad if grad is not None else "None"
    torch.manual_seed(seed)
    again = layer(x.clone())
    out["same output after the same manual_seed"] = bool(torch.equal(again.detach(), y.detach()))
    return out


def _dropout_half(cls, dtype) -> dict:
    layer = cls(0.3)
    layer.train()
    x = _rand((30, 40), 9, dtype)
    torch.manual_seed(9)
    y = layer(x)
    if not isinstance(y, torch.Tensor):
        return {"type": type(y).__name__}
    scaled = x.double() / 0.7
    close = (y.double() - scaled).abs() <= 2e-2 * scaled.abs()
    return {"dtype": y.dtype, "each element 0 or x/(1-p)": bool(((y == 0) | close).all())}


def _dropout_statistics(cls, p: float | None) -> dict:
    layer = cls() if p is None else cls(p)
    layer.train()
    q = 0.5 if p is None else p
    n = 100_000
    torch.manual_seed(7)
    x = torch.ones(400, 250, dtype=torch.float64)
    y1 = layer(x).detach()
    y2 = layer(x).detach()
    dropped = (y1 == 0).double().mean().item()
    sigma = math.sqrt(q * (1 - q) / n)
    m1 = y1 != 0
    return {
        "drop rate within 6 sigma of p": abs(dropped - q) <= 6 * sigma + 1e-12,
        "fresh mask per call": bool((m1 != (y2 != 0)).any()) if 0 < q < 1 else "n/a",
        "rows differ": bool((m1 != m1[:1]).any()) if 0 < q < 1 else "n/a",
        "columns differ": bool((m1 != m1[:, :1]).any()) if 0 < q < 1 else "n/a",
    }


def _dropout_eval(cls, p: float, dtype) -> dict:
    layer = cls(p)
    layer.eval()
    x = _rand((4, 5), 3, dtype).requires_grad_(True)
    y = layer(x)
    grad = attempt(lambda: torch.autograd.grad(y.sum(), x)[0])
    return {"output": snap(y), "gradient": snap(grad)}


def explore_dropout(impl: Impl) -> Iterator[Scenario]:
    cls = impl.obj
    yield "Dropout: an nn.Module", isinstance(cls, type) and issubclass(cls, nn.Module)
    yield "Dropout: signature", signature_of(cls, ("p",))
    for p in (-0.1, -1e-9, 1.1, 1.0000001, 2.0, 0.0, 1.0, 0.5):
        yield f"Dropout({p}) raises ValueError exactly outside [0, 1]", attempt(lambda p=p: (cls(p), "ok")[1])
    for p in (0.2, 0.0, 1.0, None):  # the notebook: "p is the probability of dropping; store it as self.p"
        yield (
            f"Dropout({'' if p is None else p}).p: the probability of dropping, as given",
            attempt(lambda p=p: (cls() if p is None else cls(p)).p),
        )
    seed = 100
    # 0.37 and 0.15: 1 / (1 - p) is not exact in float32, so a float32 scale shows on float64 inputs
    for p in (None, 0.5, 0.2, 0.9, 0.0, 1.0, 0.999, 0.37, 0.15):
        for dtype in DTYPES:
            for shape in ((7,), (5, 6), (3, 4, 5)):
                seed += 1
                text = f"Dropout({'' if p is None else p}) training on a {dtype} tensor of shape {shape}"
                yield (
                    text,
                    attempt(
                        lambda p=p, shape=shape, dtype=dtype, seed=seed: _dropout_train(
                            cls, p, shape, dtype, seed
                        )
                    ),
                )
    for dtype in (torch.bfloat16, torch.float16):  # the output keeps the input's dtype
        yield (f"Dropout(0.3) training on a {dtype} tensor: its dtype, each element 0 or x/(1-p)",
               attempt(lambda dtype=dtype: _dropout_half(cls, dtype)))
    for p in (None, 0.1, 0.5, 0.8, 0.0, 1.0):
        yield (
            (
                f"Dropout({'' if p is None else p}) training on 100k ones: drop rate, fresh mask per call "
                "and "
                "per element"
            ),
            attempt(lambda p=p: _dropout_statistics(cls, p)),
        )
    for p in (0.5, 0.0, 1.0):
        for dtype in DTYPES:
            yield (
                f"Dropout({p}).eval() on a {dtype} tensor: identity, gradient one",
                attempt(lambda p=p, dtype=dtype: _dropout_eval(cls, p, dtype)),
            )
    yield "Dropout(0.5) on the meta device", attempt(lambda: layer_on_meta(cls(0.5), (4, 5)))


def layer_on_meta(layer, shape: tuple[int, ...]) -> str:
    """Training and eval, forward and backward on the meta device (shapes, no data): a host sync raises;
    every buffer and parameter must stay on the device ("meta")."""
    layer = layer.to("meta")
    for training in (True, False):
        layer.train(training)
        y = layer(torch.ones(shape, device="meta", requires_grad=True))
        y.backward(torch.ones_like(y))
    places = {t.device.type for t in [*layer.buffers(), *layer.parameters()] if t.dim() > 0}
    return "meta" if places <= {"meta"} else f"tensors on {sorted(places)}"


def function_on_meta(fn, weight: bool = True, bias: bool = True) -> str:
    x, w, b = (torch.ones(s, device="meta", requires_grad=True) for s in ((4, 3, 2), (3,), (3,)))
    y = fn.apply(x, w if weight else None, b if bias else None, 1e-5)
    y.backward(torch.ones_like(y))
    return "meta"


# --- BatchNormFunction ----------------------------------------------------------------------------

BN_SHAPES = ((4, 3), (3, 2), (6, 1), (5, 2, 3), (3, 2, 2, 2), (2, 3, 1, 2))


def _bn_function(
    fn,
    shape,
    dtype,
    affine: str,
    eps: float,
    needs: tuple[bool, bool, bool],
    seed: int,
    constant_channel: bool = False,
) -> dict:
    c = shape[1]
    x = _rand(shape, seed, dtype, low=0.0) * 3 + 1
    if constant_channel:
        x[:, 0] = 2.5
    weight = _rand((c,), seed + 1, dtype) if affine in ("both", "weight") else None
    bias = _rand((c,), seed + 2, dtype) if affine in ("both", "bias") else None
    inputs = [x, weight, bias]
    leaves = [
        t.clone().requires_grad_(need) if t is not None else None
        for t, need in zip(inputs, needs, strict=True)
    ]
    before = [snap(t) for t in leaves]
    y = attempt(lambda: fn.apply(leaves[0], leaves[1], leaves[2], eps))
    out: dict[str, Any] = {"output": snap(y) if isinstance(y, torch.Tensor) else repr(type(y).__name__)}
    if not isinstance(y, torch.Tensor):
        return {**out, "raised": y} if isinstance(y, Raised) else out
    wanted = [t for t in leaves if t is not None and t.requires_grad]
    if wanted:
        upstream = _rand(tuple(y.shape), seed + 3, dtype)
        # backward called as autograd calls it: None where no gradient is needed (autograd drops it)
        direct = attempt(lambda: y.grad_fn.apply(upstream.clone()))
        if isinstance(direct, tuple):
            out["backward returns None where no gradient is needed"] = [
                g is None for g, t in zip(direct, leaves, strict=False) if t is None or not t.requires_grad]
        grads = attempt(lambda: torch.autograd.grad(y, wanted, upstream, allow_unused=True))
        out["gradients"] = snap(list(grads)) if isinstance(grads, tuple) else grads
    out["inputs unchanged"] = [
        bool(torch.equal(a.detach(), b)) if a is not None else None
        for a, b in zip(leaves, before, strict=True)
    ]
    return out


def explore_bn_function(impl: Impl) -> Iterator[Scenario]:
    fn = impl.obj
    yield (
        "BatchNormFunction: a torch.autograd.Function",
        isinstance(fn, type) and issubclass(fn, torch.autograd.Function),
    )
    yield (
        "BatchNormFunction: forward and backward are staticmethods, as torch.autograd.Function wants",
        [isinstance(inspect.getattr_static(fn, m, None), staticmethod) for m in ("forward", "backward")],
    )
    seed = 500
    cases = []
    for shape in BN_SHAPES:
        for dtype in DTYPES:
            cases.append((shape, dtype, "both", 1e-5, (True, True, True), False))
    for affine in ("none", "weight", "bias"):
        for shape in ((4, 3), (3, 2, 2, 2)):
            cases.append((shape, torch.float64, affine, 1e-5, (True, True, True), False))
    for needs in (
        (True, False, False),
        (False, True, True),
        (False, True, False),
        (False, False, True),
        (False, False, False),
        (True, False, True),
    ):
        cases.append(((4, 3), torch.float64, "both", 1e-5, needs, False))
    for eps in (0.1, 1.0, 1e-3):
        cases.append(((5, 2, 3), torch.float64, "both", eps, (True, True, True), False))
    cases.append(((4, 3), torch.float64, "both", 1e-5, (True, True, True), True))
    cases.append(((3, 2, 2, 2), torch.float32, "none", 0.1, (True, False, False), True))
    for shape, dtype, affine, eps, needs, constant in cases:
        seed += 10
        text = (
            f"BatchNormFunction.apply(x of shape {shape} {dtype}, weight/bias: {affine}, eps={eps}); "
            f"requires_grad (x, weight, bias) = {needs}" + ("; channel 0 constant" if constant else "")
        )
        yield text, attempt(lambda a=(shape, dtype, affine, eps, needs, seed, constant): _bn_function(fn, *a))
    for weight, bias in ((True, True), (False, True), (True, False), (False, False)):
        yield (f"BatchNormFunction.apply on the meta device, forward and backward (weight: {weight}, "
               f"bias: {bias})", attempt(lambda w=weight, b=bias: function_on_meta(fn, w, b)))


# --- BatchNorm1d / BatchNorm2d --------------------------------------------------------------------


class _CountingFunction:
    """The reference BatchNormFunction, counting how often the module under test uses it."""

    def __init__(self, function) -> None:
        self.function = function
        self.calls = 0

    def apply(self, *args):
        self.calls += 1
        return self.function.apply(*args)


def _module_state(module: nn.Module) -> Any:
    params = {k: snap(v) for k, v in module.named_parameters()}
    buffers = {k: snap(v) for k, v in module.named_buffers()}
    return {
        "parameters": params,
        "buffers": buffers,
        "state_dict": snap(dict(module.state_dict())),
        # torch keeps every name as an attribute, None when switched off (bn.running_var is None)
        "attributes": {
            name: "missing" if not hasattr(module, name) else getattr(module, name) is None
            for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
        },
    }


def _honours_dtype(cls) -> bool:
    """True when ``__init__`` takes no ``dtype`` or creates every float parameter and buffer in it."""
    if "dtype" not in inspect.signature(cls).parameters:
        return True
    module = cls(3, dtype=torch.float64)
    tensors = [t for t in (*module.parameters(), *module.buffers()) if t.is_floating_point()]
    return all(t.dtype == torch.float64 for t in tensors)


def _history_free(module: nn.Module) -> bool:
    return all(not b.requires_grad and b.grad_fn is None for b in module.buffers())


def _bn_training(cls, counter: _CountingFunction, kwargs: dict, shape, dtype, seed: int) -> list:
    module = cls(shape[1], **kwargs).to(dtype)
    if module.weight is not None:
        with torch.no_grad():
            module.weight.copy_(_rand((shape[1],), seed, dtype))
            module.bias.copy_(_rand((shape[1],), seed + 1, dtype))
    module.train()
    seen: list[Any] = []
    for k in range(3):
        x = (_rand(shape, seed + 10 * k, dtype, low=0.0) * (1 + k) + k).requires_grad_(True)
        calls = counter.calls
        y = attempt(lambda x=x: module(x))
        step: dict[str, Any] = {
            "output": snap(y),
            "uses BatchNormFunction": counter.calls > calls,
            "buffers": {n: snap(b) for n, b in module.named_buffers()},
            "buffers free of autograd history": _history_free(module),
        }
        if k == 0 and isinstance(y, torch.Tensor):
            wanted = [x, *module.parameters()]
            upstream = _rand(tuple(y.shape), seed + 5, dtype)
            step["gradients"] = snap(
                attempt(
                    lambda y=y, wanted=wanted, upstream=upstream: list(
                        torch.autograd.grad(y, wanted, upstream, allow_unused=True)
                    )
                )
            )
        seen.append(step)
    seen.append({"deepcopy": type(attempt(lambda: copy.deepcopy(module))).__name__})
    module.eval()
    x = _rand(shape, seed + 99, dtype, low=0.0).requires_grad_(True)
    y = attempt(lambda: module(x))
    evaluation: dict[str, Any] = {"eval output": snap(y)}
    if isinstance(y, torch.Tensor):
        upstream = _rand(tuple(y.shape), seed + 98, dtype)
        evaluation["eval gradients"] = snap(
            attempt(
                lambda: list(torch.autograd.grad(y, [x, *module.parameters()], upstream, allow_unused=True))
            )
        )
    evaluation["buffers after eval"] = {n: snap(b) for n, b in module.named_buffers()}
    seen.append(evaluation)
    return seen


def _bn_errors(cls, counter, shape, training: bool, track: bool) -> Any:
    module = cls(3, track_running_stats=track)
    module.train(training)
    return attempt(lambda: (module(_rand(shape, 11, torch.float32)), "ok")[1])


def explore_bn_module(
    name: str, ranks: tuple[tuple[int, ...], ...], bad: tuple[tuple[int, ...], ...], single: tuple[int, ...]
):
    # Long on purpose: a flat list of scenarios, read top to bottom like a test plan.
    def explore(impl: Impl) -> Iterator[Scenario]:
        import reference

        cls = impl.obj
        counter = _CountingFunction(reference.BatchNormFunction)
        with substituted(impl.namespace, "BatchNormFunction", counter):
            yield f"{name}: an nn.Module", isinstance(cls, type) and issubclass(cls, nn.Module)
            yield (
                f"{name}: signature",
                signature_of(cls, ("num_features", "eps", "momentum", "affine", "track_running_stats")),
            )
            for affine in (True, False):
                for track in (True, False):
                    yield (
                        (
                            f"{name}(3, affine={affine}, track_running_stats={track}): parameters, buffers, "
                            "state_dict"
                        ),
                        attempt(
                            lambda a=affine, t=track: _module_state(cls(3, affine=a, track_running_stats=t))
                        ),
                    )
            yield (
                f"{name}(4) with default arguments: parameters, buffers, state_dict",
                attempt(lambda: _module_state(cls(4))),
            )
            yield (  # optional keywords: honoured where __init__ takes them
                f"{name}(3, dtype=torch.float64), where __init__ takes dtype: float tensors in float64",
                attempt(lambda: _honours_dtype(cls)),
            )
            configs = [
                {},
                {"momentum": 0.5},
                {"momentum": None},
                {"momentum": 0.0},
                {"momentum": 1.0},
                {"eps": 0.1},
                {"eps": 1.0},
                {"affine": False},
                {"track_running_stats": False},
                {"affine": False, "track_running_stats": False},
                {"momentum": None, "eps": 1e-3},
            ]
            seed = 900
            for shape in ranks:
                for dtype in DTYPES:
                    for kwargs in configs:
                        seed += 100
                        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
                        text = (
                            f"{name}({shape[1]}{', ' + args if args else ''}) on {dtype}: three training "
                            f"forwards of shape {shape}, gradients, deepcopy, then eval"
                        )
                        yield (
                            text,
                            attempt(
                                lambda kw=kwargs, s=shape, d=dtype, sd=seed: _bn_training(
                                    cls, counter, kw, s, d, sd
                                )
                            ),
                        )
            for shape in bad:
                for training in (True, False):
                    yield (
                        (
                            f"{name}(3) {'training' if training else 'eval'} on a {len(shape)}-D input: "
                            "ValueError as torch"
                        ),
                        _bn_errors(cls, counter, shape, training, True),
                    )
            for training in (True, False):
                for track in (True, False):
                    yield (
                        (
                            f"{name}(3, track_running_stats={track}) {'training' if training else 'eval'} on "
                            f"shape {single}: one value per channel"
                        ),
                        _bn_errors(cls, counter, single, training, track),
                    )
            for kwargs in ({}, {"affine": False}, {"track_running_stats": False}):
                yield (
                    f"{name}(3, **{kwargs}) on the meta device",
                    attempt(lambda kw=kwargs: layer_on_meta(cls(3, **kw), (ranks[0][0], 3, *ranks[0][2:]))),
                )

    return explore


EXPLORERS = {
    "Dropout": explore_dropout,
    "BatchNormFunction": explore_bn_function,
    "BatchNorm1d": explore_bn_module(
        "BatchNorm1d", ((6, 3), (4, 3, 5), (3, 3)), ((3,), (2, 3, 2, 2)), (1, 3)
    ),
    "BatchNorm2d": explore_bn_module(
        "BatchNorm2d", ((4, 3, 2, 2), (2, 3, 1, 2)), ((4, 3), (2, 3, 2)), (1, 3, 1, 1)
    ),
}


def reference_impls() -> dict[str, Impl]:
    import reference.batchnorm
    from reference import Dropout

    return {
        "Dropout": Impl(Dropout, {}),
        "BatchNormFunction": Impl(reference.batchnorm.BatchNormFunction, {}),
        "BatchNorm1d": Impl(reference.batchnorm.BatchNorm1d, vars(reference.batchnorm)),
        "BatchNorm2d": Impl(reference.batchnorm.BatchNorm2d, vars(reference.batchnorm)),
    }
