"""Hypothesis inside the grader: search for an input on which the student's code disagrees with the
reference, shrink it, and report the minimal case. Each example is one (or a few) round trips.

Settings are fixed for reproducible grades: ``derandomize=True`` (the seed comes from the test's
identity), no example database, no deadline (the worker's own deadlines apply). Hypothesis' own files
(its storage directory, ``.hypothesis/`` in the current folder by default, where it caches the constants
of local modules) go to a private temporary folder per process, so grading writes nothing into the
folder it runs from but its output folder.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import configuration as hypothesis_configuration
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from ..sandbox.runner import WorkerDied, WorkerTimeout
from . import batched
from .base import CheckContext, Fail, ItemTimedOut, StudentError

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # an explicit choice is kept
    _STORAGE = tempfile.mkdtemp(prefix="kit-hypothesis-")
    atexit.register(shutil.rmtree, _STORAGE, True)
    hypothesis_configuration.set_hypothesis_home_dir(_STORAGE)


class Mismatch(AssertionError):
    """The student's output differs from the reference on one example; ``detail`` explains how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Abort(BaseException):
    """Stop the search at once (a BaseException, so hypothesis neither catches nor shrinks it)."""

    def __init__(self, feedback: str, timed_out: bool) -> None:
        super().__init__(feedback)
        self.feedback = feedback
        self.timed_out = timed_out


MAX_DEATHS = 3
# Examples tried by ``search`` in this process so far (hypothesis' and hand-picked ones, shrinking
# included): ``make bench`` reads the difference around each rubric line. Nothing grades with it.
examples_tried = 0
# Several examples per worker round trip (``batched``): only a pass is decided there; every other
# outcome is the one-by-one search's, so the reported (shrunk) case does not depend on this switch.
BATCHED = True
# (rubric line, strategy, budget) -> the examples hypothesis drew for them: with ``derandomize=True`` and
# ``attempt``'s fixed text, a second draw gives the very same list, so it is drawn once per process.
_DRAWN: dict[tuple[str, str, int], list] = {}


def _counted(body: Callable[[Any], None]) -> Callable[[Any], None]:
    def counted(example: Any) -> None:
        global examples_tried
        examples_tried += 1
        body(example)

    return counted


