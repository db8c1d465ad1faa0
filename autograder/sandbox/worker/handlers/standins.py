"""How a trusted stand-in takes a graded name's place in the student's module while another graded name
is graded. The stand-ins themselves are not here: the grader sends their source with the load request,
only to the workers that need them (``autograder/sandbox/standins/``), and ``Context.standin`` hands
them to the handlers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def substituted(namespace: dict | None, name: str, standin: object) -> Iterator[None]:
    """Bind ``name`` to ``standin`` in a module's ``namespace`` for the block (restored afterwards, even
    when it was absent); ``None``: nothing is replaced. Trusted code only (the grader's twins use it too)."""
    if namespace is None:
        yield
        return
    missing = object()
    original = namespace.get(name, missing)
    namespace[name] = standin
    try:
        yield
    finally:
        if original is missing:
            namespace.pop(name, None)
        else:
            namespace[name] = original
