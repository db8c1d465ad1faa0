"""The mutation operators on small snippets: each produces exactly the expected mutant text, with a
deterministic id, only inside graded definitions (and the helpers they use), and every splice parses
to the intended tree. Plus generation over the three real solutions."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from autograder.grading.rubric import assignment_ids
from autograder.tasks.mutants.generate import focused_source, generate, load_solution

GD = "01_gradient_descent"
ID = re.compile(r"^[A-Za-z_]\w*:L\d+:[\w.\-+>']+#\d+$")


def mutants_of(tmp_path: Path, body: str, prelude: str = "import copy\nimport torch\n", extra: str = ""):
    """Mutants of ``minibatches`` (a graded name of 01) whose body is ``body``."""
    source = prelude + "\n\ndef minibatches(n, batch_size, *, shuffle=True, generator=None):\n"
    source += textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n" + extra
    path = tmp_path / "gradient_descent.py"
    path.write_text(source)
    solution = load_solution(GD, path)
    generated = generate(solution)
    assert generated.rejected == []
    return source, generated.mutants


def changed_lines(source: str, mutant_source: str) -> tuple[list[str], list[str]]:
    old, new = source.splitlines(), mutant_source.splitlines()
    import difflib

    removed, added = [], []
    for line in difflib.unified_diff(old, new, lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:].strip())
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:].strip())
    return removed, added


def by_label(mutants, prefix: str) -> dict[str, list[str]]:
    """The mutants' sources by label, in source order."""
    found: dict[str, list[str]] = {}
    for m in mutants:
        if m.label.startswith(prefix):
            found.setdefault(m.label, []).append(m.source)
    return found


@pytest.mark.parametrize(
    ("body", "label", "old", "new"),
    [
        ("return n - batch_size", "binop-Sub->Add", "return n - batch_size", "return n + batch_size"),
        (
            "return (n + 1) * batch_size",
            "binop-Mult->Div",
            "return (n + 1) * batch_size",
            "return (n + 1) / batch_size",
        ),
        ("n += 1\nreturn n", "binop-Add->Sub", "n += 1", "n -= 1"),
        ("return n ** 2", "binop-Pow->Mult", "return n ** 2", "return n * 2"),
        ("return n - batch_size", "swap-operands-Sub", "return n - batch_size", "return batch_size - n"),
        (
            "return 1 - (n - batch_size)",
            "swap-operands-Sub",
            "return 1 - (n - batch_size)",
            "return (n - batch_size) - 1",
        ),
        ("if n < 1:\n    return 0\nreturn n", "cmp-Lt->LtE", "if n < 1:", "if n <= 1:"),
        ("if n < 1:\n    return 0\nreturn n", "cmp-Lt->Gt", "if n < 1:", "if n > 1:"),
        (
            "return generator is None",
            "cmp-Is->IsNot",
            "return generator is None",
            "return generator is not None",
        ),
        ("return shuffle and n > 0", "boolop-And->Or", "return shuffle and n > 0", "return shuffle or n > 0"),
        ("return -n", "unary-drop-USub", "return -n", "return n"),
        ("return not shuffle", "unary-drop-Not", "return not shuffle", "return shuffle"),
        (
            "return n and not (shuffle or batch_size)",
            "unary-drop-Not",
            "return n and not (shuffle or batch_size)",
            "return n and (shuffle or batch_size)",
        ),
        ("x = 0\nreturn x", "const-0->1", "x = 0", "x = 1"),
        ("x = 0\nreturn x", "const-0->-1", "x = 0", "x = -1"),
        ("x = 7\nreturn x", "const-7->8", "x = 7", "x = 8"),
        ("x = 7\nreturn x", "const-7->6", "x = 7", "x = 6"),
        ("return n + 1e-08", "const-1e-08->0.0", "return n + 1e-08", "return n + 0.0"),
        ("return n + 1e-08", "const-1e-08->1.00000001", "return n + 1e-08", "return n + 1.00000001"),
        ("return True", "const-True->False", "return True", "return False"),
        ("x = n\nreturn x", "stmt-drop-Assign", "x = n", "pass"),
        (
            "return torch.full((n,), batch_size)",
            "swap-args-0-1",
            "return torch.full((n,), batch_size)",
            "return torch.full(batch_size, (n,))",
        ),
        (
            "return torch.ones(n).add(1)",
            "inplace-add->add_",
            "return torch.ones(n).add(1)",
            "return torch.ones(n).add_(1)",
        ),
        ("t = torch.ones(n)\nt.mul_(2)\nreturn t", "outofplace-mul_->mul", "t.mul_(2)", "t.mul(2)"),
        (
            "return torch.ones(n).clone()",
            "drop-call-clone",
            "return torch.ones(n).clone()",
            "return torch.ones(n)",
        ),
        (
            "return torch.ones(n).detach()",
            "drop-call-detach",
            "return torch.ones(n).detach()",
            "return torch.ones(n)",
        ),
        (
            "return copy.deepcopy(generator)",
            "drop-call-deepcopy",
            "return copy.deepcopy(generator)",
            "return generator",
        ),
        (
            "return torch.randperm(n, generator=generator)",
            "kwarg-drop-generator",
            "return torch.randperm(n, generator=generator)",
            "return torch.randperm(n)",
        ),
        (
            "return torch.ones(n).add(1, alpha=batch_size)",
            "kwarg-negate-alpha",
            "return torch.ones(n).add(1, alpha=batch_size)",
            "return torch.ones(n).add(1, alpha=-batch_size)",
        ),
        (
            "return torch.ones(n).add(1, alpha=1 - n)",
            "kwarg-negate-alpha",
            "return torch.ones(n).add(1, alpha=1 - n)",
            "return torch.ones(n).add(1, alpha=-(1 - n))",
        ),
        ("if shuffle:\n    return 1\nreturn 0", "negate-if", "if shuffle:", "if not shuffle:"),
        (
            "return 1 if shuffle else 0",
            "negate-ifexp",
            "return 1 if shuffle else 0",
            "return 1 if not shuffle else 0",
        ),
        ("a = n\nb = batch_size\nreturn b", "return-b->a", "return b", "return a"),
    ],
)
def test_operator_makes_exactly_the_expected_change(tmp_path, body, label, old, new):
    source, mutants = mutants_of(tmp_path, body)
    found = by_label(mutants, label)
    assert label in found, f"no {label} mutant among {[m.label for m in mutants]}"
    changes = [changed_lines(source, text) for text in found[label]]
    assert ([old], [new]) in changes, changes


