"""What every check shares: the registry, the context a check runs in, and the ways a check ends.

A check is a function ``check(ctx) -> CheckResult | None`` registered under a rubric ``kind``. It
talks to the student's worker only through ``ctx.call`` (one typed request record out, its reply record
back: ``sandbox/worker/operations.py``) and
compares what comes back with the reference *in this process*. It ends by returning (None = passed)
or raising ``Fail`` with feedback; student exceptions, timeouts and crashes are turned into statuses
by the engine, so checks stay short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..records import CheckResult, RubricLine
from ..sandbox.runner import BudgetSpent, WorkerDied, WorkerTimeout
from ..sandbox.worker import operations as ops

LONG_CALL_FACTOR = 2.5  # a convergence run may take this many calls' time

CheckFn = Callable[["CheckContext"], "CheckResult | None"]
REGISTRY: dict[str, CheckFn] = {}


def register(kind: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check implementation for rubric lines of ``kind``."""

    def deco(fn: CheckFn) -> CheckFn:
        if kind in REGISTRY:
            raise ValueError(f"check kind {kind!r} registered twice")
        REGISTRY[kind] = fn
        return fn

    return deco


class Fail(Exception):
    """The student's code ran but gave a wrong result.

    ``feedback`` says what; ``fraction`` is the partial credit earned."""

    def __init__(self, feedback: str, fraction: float = 0.0, plot: dict | None = None) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.fraction = fraction
        self.plot = plot


class StudentError(Exception):
    """The student's code raised inside the worker; ``info`` is the worker's description
    (type, message, the student's own frames). ``case`` is the input that made it raise, as code."""

    def __init__(self, info: dict[str, Any], op: str = "", case: str = "") -> None:
        super().__init__(info.get("message", ""))
        self.info = info
        self.op = op
        self.case = case

    @classmethod
    def from_construct(cls, out: ops.Raised, case: str) -> StudentError:
        """From a ``construct`` reply that raised where it should not have."""
        frames = [f for f in out.frames if isinstance(f, dict) and isinstance(f.get("line"), int)]
        return cls({"type": out.raised, "message": out.message, "frames": frames}, "construct", case)


class BudgetExhausted(BaseException):
    """The item's wall-clock budget ran out. A BaseException so hypothesis does not shrink on it."""


class ItemTimedOut(Exception):
    """The student's code hung on an example; ``feedback`` shows the example."""

    def __init__(self, feedback: str) -> None:
        super().__init__(feedback)
        self.feedback = feedback


class Forbidden(Exception):
    """The student's code called an implementation of torch's that the worker's guards switched off
    (the hit, ``family:what``, is the message)."""


@dataclass
class CheckContext:
    """One rubric line being graded against one student's worker."""

    line: RubricLine
    session: Any  # WorkerSession (or a fake in unit tests)
    budget_s: float
    call_timeout_s: float = 10.0
    after_hang_call_s: float = 2.0  # a call's timeout once this graded name's code is known to hang
    name_hung: bool = False  # an earlier line of this graded name timed out (its calls get the short one)
    examples_scale: float = 1.0  # GradingConfig.examples_scale: the share of each search's budget drawn
    facts: Any = None  # interface.SourceFacts of the submission (read from its syntax tree)
    started: float = field(default_factory=time.monotonic)
    # type names of every exception the student's code raised in this line's calls (caught on purpose
    # by a handler or not): the engine tells a stub ("not implemented yet") from a wrong value by them
    raised: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.line.name

    def describe(self, name: str, methods: tuple[str, ...] = ()) -> dict:
        """Interface facts of ``name`` from the submission's syntax tree (never from the worker)."""
        return self.facts.describe(name, methods)

    def long_call_timeout(self) -> float:
        """The timeout of one call that runs a whole training run (a convergence check): 2.5 calls'
        worth, so 20 s, and 5 s once the graded name has hung in an earlier line."""
        return LONG_CALL_FACTOR * self.call_timeout_s

    def remaining(self) -> float:
        return self.budget_s - (time.monotonic() - self.started)

    def call(self, request: ops.Request, *, timeout: float | None = None) -> ops.Reply:
        """One round trip to the worker: the request record out, its reply record back. Raises
        StudentError when the student's code raised, Forbidden when it reached a switched-off
        implementation, BudgetExhausted when the item is out of time; WorkerTimeout/WorkerDied propagate
        (the worker has been killed and restarts on the next call, within this item's time). A reply
        that does not fit its record is a malformed reply: the worker is killed and WorkerDied says so."""
        left = self.remaining()
        if left <= 0:
            raise BudgetExhausted()
        wait = min(left, timeout or self.call_timeout_s)
        try:
            resp = self.session.call(request.to_wire(), wait, budget=left)
        except BudgetSpent:
            raise
        except WorkerTimeout:
            if wait >= left:
                raise BudgetExhausted() from None
            raise
        if resp.value and isinstance(resp.value, dict) and resp.value.get("tripwire"):
            raise Forbidden(resp.value["tripwire"])
        if not resp.ok:
            error = resp.error or {}
            if error.get("tripwire"):
                raise Forbidden(error["tripwire"])
            if error.get("grader"):  # the worker could not take the request: the kit's fault
                raise RuntimeError(f"the worker refused {request.OP}: {error.get('message')}")
            self.raised.add(str(error.get("type", "")))
            raise StudentError(error, request.OP)
        try:
            reply = request.Reply.from_wire(resp.value, resp.tensors, request.OP)
        except ops.OperationError as exc:
            self.session.stop()
            raise WorkerDied(f"the worker sent a malformed reply ({exc})") from None
        self.raised.update(_raised_types(resp.value))
        return reply


def _raised_types(value: Any, depth: int = 4) -> set[str]:
    """Exception type names a reply reports under a ``raised`` key, at any nesting up to ``depth``
    (a construct's Raised record, a step or call record of a trajectory)."""
    if depth < 0:
        return set()
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("raised"), str):
            found.add(value["raised"])
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return found
    for item in list(items)[:256]:
        found |= _raised_types(item, depth - 1)
    return found


__all__ = [
    "REGISTRY",
    "register",
    "Fail",
    "StudentError",
    "BudgetExhausted",
    "Forbidden",
    "CheckContext",
    "ItemTimedOut",
    "WorkerDied",
    "WorkerTimeout",
]
