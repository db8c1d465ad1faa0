"""The rubric is checked when it loads (every kind registered, one rubric object passed down), and the
one interface checker judges every family's contract the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import cli
from autograder.families import REGISTRY
from autograder.families.interface import REQUIRED, InterfaceSpec, problems
from autograder.grading import rubric as rubric_module
from autograder.grading.rubric import RUBRIC_DIR, RubricError, assignment_ids, load_rubric, read_rubric

ROW = '[[check]]\nid = "{id}"\nkind = "{kind}"\npoints = 1\n'


def _rubric(tmp_path: Path, *rows: tuple[str, str]) -> Path:
    path = tmp_path / "02_optimizers.toml"
    path.write_text(
        'assignment = "02_optimizers"\nmodule = "optimizers"\n\n'
        + "\n".join(ROW.format(id=i, kind=k) for i, k in rows)
    )
    return path


@pytest.mark.parametrize("assignment", assignment_ids())
def test_every_rubric_line_names_a_registered_kind(assignment):
    assert {line.kind for line in load_rubric(assignment).lines} <= set(REGISTRY)


def test_an_unknown_kind_is_refused_when_the_rubric_loads_naming_the_kind_and_the_file(tmp_path):
    path = _rubric(tmp_path, ("SGD.interface", "optimizer_interface"), ("SGD.speed", "optimizer_speed"))
    with pytest.raises(
        RubricError, match=r"02_optimizers.toml: rubric line SGD.speed has kind 'optimizer_speed'"
    ):
        read_rubric(path, "02_optimizers")


def test_a_well_formed_rubric_reads_as_the_shipped_one_does(tmp_path):
    shipped = RUBRIC_DIR / "02_optimizers.toml"
    assert read_rubric(shipped, "02_optimizers") == load_rubric("02_optimizers")
    assert read_rubric(_rubric(tmp_path, ("SGD.interface", "optimizer_interface"))).max_score == 1.0


def test_the_cli_stops_on_a_broken_rubric_before_grading_anything(tmp_path, monkeypatch, capsys):
    broken = _rubric(tmp_path, ("SGD.speed", "optimizer_speed"))
    monkeypatch.setattr(rubric_module, "RUBRIC_DIR", tmp_path)
    load_rubric.cache_clear()
    try:
        student = tmp_path / "alice.py"
        student.write_text("x = 1\n")
        code = cli.main(
            ["grade", "--assignment", "02_optimizers", str(student), "--out", str(tmp_path / "o")]
        )
    finally:
        load_rubric.cache_clear()
    assert code == 2 and "optimizer_speed" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and broken.exists()


# --- the one interface checker ------------------------------------------------------------------------


def _param(name, default=None, kind="POSITIONAL_OR_KEYWORD", has_default=None):
    return {
        "name": name,
        "kind": kind,
        "has_default": default is not None if has_default is None else has_default,
        "default": default,
    }


CLASS = InterfaceSpec(
    "Thing",
    "class",
    "`class Thing(Base)`",
    base="pkg.Base",
    base_label="Base",
    positional=("params",),
    params=(("lr", 1e-3), ("momentum", 0.0), ("size", REQUIRED)),
)
FUNCTION = InterfaceSpec(
    "batches", "function", "`def batches(n)`", positional=("n",), params=(("shuffle", True),)
)
ORDERED = InterfaceSpec(
    "Layer",
    "class",
    "`class Layer(Base)`",
    base="pkg.Base",
    base_label="Base",
    params=(("num", REQUIRED), ("eps", 1e-5)),
    ordered=True,
)


def _class(*params):
    return {"is_class": True, "callable": True, "mro": ["Thing", "pkg.Base"], "signature": list(params)}


@pytest.mark.parametrize(
    ("spec", "info", "expected"),
    [
        # torch writes momentum=0 (an int): defaults are compared by value, bools by identity
        (
            CLASS,
            _class(
                _param("params", has_default=False),
                _param("lr", 0.001),
                _param("momentum", 0),
                _param("size", has_default=False),
            ),
            [],
        ),
        (
            CLASS,
            _class(
                _param("params", has_default=False),
                _param("lr", 0.01),
                _param("momentum", False),
                _param("size", 3),
            ),
            [
                "parameter `lr` should default to 0.001, not 0.01",
                "parameter `momentum` should default to 0.0, not False",
                "`size` must be required (no default), not default to 3",
            ],
        ),
        (
            CLASS,
            _class(_param("lr", has_default=False), _param("params", has_default=False)),
            [
                "the parameters must start with params (in this order); yours start with lr",
                "parameter `lr` should default to 0.001, but it has no default",
                "missing parameter `momentum` (default 0.0)",
                "missing parameter `size`",
            ],
        ),
        (
            CLASS,
            {
                "is_class": True,
                "callable": True,
                "mro": ["Thing"],
                "signature": [
                    _param("params", has_default=False),
                    _param("lr", 0.001),
                    _param("momentum", 0.0),
                    _param("size", has_default=False),
                    _param("extra", has_default=False),
                    _param("args", kind="VAR_POSITIONAL", has_default=False),
                ],
            },
            ["`Thing` must be a class that subclasses Base", "extra parameters must be optional: extra"],
        ),
        (
            FUNCTION,
            {
                "is_class": True,
                "callable": True,
                "signature": [_param("n", has_default=False), _param("shuffle", True)],
            },
            ["`batches` must be a function"],
        ),
        (
            FUNCTION,
            {
                "is_class": False,
                "callable": True,
                "signature": [
                    _param("n", has_default=False, kind="KEYWORD_ONLY"),
                    _param("shuffle", True, kind="KEYWORD_ONLY"),
                ],
            },
            ["the parameters must start with n (in this order); yours start with nothing"],
        ),
        (
            ORDERED,
            _class(_param("eps", 1e-5), _param("num", has_default=False)) | {"mro": ["pkg.Base"]},
            ["the parameters should come in this order: num, eps"],
        ),
    ],
    ids=[
        "torch-style",
        "wrong-defaults",
        "order-and-missing",
        "base-and-extra",
        "not-a-function",
        "keyword-only-positional",
        "order",
    ],
)
def test_one_interface_checker_for_every_family(spec, info, expected):
    assert problems(info, spec) == expected
