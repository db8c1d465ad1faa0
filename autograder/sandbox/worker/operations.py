"""Typed records of the operations the grader asks of a worker: one frozen request record per graded
operation, with the record of its reply. Both sides import this file (it travels in ``kitworker``).

The grader builds a request (``OptimizerRun(name="SGD", ...)``) and sends ``to_wire()``; the worker's
handler gets the same record back from ``from_wire``. The reply comes back as the request's ``Reply``
record, decoded defensively on the trusted side (the frame itself is size-capped and depth-checked by
``protocol``). Any mismatch (a missing or unknown field, a value of the wrong type) raises
``OperationError`` naming the operation and the field, at the boundary, instead of a ``KeyError`` deep
inside a check or a handler.

Tensors travel beside the JSON fields in ``tensors`` (safetensors on the wire); their names are the
operation's business (``p{i}``, ``g{t}_{i}``, ...). ``Batch`` bundles several requests into one round
trip; their tensors are kept apart by a ``{index}/`` prefix.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from . import protocol

Tensors = dict[str, torch.Tensor]


class OperationError(ValueError):
    """A request or reply that does not fit its record (the message names the operation and field)."""


def _accepts(kind: Any, value: Any) -> bool:
    """Whether a JSON value fits a field annotation (str, int, float, bool, list, dict, X | None, Any)."""
    if kind is Any:
        return True
    args = typing.get_args(kind)
    if args and type(None) in args:  # X | None
        return value is None or any(_accepts(a, value) for a in args if a is not type(None))
    origin = typing.get_origin(kind) or kind
    if origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """A record's JSON fields and their annotations (resolved once per class: every message needs them)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "tensors"}


