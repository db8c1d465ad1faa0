"""Several examples per round trip (families/batched.py behind hypo.search): the same examples run, far
fewer round trips, and every outcome but a pass is the one-by-one search's own: the same shrunk case,
the same student error, the same hang report."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import strategies as st

from autograder.families import hypo
from autograder.families.base import CheckContext, Fail, ItemTimedOut, StudentError
from autograder.sandbox.runner import WorkerTimeout
from autograder.sandbox.worker import operations as ops
from autograder.sandbox.worker import protocol


class FakeWorker:
    """A worker whose "student code" is ``fn``: Construct(name, kwargs={"x": n}) answers fn(n) as the
    message; a negative answer is a raised exception; None is a hang. Answers a Batch part by part."""

    def __init__(self, fn) -> None:
        self.fn, self.trips, self.seen, self.timeouts = fn, 0, [], []

    def answer(self, op: str, args: dict) -> protocol.Response:
        x = args["kwargs"]["x"]
        self.seen.append(x)
        y = self.fn(x)
        if y is None:
            raise WorkerTimeout()
        if y < 0:
            return protocol.Response(False, error={"type": "ValueError", "message": f"bad {x}", "frames": []})
        return ops.Raised(None, str(y)).to_response()

    def call(self, req: protocol.Request, timeout: float, budget: float | None = None) -> protocol.Response:
        self.trips += 1
        self.timeouts.append((req.op, timeout))
        if req.op != "batch":
            return self.answer(req.op, req.args)
        replies = []
        for op, args, _ in ops.Batch.from_wire(req.args, req.tensors).parts():
            try:
                r = self.answer(op, args)
            except WorkerTimeout:
                raise WorkerTimeout() from None  # the whole batch hangs, as a real worker would
            replies.append({"ok": r.ok, "value": r.value, "error": r.error})
        return ops.BatchReplies(replies, {}).to_response()

    def stop(self) -> str:
        return ""


def run(fn, batched: bool, calls_per_example: int = 1, max_examples: int = 40, name_hung: bool = False,
        examples_scale: float = 1.0):
    worker = FakeWorker(fn)
    ctx = CheckContext(line=SimpleNamespace(name="f", id="f.x"), session=worker, budget_s=30.0,
                       name_hung=name_hung, examples_scale=examples_scale)

    def body(x: int) -> None:
        for k in range(calls_per_example):
            got = int(ctx.call(ops.Construct("f", {"x": x + k})).message)
            if got != 2 * (x + k):
                raise hypo.Mismatch(f"f({x + k}) = {got}")

    old = hypo.BATCHED
    hypo.BATCHED = batched
    try:
        hypo.search(ctx, st.integers(0, 1000), body, max_examples=max_examples,
                    describe=lambda x, detail: f"x={x}: {detail}", explicit=[3])
        outcome = None
    except (Fail, StudentError, ItemTimedOut) as exc:
        outcome = (type(exc).__name__, getattr(exc, "feedback", None) or getattr(exc, "case", ""))
    finally:
        hypo.BATCHED = old
    return outcome, worker


@pytest.mark.parametrize("calls", [1, 3])
def test_a_passing_search_runs_the_same_examples_in_a_few_round_trips(calls):
    slow_outcome, slow = run(lambda x: 2 * x, batched=False, calls_per_example=calls)
    fast_outcome, fast = run(lambda x: 2 * x, batched=True, calls_per_example=calls)
    assert slow_outcome is fast_outcome is None
    assert sorted(fast.seen) == sorted(slow.seen) and len(slow.seen) >= 40 * calls
    assert fast.trips <= calls * 2 < slow.trips  # 41 examples: two batches per round


@pytest.mark.parametrize(("fn", "kind"), [
    (lambda x: 2 * x + (x >= 500), "Fail"),  # a wrong answer from 500 on: shrinks to x=500
    (lambda x: -1 if x % 7 == 5 else 2 * x, "StudentError"),
    (lambda x: None if x > 600 else 2 * x, "ItemTimedOut"),
], ids=["mismatch", "student-error", "hang"])
def test_every_other_outcome_is_the_one_by_one_searchs_own(fn, kind):
    slow_outcome, _ = run(fn, batched=False, calls_per_example=2)
    fast_outcome, _ = run(fn, batched=True, calls_per_example=2)
    assert slow_outcome[0] == kind
    assert fast_outcome == slow_outcome
    if kind == "Fail":
        assert slow_outcome[1].startswith("x=499: f(500)")  # shrunk to the smallest failing case


def test_the_examples_are_drawn_once_per_line_and_a_fresh_draw_is_the_same():
    hypo._DRAWN.clear()
    _, first = run(lambda x: 2 * x, batched=True)
    drawn = dict(hypo._DRAWN)
    _, again = run(lambda x: 2 * x, batched=True)
    assert hypo._DRAWN == drawn and again.seen == first.seen  # the second search reused the list
    hypo._DRAWN.clear()
    _, fresh = run(lambda x: 2 * x, batched=True)
    assert fresh.seen == first.seen  # derandomized: drawing again gives the very same examples
    _, other_budget = run(lambda x: 2 * x, batched=True, max_examples=10)
    assert len(hypo._DRAWN) == 2 and len(other_budget.seen) < len(first.seen)


def test_a_cached_draw_still_reports_the_one_by_one_search_s_shrunk_case():
    hypo._DRAWN.clear()
    run(lambda x: 2 * x, batched=True)  # fills the cache with a passing student's draw
    cached, _ = run(lambda x: 2 * x + (x > 500), batched=True)
    hypo._DRAWN.clear()
    slow, _ = run(lambda x: 2 * x + (x > 500), batched=False)
    assert cached == slow and "x=501" in cached[1]


def test_after_a_batch_hangs_the_search_finds_the_case_with_the_short_timeout():
    """The batch's timeout was paid once; reproducing the hang one by one costs the after-hang timeout,
    so a hanging line costs one call's timeout plus a short one, not two full ones."""
    outcome, worker = run(lambda x: None if x > 600 else 2 * x, batched=True)
    assert outcome[0] == "ItemTimedOut"
    batch = [t for op, t in worker.timeouts if op == "batch"]
    single = [t for op, t in worker.timeouts if op != "batch"]
    assert len(batch) == 1 and batch[0] > 2.0 and single and max(single) <= 2.0