def search(
    ctx: CheckContext,
    strategy: st.SearchStrategy,
    body: Callable[[Any], None],
    *,
    max_examples: int,
    describe: Callable[[Any, str], str],
    explicit: list | tuple = (),
    typical: Callable[[Any], bool] | None = None,
) -> None:
    """Run ``body(example)`` over examples of ``strategy``; on failure raise ``Fail`` whose feedback
    is ``describe(minimal_example, detail)``. Student exceptions count as failures (and shrink).
    With ``BATCHED`` the examples first run bundled (``batched.run``); only when one of them does
    not pass does the search run them one by one (and shrink).

    ``attempt`` below must keep its exact source text: with ``derandomize=True`` hypothesis seeds the
    examples from it (``function_digest``), so editing it changes every example a check draws.

    ``typical(example)``: whether an example lies in the contract's usual range. When the minimal
    failing case does not (``p=0``, ``lr=0``, an empty batch: an edge that invites a special case
    rather than the fix), the smallest failing case in the usual range is shown after it."""
    # Long on purpose: attempt is a closure over this state and its text seeds hypothesis (see above),
    # so the batched pass, the search and the shrink stay together here.
    max_examples = max(1, math.ceil(max_examples * ctx.examples_scale))
    checked = _counted(body)
    collected: list = []
    body = collected.append  # first pass (BATCHED): only note hypothesis' examples, run nothing
    last: dict[str, Any] = {}
    deaths = [0]

    def attempt(example: Any) -> None:
        try:
            body(example)
        except Mismatch as exc:
            last.update(example=example, detail=exc.detail, error=None)
            raise
        except StudentError as exc:
            last.update(example=example, detail=None, error=exc)
            raise
        except WorkerTimeout:
            # Shrinking over hangs only burns time: report this example and stop.
            raise _Abort(
                describe(example, "your code did not finish in time (worker killed)"), True
            ) from None
        except WorkerDied as exc:
            deaths[0] += 1
            detail = f"the worker process died: {exc.reason}"
            last.update(example=example, detail=detail, error=None)
            if deaths[0] >= MAX_DEATHS:
                raise _Abort(describe(example, detail), False) from None
            raise Mismatch(detail) from None

    prop = _settings(max_examples)(given(strategy)(attempt))
    # Bundled only while the graded name has not hung: once it has, a batch would likely time out too,
    # and the one-by-one search would pay a second timeout to find the case.
    if BATCHED and not ctx.name_hung:
        # The same property, so the same derandomized examples as the one-by-one search draws; they
        # depend only on the strategy and the budget, so each line draws them once per grader process.
        key = (ctx.line.id, repr(strategy), max_examples)
        if key not in _DRAWN:
            prop()
            _DRAWN[key] = collected
        outcome = batched.run(ctx, checked, [*_DRAWN[key], *explicit])
        if outcome == "passed":
            return
        if outcome == "hung":  # the worker was killed: the search below only has to find which case
            ctx.call_timeout_s = min(ctx.call_timeout_s, ctx.after_hang_call_s)
    body = checked
    try:
        prop()
        # Hand-picked cases (one per hyper-parameter) run after the random search, so that a bug the
        # search can find is reported shrunk; the hand-picked ones are small to begin with.
        for ex in explicit:
            attempt(ex)
    except _Abort as abort:
        if abort.timed_out:
            raise ItemTimedOut(abort.feedback) from None
        raise Fail(abort.feedback) from None
    except (Mismatch, StudentError, Flaky, AssertionError):
        pass
    except Exception as exc:  # hypothesis wraps some failures (e.g. ExceptionGroup); use what we recorded
        if not last:
            raise exc
    else:
        return
    if not last:
        raise Fail("the check failed but the failing example could not be reproduced")
    if last.get("error") is not None:
        err: StudentError = last["error"]
        raise StudentError(err.info, err.op, crash_case(describe(last["example"], CRASH)))
    feedback = describe(last["example"], last["detail"])
    if typical is not None and not typical(last["example"]):
        usual = _typical_case(strategy.filter(typical), checked, max_examples)
        if usual is not None:
            feedback += ("\nThat smallest case is an edge value. The same check fails in the usual range "
                         "too, which is the case to fix first: " + describe(*usual))
    raise Fail(feedback)


def _settings(max_examples: int) -> settings:
    """Reproducible grades: derandomized, no example database, no deadline (the worker's apply)."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
                    report_multiple_bugs=False, print_blob=False)


CRASH = "\x00crash\x00"  # the detail a crash passes to ``describe``: replaced by crash_case


def crash_case(text: str) -> str:
    """A family's description of a failing case, told of a crash: the exception (printed above it by the
    engine) happened on this case. What the family says differs is dropped (nothing was compared); its
    one-sentence case ("The case: ...") and its reproducer stay."""
    head, _, tail = text.partition(CRASH)
    said = head[head.find("The case:") + len("The case:"):] if "The case:" in head else ""
    said = " ".join(said.split()).rstrip(":")
    return f"It happened on this case: {said}{tail}" if said else f"It happened on the case below.{tail}"


def _typical_case(strategy: st.SearchStrategy, body: Callable[[Any], None],
                  max_examples: int) -> tuple[Any, str] | None:
    """The minimal failing (example, detail) of ``body`` over ``strategy``, None when none fails (a
    student's crash there counts as no case: the edge case already shows it)."""
    found: dict[str, Any] = {}

    def usual(example: Any) -> None:
        try:
            body(example)
        except Mismatch as exc:
            found.update(example=example, detail=exc.detail)
            raise

    try:
        _settings(max_examples)(given(strategy)(usual))()
    except Exception:  # noqa: BLE001 - whatever ended the search, the recorded case is the answer
        pass
    return (found["example"], found["detail"]) if found else None