class _Record:
    """Field checking shared by requests and replies: JSON fields by annotation, plus ``tensors``."""

    OP: ClassVar[str] = ""
    tensors: Tensors

    @classmethod
    def _fields(cls) -> dict[str, Any]:
        return _field_types(cls)

    @classmethod
    def _decode(cls, what: str, value: Any, tensors: Tensors, op: str):
        if not isinstance(value, dict):
            raise OperationError(f"{op}: the {what} is a {type(value).__name__}, not a JSON object")
        fields = cls._fields()
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise OperationError(f"{op}: unknown {what} field(s) {', '.join(unknown)}")
        required = {f.name for f in dataclasses.fields(cls) if f.name != "tensors"
                    and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        missing = sorted(required - set(value))
        if missing:
            raise OperationError(f"{op}: {what} field(s) {', '.join(missing)} missing")
        for name, kind in fields.items():
            if name in value and not _accepts(kind, value[name]):
                raise OperationError(f"{op}: {what} field {name!r} has type {type(value[name]).__name__}")
        if not all(isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in tensors.items()):
            raise OperationError(f"{op}: {what} tensors of the wrong type")
        return cls(**value, tensors=dict(tensors))

    def _encode(self, op: str) -> dict[str, Any]:
        out = {}
        for name, kind in self._fields().items():
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            if not _accepts(kind, value):
                raise OperationError(f"{op}: field {name!r} of {type(self).__name__} has type "
                                     f"{type(value).__name__}")
            out[name] = value
        return out


class Reply(_Record):
    """Base of the reply records (each a frozen dataclass whose last field is ``tensors``)."""

    @classmethod
    def from_wire(cls, value: Any, tensors: Tensors, op: str = "") -> Reply:
        """The reply record of a worker's answer to ``op``; ``OperationError`` when it does not fit."""
        return cls._decode("reply", value, tensors, op or cls.__name__)

    def to_response(self) -> protocol.Response:
        return protocol.Response(ok=True, value=self._encode(type(self).__name__), tensors=self.tensors)


class Request(_Record):
    """Base of the request records (each a frozen dataclass whose last field is ``tensors``): ``OP``
    names the handler, ``Reply`` the record of its answer."""

    Reply: ClassVar[type[Reply]]

    def to_wire(self) -> protocol.Request:
        return protocol.Request(self.OP, self._encode(self.OP), dict(self.tensors))

    @classmethod
    def from_wire(cls, args: Any, tensors: Tensors) -> Request:
        return cls._decode("request", args, tensors, cls.OP)


OPERATIONS: dict[str, type[Request]] = {}


def operation(op: str, reply: type[Reply] | None = None):
    """Declare a request record for ``op`` (whose answer is ``reply``)."""

    def deco(cls):
        cls.OP, cls.Reply = op, reply or TensorsOnly
        OPERATIONS[op] = cls
        return cls

    return deco


# --- replies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorsOnly(Reply):
    """A reply that carries tensors only (and an empty JSON object)."""

    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Loaded(Reply):
    """The names the module defines once its code has run, and the module-level statements that raised
    (each ``{"line", "type", "message", "frames"}``; every other statement still ran)."""

    names: list
    failures: list = field(default_factory=list)
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Raised(Reply):
    """Whether the student's code raised where the handler caught it on purpose, and what."""

    raised: str | None = None  # the exception's type name
    message: str = ""
    mro: list = field(default_factory=list)  # names of the exception's classes (ValueError subclasses)
    frames: list = field(default_factory=list)  # the student's own frames (line, function), to locate it
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ClosureRun(Reply):
    grad_enabled: list  # per closure call: was grad enabled inside it
    calls: int  # how many times step(closure) evaluated the closure
    returned: list  # per step: "tensor" or the type name of what step(closure) returned
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Lrs(Reply):
    lrs: list  # every group's lr after construction and after each step (float or None)
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Batches(Reply):
    calls: list  # per call: how its batches look (or what it raised); indices in tensors c{i}
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class FitLog(Reply):
    events: list  # the event log of the run (see handlers/fit_harness.py)
    overflow: bool  # the log was cut
    result: dict  # a description of what fit returned
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class DropoutOutputs(Reply):
    requires_grad: list  # per step: was the output part of an autograd graph
    p: Any = None  # the layer's attribute ``p`` right after construction (None: absent or not a number)
    intact: list = field(default_factory=list)  # per step: was the caller's input left unchanged
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class FunctionOutput(Reply):
    type: str  # the type name of what BatchNormFunction.apply returned
    intact: bool = True  # the caller's x (and weight, bias) unchanged by the call
    tensors: Tensors = field(default_factory=dict, repr=False)
    unneeded: list = field(default_factory=list)  # given inputs not needing grad that backward gave one


@dataclass(frozen=True)
class ModuleStates(Reply):
    configs: list  # per constructor config: state_dict keys, parameter names, attribute kinds
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ModuleSteps(Reply):
    steps: list  # per step: what it raised, how the buffers look, the state_dict keys
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class DeviceReport(Reply):
    runs: list  # per device and config: what raised, which state/buffer tensors sit on another device
    tensors: Tensors = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class BatchReplies(Reply):
    replies: list  # per request: {"ok", "value", "error"} as in a single reply
    tensors: Tensors = field(default_factory=dict, repr=False)


# --- requests -----------------------------------------------------------------------------------------


@operation("load", Loaded)
@dataclass(frozen=True)
class Load(Request):
    """Prepare the worker for one group of graded names and execute the student's source as module
    ``module`` (the session sends this itself): switch off the torch implementations of ``disabled``
    (family -> label, ``sandbox/guards.py``), then run the trusted stand-ins' sources (name -> source),
    then the student's module, one top-level statement at a time."""

    source: str
    filename: str
    module: str
    disabled: dict = field(default_factory=dict)
    standins: dict = field(default_factory=dict)
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("ping")
@dataclass(frozen=True)
class Ping(Request):
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("construct", Raised)
@dataclass(frozen=True)
class Construct(Request):
    """``name(**kwargs)``, or ``name(params, **kwargs)`` with the tensors as params (then one ``step()``
    on grads of ones with ``step``)."""

    name: str
    kwargs: dict = field(default_factory=dict)
    with_params: bool = False
    step: bool = False
    tensors: Tensors = field(default_factory=dict, repr=False)


def trajectory_tensors(params: list[torch.Tensor], grads: list[list[torch.Tensor | None]]) -> Tensors:
    """The wire names of an optimizer run: ``p{i}`` initial parameters, ``g{t}_{i}`` the gradient of
    parameter i at step t (absent: ``.grad`` is None at that step)."""
    out = {f"p{i}": p for i, p in enumerate(params)}
    for t, row in enumerate(grads):
        out.update({f"g{t}_{i}": g for i, g in enumerate(row) if g is not None})
    return out


@operation("optimizer_run")
@dataclass(frozen=True)
class OptimizerRun(Request):
    """Set the grads, ``step()``, record the params after every step (``p{i}@{t}``). ``groups``: param
    groups ``{"params": [indices], "kwargs": {...}}``; ``lr_changes``: ``{step: [lr per group]}`` set
    before that step; ``resume_at``: after that many steps continue in a fresh optimizer through
    ``state_dict()``; ``refill``: grads copied in place into the existing ``p.grad`` (as after
    ``zero_grad(set_to_none=False)``), not fresh tensors; ``report_grads``: the reply also carries
    ``grad{i}@{t}``, ``p.grad`` right after step t (absent when None)."""

    name: str
    n_params: int
    steps: int
    kwargs: dict
    groups: list | None = None
    lr_changes: dict | None = None
    resume_at: int | None = None
    refill: bool = False
    report_grads: bool = False
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("optimizer_closure", ClosureRun)
@dataclass(frozen=True)
class OptimizerClosure(Request):
    """``steps`` steps on the quadratic sum_i (0.5*a_i*p_i**2 + b_i*p_i), with ``step(closure)`` or by
    hand (zero_grad, backward, ``step()``)."""

    name: str
    n_params: int
    steps: int
    kwargs: dict
    use_closure: bool
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("optimizer_problem")
@dataclass(frozen=True)
class OptimizerProblem(Request):
    """Minimise one of the lecture's problems (``handlers/problems.py``); return ``w@{t}`` every
    ``every`` steps (default: the last only)."""

    name: str
    problem: str
    kwargs: dict
    steps: int
    every: int | None = None
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("scheduler_run", Lrs)
@dataclass(frozen=True)
class SchedulerRun(Request):
    """``PowerDecayLR(opt, power=power)`` (``power`` None: not passed) on an SGD with ``base_lrs``;
    ``resume_at``: continue through ``state_dict()`` after that many rounds; ``last_epoch`` (not None):
    passed to the constructor, every group carrying ``initial_lr`` = its base lr and ``lr`` =
    ``start_lrs`` (a resumed optimizer); ``set_lrs``: ``[k, lrs]`` pairs, the groups' lr set to ``lrs``
    by hand before round k."""

    base_lrs: list
    power: float | None
    steps: int
    resume_at: int | None = None
    last_epoch: int | None = None
    start_lrs: list | None = None
    set_lrs: list | None = None
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("minibatches_run", Batches)
@dataclass(frozen=True)
class MinibatchesRun(Request):
    """Call ``minibatches`` once per entry of ``calls`` (``n``, ``batch_size``, ``kwargs``,
    ``generator``: "shared" or None), torch's global RNG seeded with ``global_seed``; with ``catch``
    an exception is part of the reply."""

    calls: list
    seed: int = 0
    global_seed: int = 0
    catch: bool = False
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("fit_run", FitLog)
@dataclass(frozen=True)
class FitRun(Request):
    """Run ``fit`` with the trusted harness (``handlers/fit_harness.py`` documents the fields)."""

    setup: str
    lr: float
    momentum: float
    scheduler: dict | None
    script: list | None
    fit_kwargs: dict
    seed: int | None
    snap_steps: bool
    standin: bool = True
    pre_grad: bool = False
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("dropout_run", DropoutOutputs)
@dataclass(frozen=True)
class DropoutRun(Request):
    """``torch.manual_seed(seed)``, ``name(p=p)``, then per step (``x``: a tensor name, ``train``,
    ``grad``; ``reseed``: ``torch.manual_seed(reseed)`` first) one call."""

    p: float
    seed: int
    steps: list
    name: str = "Dropout"
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("bn_function_run", FunctionOutput)
@dataclass(frozen=True)
class BnFunctionRun(Request):
    """``y = name.apply(x, weight, bias, eps)``; with ``backward``, ``y.backward(grad)``, where only the
    inputs named in ``needs`` (``x``, ``w``, ``b``) require grad."""

    eps: float
    backward: bool
    name: str = "BatchNormFunction"
    needs: str = "xwb"
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("bn_module_state", ModuleStates)
@dataclass(frozen=True)
class BnModuleState(Request):
    """Construct the module once per kwargs of ``configs``; report its state."""

    name: str
    configs: list
    num_features: int = 3
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("bn_module_run", ModuleSteps)
@dataclass(frozen=True)
class BnModuleRun(Request):
    """Construct the module (values in ``set`` copied from tensors), then per step: mode, forward,
    optionally backward; outputs, gradients and buffers recorded after every step. A step's ``rg``: its
    input requires grad even without a backward. ``probe``: afterwards, whether ``copy.deepcopy`` of
    the module and a backward through an eval-mode output work (in the last step's record)."""

    name: str
    num_features: int
    kwargs: dict
    dtype: str
    set: dict
    steps: list
    catch: bool = False
    probe: bool = False
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("device_run", DeviceReport)
@dataclass(frozen=True)
class DeviceRun(Request):
    """Run the graded ``name`` (``kind``: optimizer, dropout, bn_function, bn_module) with no data on
    ``meta``, and on ``cuda`` when the worker has a GPU: per entry of ``configs`` (constructor keywords;
    for layers also ``shape``, the input's, and for bn_function ``parts``, which of weight and bias are
    given), two optimizer steps, or a training and an eval forward and backward."""

    name: str
    kind: str
    configs: list
    tensors: Tensors = field(default_factory=dict, repr=False)


@operation("mlp_train")
@dataclass(frozen=True)
class MlpTrain(Request):
    """Train a small MLP holding the student's ``layer`` ("dropout" or "batchnorm") with trusted SGD."""

    layer: str
    name: str
    kwargs: dict
    steps: int
    lr: float
    momentum: float
    seed: int
    tensors: Tensors = field(default_factory=dict, repr=False)
    every: int | None = None  # also return the Linear layers' weights as W1@t ... every that many steps


@operation("batch", BatchReplies)
@dataclass(frozen=True)
class Batch(Request):
    """Several requests in one round trip (``requests``: ``{"op", "args"}``; tensors ``{i}/<name>``).
    Each runs as it would alone; the replies come back in order."""

    requests: list
    tensors: Tensors = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, requests: list[Request]) -> Batch:
        wires = [r.to_wire() for r in requests]
        tensors = {f"{i}/{k}": t for i, w in enumerate(wires) for k, t in w.tensors.items()}
        return cls([{"op": w.op, "args": w.args} for w in wires], tensors)

    def parts(self) -> list[tuple[str, dict, Tensors]]:
        """(op, args, tensors) of each bundled request."""
        out = []
        for i, req in enumerate(self.requests):
            if not isinstance(req, dict) or not isinstance(req.get("op"), str):
                raise OperationError(f"batch: request {i} has no op")
            prefix = f"{i}/"
            tensors = {k[len(prefix):]: t for k, t in self.tensors.items() if k.startswith(prefix)}
            out.append((req["op"], req.get("args") or {}, tensors))
        return out


def split_replies(reply: BatchReplies) -> list[protocol.Response]:
    """The single replies of a ``Batch`` (each as the worker would have answered it alone)."""
    out = []
    for i, part in enumerate(reply.replies):
        if not isinstance(part, dict) or not isinstance(part.get("ok"), bool):
            raise OperationError(f"batch: reply {i} is malformed")
        prefix = f"{i}/"
        tensors = {k[len(prefix):]: t for k, t in reply.tensors.items() if k.startswith(prefix)}
        out.append(protocol.Response(part["ok"], part.get("value"), tensors, part.get("error")))
    return out
