"""Several examples per worker round trip, for ``hypo.search``: a fast path that can only say "every
example passed"; anything else is decided by the one-by-one search, which finds, shrinks and reports
exactly what it would have without this module.

Each example's check body runs once, unchanged, in a thread of its own, but never two at a time: the
bodies take turns (a baton), each running until it calls the worker or ends. The calls they are waiting
on go to the worker in one ``Batch`` round trip, in example order; the replies resume the bodies, and
so on until every body has ended. The worker answers each bundled request exactly as it would alone.

A body that fails, a student error, a tripwire, a batch that times out or kills the worker: the fast
path gives up at once (``run`` says "failed", or "hung" for a timeout) and the caller runs the ordinary
search.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from ..sandbox.runner import WorkerTimeout
from ..sandbox.worker import operations as ops
from ..sandbox.worker import protocol

MAX_PER_TRIP = 32  # requests bundled in one round trip (keeps one reply far below the protocol caps)


class _Cancelled(BaseException):
    """Ends a body still waiting for a reply when the fast path gives up (never caught by a body)."""


class _Turn:
    """One example's body: its thread, the request it waits on, and the baton it shares."""

    def __init__(self, example: Any) -> None:
        self.example = example
        self.request: protocol.Request | None = None
        self.reply: protocol.Response | BaseException | None = None
        self.failed: BaseException | None = None
        self.done = False
        self.cancelled = False
        self.go = threading.Semaphore(0)
        self.back = threading.Semaphore(0)

    def resume(self) -> None:
        """Let the body run until it calls the worker again or ends."""
        self.go.release()
        self.back.acquire()


class _Relay:
    """Stands in for the worker session while the bodies run: a call made in a body's thread parks the
    request and hands the baton back; anything else goes to the real session."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._local = threading.local()

    def call(self, request: protocol.Request, timeout: float,
             budget: float | None = None) -> protocol.Response:
        turn: _Turn | None = getattr(self._local, "turn", None)
        if turn is None:
            return self._session.call(request, timeout, budget=budget)
        turn.request = request
        turn.back.release()
        turn.go.acquire()
        reply, turn.reply, turn.request = turn.reply, None, None
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def _run(relay: _Relay, turn: _Turn, body: Callable[[Any], None]) -> None:
    relay._local.turn = turn
    turn.go.acquire()
    try:
        if not turn.cancelled:
            body(copy.deepcopy(turn.example))  # a body may change its example in place
    except BaseException as exc:  # noqa: BLE001 - any way out but a pass sends the check one by one
        turn.failed = exc
    turn.done = True
    turn.back.release()


def _send(ctx: Any, session: Any, turns: list[_Turn]) -> str:
    """One round trip for the requests ``turns`` wait on: "passed", "hung" (the batch timed out) or
    "failed" (anything else went wrong). A batch gets one call's timeout and at most a quarter of what is
    left of the item's budget, so that the one-by-one search still has the time to reproduce and report a
    hang."""
    wait = min(ctx.call_timeout_s, ctx.remaining() / 4)
    if wait <= 0:
        return "failed"
    batch = ops.Batch([{"op": t.request.op, "args": t.request.args} for t in turns],
                      {f"{i}/{k}": v for i, t in enumerate(turns) for k, v in t.request.tensors.items()})
    try:
        resp = session.call(batch.to_wire(), wait)
        if not resp.ok:
            return "failed"
        replies = ops.split_replies(ops.BatchReplies.from_wire(resp.value, resp.tensors, "batch"))
    except WorkerTimeout:
        return "hung"
    except Exception:  # noqa: BLE001 - a dead worker, a malformed reply: the slow path decides
        return "failed"
    if len(replies) != len(turns):
        return "failed"
    for turn, reply in zip(turns, replies, strict=True):
        turn.reply = reply
    return "passed"


def run(ctx: Any, body: Callable[[Any], None], examples: list) -> str:
    """"passed" when ``body`` passes on every example, its worker calls bundled; else, as soon as one
    does not, "hung" when a batch timed out and "failed" otherwise (a body failed, or the batching itself
    went wrong). ``ctx.session`` is the relay while this runs."""
    session = ctx.session
    relay = _Relay(session)
    turns = [_Turn(ex) for ex in examples]
    threads = [threading.Thread(target=_run, args=(relay, t, body), daemon=True) for t in turns]
    ctx.session = relay
    try:
        for thread in threads:
            thread.start()
        waiting = turns
        while waiting:
            asked = []
            for turn in waiting:
                turn.resume()
                if turn.failed is not None:
                    return "failed"
                if not turn.done:
                    asked.append(turn)
            for start in range(0, len(asked), MAX_PER_TRIP):
                sent = _send(ctx, session, asked[start:start + MAX_PER_TRIP])
                if sent != "passed":
                    return sent
            waiting = asked
        return "passed"
    finally:
        ctx.session = session
        for turn in turns:  # end the bodies not started yet or parked on a call
            if not turn.done:
                turn.cancelled, turn.reply = True, _Cancelled()
                turn.resume()
        for thread in threads:
            thread.join(timeout=1.0)
