"""The packages of the kit import downwards only (no import circle): the records every layer shares, the
policy, the sandbox, the checks (families), the reporters (pure functions of records), the grading
pipeline, then what runs it (course tasks, the command line). Read from the syntax trees of the kit's
own files, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# lowest first; a package may import its own layer and the ones before it
LAYERS = [
    {"autograder.records"},
    {"autograder.policy"},
    {"autograder.sandbox"},
    {"autograder.families"},
    {"autograder.reporters"},
    {"autograder.grading"},
    {"autograder.tasks", "autograder.cli", "autograder.__main__"},
]


def _layer(module: str) -> int | None:
    for i, packages in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return i
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                found += [(node.lineno, n) for n in names]
            elif node.module:
                found.append((node.lineno, node.module))
    return found


# the worker package is copied into the sandbox and imports only itself (relative imports)
FILES = [p for p in sorted((ROOT / "autograder").rglob("*.py"))
         if "worker" not in p.parts and p != ROOT / "autograder/__init__.py"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_the_layers(path):
    own = _layer(_module_name(path))
    assert own is not None, f"{path} belongs to no layer: add its package to LAYERS"
    upward = [f"line {line}: {name}" for line, name in _imports(path)
              if (other := _layer(name)) is not None and other > own]
    assert not upward, f"{_module_name(path)} imports a higher layer: {upward}"
