"""``make similarity``: TA-side similarity evidence (copydetect), never a score.

The thresholds are calibrated on the corpus: copies (a pasted torch Adam, a classmate's file renamed and
reformatted) are flagged, independently written correct solutions are not, against each other or torch.
Every class here is built in a temporary folder from ``tests/submissions``; nothing is run.
"""

from __future__ import annotations

import ast
import builtins
import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.tasks import similarity as sim

SUBMISSIONS = Path(__file__).resolve().parents[1] / "submissions"
ASSIGNMENTS = ("01_gradient_descent", "02_optimizers", "03_regularization")
# 02's torch_signature.py is loop.py with torch's int defaults and eager Adagrad state, by the same
# author: a near-copy of loop.py (flagged at 0.97), not an independent solution.
NOT_INDEPENDENT = {"torch_signature.py"}
CORRECT = [(a, f.name) for a in ASSIGNMENTS for f in sorted((SUBMISSIONS / a / "correct").glob("*.py"))]


def correct(assignment: str, name: str) -> str:
    return (SUBMISSIONS / assignment / "correct" / name).read_text(encoding="utf-8")


def top_level(text: str, name: str) -> ast.AST:
    return next(n for n in ast.parse(text).body if getattr(n, "name", None) == name)


def pasted_adam() -> str:
    """correct/loop.py with its Adam replaced by torch's own (class and loop kernel), lightly edited as a
    student would: torch's decorator swapped for ``torch.no_grad()``, the kernel renamed and called
    directly."""
    text = correct("02_optimizers", "loop.py")
    node = top_level(text, "Adam")
    lines = text.splitlines(keepends=True)
    own = "".join(lines[: node.lineno - 1] + lines[node.end_lineno:])
    torch_adam = (sim._torch_root() / "optim" / "adam.py").read_text(encoding="utf-8")
    cls = ast.get_source_segment(torch_adam, top_level(torch_adam, "Adam"))
    cls = cls.replace("@_use_grad_for_differentiable", "@torch.no_grad()")
    cls = re.sub(r"\n(\s*)adam\(", r"\n\1_adam_update(", cls)
    kernel = ast.get_source_segment(torch_adam, top_level(torch_adam, "_single_tensor_adam"))
    return "\n\n\n".join([own, cls, kernel.replace("_single_tensor_adam", "_adam_update")]) + "\n"


class _Rename(ast.NodeTransformer):
    def __init__(self, keep: set[str]):
        self.keep = keep

    def visit_Name(self, node):
        node.id = node.id if node.id in self.keep else f"{node.id}_v"
        return node

    def visit_arg(self, node):
        node.arg = node.arg if node.arg in self.keep else f"{node.arg}_v"
        return node


