"""The worker's handler registry and what every handler shares: the student's module (``Context``) and
the one way an exception becomes plain JSON. Imports nothing of the handlers (no import cycle):
handler modules register themselves here, ``serve`` looks them up."""

from __future__ import annotations

import traceback
import types
from collections.abc import Callable
from typing import Any

from . import protocol

Handler = Callable[["Context", dict, dict], protocol.Response]
HANDLERS: dict[str, Handler] = {}


def handler(op: str):
    """Register a request handler under ``op``."""

    def deco(fn: Handler) -> Handler:
        HANDLERS[op] = fn
        return fn

    return deco


class MissingName(Exception):
    """The submission does not define a graded name."""


class MissingStandIn(Exception):
    """A handler needs a stand-in this worker was not given (the grader's recipe is wrong)."""


class Context:
    """What handlers share: the student's module (once loaded), its file name, and the trusted stand-ins
    this worker was given (name -> the namespace their source defined)."""

    def __init__(self) -> None:
        self.module: types.ModuleType | None = None
        self.filename = "<submission>"
        self.standins: dict[str, dict] = {}

    def standin(self, name: str, attr: str) -> Any:
        """``attr`` of the stand-in ``name``; ``MissingStandIn`` (a grader fault) if it was not sent."""
        try:
            return self.standins[name][attr]
        except KeyError:
            raise MissingStandIn(f"this worker was not given the stand-in {name}.{attr}") from None

    def graded(self, name: str) -> Any:
        """The student's object called ``name``; ``MissingName`` (reported as missing) if absent."""
        if self.module is None:
            raise RuntimeError("the submission is not loaded")
        try:
            return self.module.__dict__[name]
        except KeyError:
            raise MissingName(name) from None


def message_of(exc: BaseException, limit: int = 2000) -> str:
    """``str(exc)``, cut to ``limit`` characters; a hostile ``__str__`` must not take the worker down."""
    try:
        return str(exc)[:limit]
    except Exception:  # noqa: BLE001 - whatever the student's exception does
        return "<unprintable message>"


def describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    """An exception that ended a request: type, message and the student's own frames only (never the
    worker's internals)."""
    frames = [
        {"line": f.lineno, "function": f.name, "code": (f.line or "").strip()}
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename == filename
    ]
    return {
        "type": type(exc).__name__,
        "message": message_of(exc),
        "frames": frames[-5:],
        "missing": isinstance(exc, MissingName),
    }


def raised(exc: BaseException) -> dict[str, Any]:
    """An exception a handler caught on purpose (does this raise ValueError?): its type, message and
    the names of its classes, so the grader can tell a ``ValueError`` subclass."""
    return {"raised": type(exc).__name__, "message": message_of(exc, 500),
            "mro": [c.__name__ for c in type(exc).__mro__]}