def test_with_and_decorator_removal_keep_the_body(tmp_path):
    extra = textwrap.dedent(
        """
        class PowerDecayLR:
            @staticmethod
            def helper():
                return 1

            @torch.no_grad()
            def get_lr(self):
                with torch.no_grad():
                    x = torch.ones(2)  # a comment stays
                    y = x * 2
                return y
        """
    )
    source, _ = mutants_of(tmp_path, "return n", extra=extra)
    mutants = generate(load_solution(GD, tmp_path / "gradient_descent.py")).mutants
    labels = {m.label: m for m in mutants if m.definition == "PowerDecayLR"}
    assert "decorator-drop-staticmethod" not in labels
    removed, added = changed_lines(source, labels["decorator-drop-torch.no_grad"].source)
    assert (removed, added) == (["@torch.no_grad()"], [])
    mutant = labels["with-drop-torch.no_grad"].source
    assert "        x = torch.ones(2)  # a comment stays\n        y = x * 2\n        return y" in mutant
    assert "with torch.no_grad()" not in mutant.split("def get_lr")[1]


def test_docstrings_error_messages_and_fstrings_are_not_mutated(tmp_path):
    body = '''
    """Docstring 1 + 2."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least {1 + 0}, got {batch_size - 0}")
    return n
    '''
    source, mutants = mutants_of(tmp_path, body)
    for m in mutants:
        removed, added = changed_lines(source, m.source)
        assert not any("Docstring" in line for line in removed), m.id
        assert not any("must be at least" in line for line in added if line != "pass"), m.id


def test_only_graded_definitions_and_their_helpers_are_mutated(tmp_path):
    prelude = (
        "import torch\nSCALE = 2 * 3\n\n\ndef unused(a):\n    return a - 1\n\n\n"
        "def helper(a):\n    return a - 1\n"
    )
    source, mutants = mutants_of(
        tmp_path,
        "return helper(n)",
        prelude=prelude,
        extra="\n\ndef fit(model):\n    return minibatches(1, 1)\n",
    )
    definitions = {m.definition for m in mutants}
    assert definitions == {"helper", "minibatches", "fit"}
    helper = [m for m in mutants if m.definition == "helper"]
    assert helper and all(m.owners == ("minibatches", "fit") for m in helper)
    untouched = ("SCALE = 2 * 3\n", "def unused(a):\n    return a - 1\n")
    assert all(text in m.source for m in mutants for text in untouched)


def test_ids_are_deterministic_unique_and_well_formed(tmp_path):
    body = "x = 0\ny = 0\nreturn x + y + x + y"
    _, first = mutants_of(tmp_path, body)
    _, second = mutants_of(tmp_path, body)
    assert [m.id for m in first] == [m.id for m in second]
    assert [m.source for m in first] == [m.source for m in second]
    ids = [m.id for m in first]
    assert len(set(ids)) == len(ids)
    assert all(ID.match(i) for i in ids), [i for i in ids if not ID.match(i)]
    # Two binops of one kind on one line are told apart by their occurrence number.
    assert {"minibatches:L8:binop-Add->Sub#1", "minibatches:L8:binop-Add->Sub#2"} <= set(ids)


@pytest.mark.parametrize("assignment", assignment_ids())
def test_every_mutant_of_a_solution_parses_differs_and_is_spliced_exactly(assignment):
    solution = load_solution(assignment)
    generated = generate(solution)
    assert generated.rejected == []
    assert len([m for m in generated.mutants if m.kind == "mechanical"]) > 50
    for kind in ("mechanical", "semantic"):  # unique within a kind (a misreading may repeat a slip)
        sources = [m.source for m in generated.mutants if m.kind == kind]
        assert len(set(sources)) == len(sources) and solution.source not in sources
    for m in generated.mutants:
        ast.parse(m.source)
        assert set(m.owners) <= set(solution.graded)
    assert {m.definition for m in generated.mutants} == set(solution.rubric.graded_names)


def test_focused_source_keeps_the_mutated_name_its_users_and_what_it_uses():
    gd = load_solution(GD)
    assert gd.keep_for(("minibatches",)) == {"minibatches", "fit"}
    assert gd.keep_for(("fit",)) == {"fit", "minibatches"}
    assert gd.keep_for(("PowerDecayLR",)) == {"PowerDecayLR"}
    reg = load_solution("03_regularization")
    assert reg.keep_for(("BatchNormFunction",)) == {"BatchNormFunction", "BatchNorm1d", "BatchNorm2d"}
    assert reg.keep_for(("BatchNorm2d",)) == {"BatchNorm2d", "BatchNormFunction"}
    focused = focused_source(reg, reg.source, reg.keep_for(("Dropout",)))
    tree = ast.parse(focused)
    names = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    assert names == {"Dropout"}
    assert "import torch" in focused
