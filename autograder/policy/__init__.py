"""The kit's submission policy: what a submission may use, decided on the syntax tree before any of its
code runs (``tables`` holds the whole policy; see its docstring).

Standard library only, no kit imports: the grader uses it, and ``make release`` joins its modules into
one standalone ``check_submission.py`` that ships with every notebook (``standalone_text``). It is
static evidence, a flag for a TA; what decides a score lives elsewhere (``sandbox/guards.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

from .bindings import dotted, effective_bindings, top_level_bindings
from .cli import GRADED_NAMES, check_file, main
from .notebook import (
    EXPERIMENT_TAG,
    TEST_PREFIX,
    describe_line,
    drop_ipython_calls,
    drop_magics,
    graded_code,
    graded_source,
    is_experiment_cell,
    is_solution_cell,
    is_test_cell,
    nbgrader_meta,
    tested_name,
)
from .report import PolicyReport, Violation, is_delegation, path_problem, verdicts
from .tables import *  # noqa: F403  (the tables are the policy's public face)
from .tables import KIT_PACKAGES
from .visitor import check_source

__all__ = [
    "EXPERIMENT_TAG", "GRADED_NAMES", "KIT_PACKAGES", "TEST_PREFIX",
    "PolicyReport", "Violation", "check_file", "check_source", "describe_line", "dotted",
    "drop_ipython_calls", "drop_magics", "effective_bindings", "graded_code", "graded_source",
    "is_delegation", "is_experiment_cell", "is_solution_cell", "is_test_cell", "main", "nbgrader_meta",
    "path_problem", "standalone_text", "tested_name", "top_level_bindings", "verdicts",
]

# The order of the standalone copy: the tables first (its docstring is the file's), the command line last.
PARTS = ("tables", "notebook", "report", "bindings", "visitor", "cli")
HERE = Path(__file__).parent


def _split(text: str) -> tuple[str, list[str], str]:
    """(module docstring, stdlib import statements, the rest) of one part."""
    tree = ast.parse(text)
    lines = text.split("\n")
    drop: set[int] = set()
    doc, imports = "", []
    for i, node in enumerate(tree.body):
        span = range(node.lineno - 1, node.end_lineno)
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            doc = str(node.value.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__")):
                imports.append(ast.get_source_segment(text, node))
        else:
            continue
        drop.update(span)
    return doc, imports, "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")


def standalone_text() -> str:
    """The whole policy as one standalone module (what ``make release`` ships as ``check_submission.py``):
    the parts in ``PARTS`` order, their imports merged, each introduced by its own docstring."""
    split = {name: _split((HERE / f"{name}.py").read_text(encoding="utf-8")) for name in PARTS}
    defined: dict[str, str] = {}
    for name, (_, _, body) in split.items():
        for node in ast.parse(body).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                targets = [node.name]
            else:
                nodes = getattr(node, "targets", [getattr(node, "target", None)])
                targets = [t.id for t in nodes if isinstance(t, ast.Name)]
            for target in targets:
                if target in defined and target != "__all__":
                    raise ValueError(f"policy/{name}.py and policy/{defined[target]}.py both define {target}")
                defined[target] = name
    imports = sorted({imp for _, imps, _ in split.values() for imp in imps},
                     key=lambda s: (s.startswith("from"), s))
    doc = split[PARTS[0]][0]
    out = [f'"""{doc}"""', "", "from __future__ import annotations", "", *imports]
    for name in PARTS:
        doc = "" if name == PARTS[0] else split[name][0].strip()
        header = [f"# {line}".rstrip() for line in doc.splitlines()]
        rule = f"# {'=' * 30} policy/{name}.py {'=' * (60 - len(name))}"
        out += ["", "", rule, *header, "", split[name][2]]
    return "\n".join(out) + "\n"