def renamed_and_reformatted(text: str, line_length: int) -> str:
    """Every local name and argument renamed, comments dropped (``ast.unparse``), then ``ruff format``
    at another line length: what a student does to hide a classmate's file."""
    tree = ast.parse(text)
    keep = set(dir(builtins)) | {"self", "cls", "ctx", "params"}
    keep |= {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    keep |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
             if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    source = ast.unparse(_Rename(keep).visit(tree))
    command = [sys.executable, "-m", "ruff", "format", "--isolated", "--line-length", str(line_length), "-"]
    done = subprocess.run(command, input=source, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout != text
    return done.stdout


def make_class(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return sorted(folder / name for name in files)


def find(report: sim.Report, a: str, b: str) -> sim.Pair:
    return next(p for p in report.pairs if {p.a, p.b} == {a, b})


# --- (1) torch's own source ------------------------------------------------------------------------


def test_a_pasted_torch_adam_is_flagged_against_torch(tmp_path):
    paths = make_class(tmp_path / "class", {"alice.py": pasted_adam(),
                                            "bob.py": correct("02_optimizers", "functional.py")})
    report = sim.similarity_report("02_optimizers", paths)
    pasted = find(report, "alice", "torch/optim/adam.py")
    assert pasted.flagged and pasted.similarity_a > 0.6 and pasted.similarity_b > 0.6  # measured 0.67, 0.72
    assert pasted.spans_a and pasted.spans_b
    assert [p for p in report.flagged if "bob" in (p.a, p.b)] == []


# --- (2) a classmate's copy, renamed and reformatted -------------------------------------------------


# per assignment, the correct file whose disguised copy scores lowest (all ten measured: README)
DISGUISED = [("01_gradient_descent", "functional.py"), ("02_optimizers", "foreach.py"),
             ("03_regularization", "loop.py")]


@pytest.mark.parametrize(("assignment", "name"), DISGUISED)
def test_a_renamed_and_reformatted_copy_is_flagged(tmp_path, assignment, name):
    text = correct(assignment, name)
    paths = make_class(tmp_path / "class", {"alice.py": text, "bob.py": renamed_and_reformatted(text, 88)})
    copy = find(sim.similarity_report(assignment, paths), "alice", "bob")
    assert copy.flagged and min(copy.similarity_a, copy.similarity_b) > 0.8  # measured 0.84 and up


# --- (3) honest students ----------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_independent_correct_solutions_are_not_flagged(tmp_path, assignment):
    files = {name: correct(assignment, name) for a, name in CORRECT
             if a == assignment and name not in NOT_INDEPENDENT}
    report = sim.similarity_report(assignment, make_class(tmp_path / "class", files))
    assert len(report.students) == len(files) >= 3 and report.skipped == [] and report.stub
    assert report.flagged == []
    # a margin, not just under the line: the highest is 0.27 (02 loop.py vs torch's sgd.py, written after
    # torch's for-loop code), then 0.24 between two students (03 classes.py vs loop.py)
    assert max(p.score for p in report.pairs) < 0.35


def test_the_released_stub_counts_for_no_one(tmp_path):
    """Two students handing in the untouched notebook share only boilerplate: nothing matches."""
    stub = (sim.ROOT / "assignments" / "02_optimizers" / "02_optimizers.ipynb").read_text(encoding="utf-8")
    paths = make_class(tmp_path / "class", {"alice.ipynb": stub, "bob.ipynb": stub})
    report = sim.similarity_report("02_optimizers", paths)
    assert report.students == ["alice", "bob"] and report.flagged == []
    assert find(report, "alice", "bob").token_overlap == 0


# The sample classes: bob, carol and dave are single-bug mutations of one correct file (in 02 so is
# alice: all four come from correct/loop.py), so they are near-copies and must be flagged; erin's syntax
# error keeps her out of every comparison.
SAMPLE_FLAGS = {
    "01_gradient_descent": {("bob", "carol"), ("bob", "dave"), ("carol", "dave")},
    "02_optimizers": {("alice", "bob"), ("alice", "carol"), ("alice", "dave"), ("bob", "carol"),
                      ("bob", "dave"), ("carol", "dave")},
    "03_regularization": {("bob", "carol"), ("bob", "dave"), ("carol", "dave")},
}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_sample_class_flags_its_near_copies_only(assignment):
    paths = sorted((SUBMISSIONS / assignment / "sample_class").iterdir())
    report = sim.similarity_report(assignment, paths)
    assert [s for s, _ in report.skipped] == ["erin"] and "SyntaxError" in report.skipped[0][1]
    assert {(p.a, p.b) for p in report.flagged} == SAMPLE_FLAGS[assignment]
    assert min(p.score for p in report.flagged) > 0.9


# --- (4) the command line ---------------------------------------------------------------------------


def test_the_command_writes_the_page_and_the_csv(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "ran"
    hostile = correct("02_optimizers", "loop.py") + (
        f"\n# </pre><script>alert(1)</script>\nopen({str(marker)!r}, 'w').write('student code ran')\n")
    paths = make_class(tmp_path / "class", {"alice.py": hostile, "bob.py": hostile,
                                            "carol.py": correct("02_optimizers", "foreach.py"),
                                            "erin.py": "def broken(:\n"})
    monkeypatch.chdir(tmp_path)  # the default output folder is relative: grades/similarity/<assignment>
    assert main(["similarity", "--assignment", "02_optimizers", *map(str, paths)]) == 0
    out = tmp_path / "grades" / "similarity" / "02_optimizers"
    assert sorted(p.name for p in out.iterdir()) == ["similarity.csv", "similarity.html"]
    assert not marker.exists()  # read, never run
    assert "1 pair(s) flagged" in capsys.readouterr().out

    rows = list(csv.DictReader((out / "similarity.csv").open(encoding="utf-8")))
    assert list(rows[0]) == sim.CSV_COLUMNS
    best = rows[0]
    assert (best["student_a"], best["student_b_or_torch_source"], best["flagged"]) == ("alice", "bob", "true")
    assert len(rows) == 3 + 3 * 4  # erin skipped: 3 pairs of students, 3 students x 4 torch files
    assert [r["flagged"] for r in rows].count("true") == 1

    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "not a verdict" in page and "never changes a score" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<mark>" in page and "erin" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # offline: no external resource

    # again into the same folder: an earlier report is replaced
    assert main(["similarity", "--assignment", "02_optimizers", *map(str, paths), "--out", str(out)]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--assignment", "04_nope", "{class}/alice.py"], "unknown assignment '04_nope'"),
        (["--assignment", "02_optimizers", "{class}/nobody.py"], "no such file or folder"),
        (["--assignment", "02_optimizers", "{class}/alice.py", "--out", "{class}"], "must be neither a"),
        ([], "the following arguments are required"),
    ],
)
def test_wrong_command_lines_exit_2(tmp_path, capsys, args, message):
    make_class(tmp_path / "class", {"alice.py": correct("02_optimizers", "loop.py")})
    with pytest.raises(SystemExit) as exc:
        main(["similarity", *(a.format(**{"class": tmp_path / "class"}) for a in args)])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_a_grading_folder_or_a_foreign_folder_is_refused(tmp_path, capsys):
    paths = make_class(tmp_path / "class", {"alice.py": correct("02_optimizers", "loop.py")})
    grades = tmp_path / "grades" / "02_optimizers"
    grades.mkdir(parents=True)
    (grades / "run.json").write_text('{"assignment": "02_optimizers", "students": []}\n')
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("mine\n")
    for out, message in [(grades / "similarity", "holds grades"), (foreign, "not a similarity report")]:
        assert main(["similarity", "--assignment", "02_optimizers", *map(str, paths), "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
    assert sorted(p.name for p in grades.iterdir()) == ["run.json"]
    assert sorted(p.name for p in foreign.iterdir()) == ["todo.txt"]
