"""The typed records of the worker's operations: a mismatch fails at the boundary with a message that
names the operation and the field, on either side; a reply that does not fit its record is a malformed
reply (the worker is killed), never a KeyError deep inside a check; a Batch answers several requests
in one round trip exactly as they are answered one by one."""

from __future__ import annotations

import pytest
import torch

from autograder.families.base import CheckContext
from autograder.grading.rubric import load_rubric
from autograder.sandbox.runner import WorkerDied
from autograder.sandbox.session import WorkerSession
from autograder.sandbox.worker import operations as ops
from autograder.sandbox.worker import protocol
from autograder.sandbox.worker.registry import Context
from autograder.sandbox.worker.serve import answer

SGD = """
import torch
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3):
        super().__init__(params, {"lr": lr})
    def step(self, closure=None):
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])
"""


def _run(steps: int = 2, lr: float = 0.5) -> ops.OptimizerRun:
    params = [torch.tensor([1.0, -2.0], dtype=torch.float64)]
    grads = [[torch.tensor([0.5, 0.25], dtype=torch.float64)] for _ in range(steps)]
    return ops.OptimizerRun("SGD", 1, steps, {"lr": lr}, tensors=ops.trajectory_tensors(params, grads))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "SGD", "steps": 1, "kwargs": {}}, "optimizer_run: request field(s) n_params missing"),
        ({"name": "SGD", "n_params": "1", "steps": 1, "kwargs": {}}, "field 'n_params' has type str"),
        (
            {"name": "SGD", "n_params": 1, "steps": 1, "kwargs": {}, "speed": 3},
            "unknown request field(s) speed",
        ),
        ({"name": "SGD", "n_params": True, "steps": 1, "kwargs": {}}, "field 'n_params' has type bool"),
        ([1, 2], "the request is a list, not a JSON object"),
    ],
)
def test_a_request_that_does_not_fit_its_record_is_refused_by_name(args, message):
    with pytest.raises(ops.OperationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ops.OptimizerRun.from_wire(args, {})


def test_the_grader_cannot_send_a_record_of_the_wrong_types():
    with pytest.raises(ops.OperationError, match="optimizer_run: field 'steps'"):
        ops.OptimizerRun("SGD", 1, "three", {}).to_wire()


def test_the_worker_answers_a_malformed_request_as_the_grader_s_fault_never_the_student_s():
    ctx = Context()
    reply = answer(ctx, protocol.Request("optimizer_run", {"name": "SGD"}, {}))
    assert not reply.ok and reply.error["grader"] and "missing" in reply.error["message"]
    assert answer(ctx, protocol.Request("no_such_op", {}, {})).error["grader"]


def test_every_operation_has_a_record_and_a_handler():
    import autograder.sandbox.worker.serve  # noqa: F401  (registers the handlers)
    from autograder.sandbox.worker.registry import HANDLERS

    assert set(ops.OPERATIONS) <= set(HANDLERS)
    assert set(HANDLERS) - set(ops.OPERATIONS) == set()


class _FakeSession:
    """A session whose worker answers with a fixed reply (what a tampered worker could send)."""

    def __init__(self, reply: protocol.Response) -> None:
        self.reply, self.stopped = reply, False

    def call(self, req, timeout, budget=None):
        return self.reply

    def stop(self):
        self.stopped = True
        return ""


@pytest.mark.parametrize(
    "value",
    [{"lrs": "not a list"}, {"lrs": [], "extra": 1}, {}, ["lrs"], None],
    ids=["wrong-type", "unknown-field", "missing-field", "not-an-object", "none"],
)
def test_a_reply_that_does_not_fit_its_record_is_a_malformed_reply(value):
    line = load_rubric("01_gradient_descent").lines[0]
    session = _FakeSession(protocol.Response(ok=True, value=value))
    ctx = CheckContext(line=line, session=session, budget_s=10)
    with pytest.raises(WorkerDied, match="malformed reply .*scheduler_run"):
        ctx.call(ops.SchedulerRun([0.1], None, 1))
    assert session.stopped  # the worker that sent it is killed


def test_a_batch_answers_like_its_requests_one_by_one(zygote):
    session = WorkerSession(zygote, SGD, "optimizers.py", "optimizers")
    try:
        assert session.load().ok
        one = [session.call(r.to_wire(), 30) for r in (_run(2), _run(3, lr=0.1))]
        bad = ops.OptimizerRun("Missing", 1, 1, {}, tensors=_run(1).tensors)
        batch = ops.Batch.of([_run(2), bad, _run(3, lr=0.1)])
        reply = ops.BatchReplies.from_wire(*_value_and_tensors(session.call(batch.to_wire(), 30)), "batch")
        parts = ops.split_replies(reply)
    finally:
        session.stop()
    assert [p.ok for p in parts] == [True, False, True]
    assert parts[1].error["missing"]  # the student's error of one request stays its own
    for single, part in zip(one, (parts[0], parts[2]), strict=True):
        assert set(single.tensors) == set(part.tensors)
        assert all(torch.equal(single.tensors[k], part.tensors[k]) for k in single.tensors)


def _value_and_tensors(resp: protocol.Response):
    assert resp.ok, resp.error
    return resp.value, resp.tensors