def test_once_the_graded_name_has_hung_nothing_is_bundled():
    """A batch would likely hang again and cost a second timeout: the search goes one by one at once."""
    outcome, worker = run(lambda x: None if x > 600 else 2 * x, batched=True, name_hung=True)
    assert outcome[0] == "ItemTimedOut" and "batch" not in {op for op, _ in worker.timeouts}
    _, passing = run(lambda x: 2 * x, batched=True, name_hung=True)
    assert "batch" not in {op for op, _ in passing.timeouts} and len(passing.seen) >= 40


@pytest.mark.parametrize("batched", [True, False])
def test_the_examples_scale_draws_that_share_of_the_budget_and_every_hand_picked_case(batched):
    hypo._DRAWN.clear()
    _, full = run(lambda x: 2 * x, batched=batched)
    _, third = run(lambda x: 2 * x, batched=batched, examples_scale=0.34)
    assert len(full.seen) == 40 + 1 and len(third.seen) == 14 + 1  # 40 drawn (14 at a third) and x=3
    assert 3 in third.seen


def _search_with_typical(fn, typical):
    worker = FakeWorker(fn)
    ctx = CheckContext(line=SimpleNamespace(name="f", id="f.x"), session=worker, budget_s=30.0)

    def body(x: int) -> None:
        got = int(ctx.call(ops.Construct("f", {"x": x})).message)
        if got != 2 * x:
            raise hypo.Mismatch(f"f({x}) = {got}")

    with pytest.raises(Fail) as failed:
        hypo.search(ctx, st.integers(0, 1000), body, max_examples=40,
                    describe=lambda x, detail: f"x={x}: {detail}", typical=typical)
    return failed.value.feedback


def test_an_edge_case_is_followed_by_the_smallest_case_of_the_usual_range():
    # wrong everywhere: the minimal case is the edge x=0, then the smallest usual one (x >= 10)
    text = _search_with_typical(lambda x: 2 * x + 1, typical=lambda x: x >= 10)
    assert text.startswith("x=0: f(0) = 1")
    assert "fails in the usual range too" in text and "x=10: f(10) = 21" in text
    # wrong only at the edge: nothing more to show
    text = _search_with_typical(lambda x: 1 if x == 0 else 2 * x, typical=lambda x: x >= 10)
    assert text == "x=0: f(0) = 1"
    # a usual minimal case: shown alone
    text = _search_with_typical(lambda x: 2 * x + (x >= 50), typical=lambda x: x >= 10)
    assert text == "x=50: f(50) = 101"


def test_a_crash_keeps_the_case_sentence_and_drops_what_differs():
    told = hypo.crash_case(f"the update differs from torch.optim.Adam's. The case: Adam(lr=0.1), 1 step.\n"
                           f"{hypo.CRASH}\n```python\nx = 1\n```")
    assert told == "It happened on this case: Adam(lr=0.1), 1 step.\n```python\nx = 1\n```"
    told = hypo.crash_case(f"the learning rates differ on this case: {hypo.CRASH}\n```python\nx = 1\n```")
    assert told == "It happened on the case below.\n```python\nx = 1\n```"
    assert "differ" not in told
