"""Runtime tripwires: a second layer behind the submission policy, hard to undo from student code.

The static policy (``autograder/policy/``, applied before any student code runs) is the primary
defence. These tripwires see what it cannot: a call into torch's own implementation of a graded
component made while a handler runs the student's code. Two kinds, both named by the grader (the
zygote receives the lists from ``policy.RUNTIME_ENTRY_POINTS``/``RUNTIME_OPS``, expanded on the
trusted side):

- *entry points*: torch's optimizers, their functional forms and kernels, schedulers, dropout and
  batch-norm functions and modules, replaced by a plain wrapper (no ``functools.wraps``, so no
  ``__wrapped__``) that reports and calls the original;
- *operators*: a ``TorchDispatchMode`` pushed around every graded op sees each aten operator that
  runs, e.g. ``native_batch_norm``, ``_native_batch_norm_legit``, ``native_dropout``,
  ``_fused_adam_``, whatever Python path led there (``torch.ops``, a private kernel, a helper).

Nothing a student could swap lives in module globals: whether a block is armed, the hits and the
channel are cells of the closures ``_make`` returns, and ``common.graded_op`` binds ``armed`` when the
handlers are defined. A hit is also written to a pipe, so one made in a forked child (a data loader
worker) is not lost with the child's memory.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import os

import torch
from torch.utils._python_dispatch import TorchDispatchMode


def _make():
    # One closure over private cells on purpose (long): the state the student's code could rewrite lives
    # only in these cells, never in module globals or attributes reachable from the functions it sees.
    armed_flag = [False]
    hits: list[str] = []
    channel = [-1, -1]  # (read end, write end) of this worker's hit pipe
    op_patterns: list[str] = []
    op_watch = [True]  # off for a worker whose submission cannot reach any watched operator (see load)
    verdict: dict = {}  # OpOverload -> label or None

    def report(label: str) -> None:
        hits.append(label)
        if channel[1] >= 0:
            try:
                os.write(channel[1], label.encode()[:200] + b"\n")
            except OSError:
                pass  # a full pipe already holds hits

    def wrap(owner, attr: str, label: str) -> None:
        original = owner.__dict__.get(attr) if isinstance(owner, type) else getattr(owner, attr, None)
        if original is None:
            original = getattr(owner, attr, None)
        if original is None:
            return

        def tripwire(*args, **kwargs):
            if armed_flag[0]:
                report(label)
            return original(*args, **kwargs)

        tripwire.__name__ = getattr(original, "__name__", attr)
        tripwire.__doc__ = getattr(original, "__doc__", None)
        setattr(owner, attr, tripwire)

    class Watch(TorchDispatchMode):
        """Reports aten operators of torch's own graded implementations while armed."""

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if armed_flag[0]:
                label = verdict.get(func, False)
                if label is False:
                    name = func._overloadpacket.__name__
                    hit = any(fnmatch.fnmatchcase(name, p) for p in op_patterns)
                    label = verdict[func] = f"torch.ops.aten.{name}" if hit else None
                if label:
                    report(label)
            return func(*args, **(kwargs or {}))

    def install(config: dict) -> None:
        """Wrap the entry points and set the operator patterns (once, in the zygote)."""
        op_patterns[:] = list(config.get("ops", ()))
        for entry in config.get("entry_points", ()):
            module, _, attr = entry.partition(":")
            try:
                owner = importlib.import_module(module)  # torch's own modules, imported already
            except ImportError:
                continue
            target = getattr(owner, attr, None)
            if isinstance(target, type):
                wrap(target, "__init__", f"{module}.{attr}")
            elif callable(target):
                wrap(owner, attr, f"{module}.{attr}")
        # The first dispatch through a Python mode imports and caches a good deal (~3 s in a fresh
        # process): pay it here, before the zygote forks, not in every worker. Nothing is armed.
        with Watch():
            x = torch.ones(4, requires_grad=True)
            (x * 2 + 1).sum().backward()

    def open_channel() -> None:
        """A fresh hit pipe for this worker (called once, after the fork, before student code)."""
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        channel[:] = [r, w]

    def drain() -> None:
        if channel[0] < 0:
            return
        data = b""
        try:
            while chunk := os.read(channel[0], 1 << 16):
                data += chunk
        except BlockingIOError:
            pass
        for line in data.decode(errors="replace").splitlines():
            if line not in hits:
                hits.append(line)

    @contextlib.contextmanager
    def armed(watch_ops: bool = True):
        """Record forbidden calls made inside the block; yields the list of hits. ``watch_ops=False``
        skips the dispatch mode (about 12 µs per aten operator) where no aten kernel could stand in
        for the graded code (a schedule, a batch order, a training loop)."""
        drain()
        hits.clear()
        armed_flag[0] = True
        try:
            with Watch() if op_patterns and watch_ops and op_watch[0] else contextlib.nullcontext():
                yield hits
        finally:
            armed_flag[0] = False
            drain()

    def watch_operators(on: bool) -> None:
        """Whether this worker runs the dispatch-mode watch at all (set by ``load``, before any student
        code; the grader decides, see ``tripwire_names.op_watch_needed``)."""
        op_watch[0] = bool(on)

    @contextlib.contextmanager
    def watching():
        """The dispatch-mode watch around one piece of student code, for a handler armed with
        ``watch_ops=False`` because most of what it runs is trusted (a training loop around a student's
        layer): only the operators run inside this block pay for the watch."""
        on = op_patterns and op_watch[0] and armed_flag[0]
        with Watch() if on else contextlib.nullcontext():
            yield

    @contextlib.contextmanager
    def disarmed():
        """Trusted stand-ins (e.g. torch's own modules in a convergence check) run here unrecorded."""
        was = armed_flag[0]
        armed_flag[0] = False
        try:
            yield
        finally:
            armed_flag[0] = was

    return install, open_channel, armed, watching, disarmed, watch_operators


install, open_channel, armed, watching, disarmed, watch_operators = _make()
