"""The Gradescope bundle: what setup.sh does on a stock image (checked with stand-ins for apt-get, python3
and pip), and run_autograder graded end to end in a temporary /autograder-like root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.grading.rubric import load_rubric
from autograder.tasks.bundle import TORCH_CPU_INDEX, build_bundle

ROOT = Path(__file__).resolve().parents[2]
A = "01_gradient_descent"


def extract(tmp_path: Path, assignment: str = A) -> Path:
    """An /autograder-like root: source/ holds the bundle, submission/ and results/ are empty."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(build_bundle(assignment, tmp_path / "autograder.zip")) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # zipfile drops the mode bits
            mode = info.external_attr >> 16
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    (root / "submission").mkdir()
    return root


def test_the_bundle_holds_the_kit_and_the_runtime_requirements_only(tmp_path):
    with zipfile.ZipFile(build_bundle("03_regularization", tmp_path / "a.zip")) as zf:
        names = set(zf.namelist())
        run = zf.read("run_autograder").decode()
        modes = {n: zf.getinfo(n).external_attr >> 16 for n in ("run_autograder", "setup.sh")}
    assert {
        "setup.sh",
        "run_autograder",
        "requirements-runtime.txt",
        "autograder/cli.py",
        "reference/__init__.py",
        "autograder/grading/rubric/03_regularization.toml",
    } <= names
    assert "requirements.txt" not in names and "constraints.txt" not in names  # no test/notebook tooling
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
    assert "--assignment 03_regularization" in run and all(m & 0o111 for m in modes.values())


STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
if [ "$(basename "$0")" = python3 ] && [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    for tool in pip python; do cp "$0" "$3/bin/$tool"; done
fi
"""


def test_setup_sh_installs_venv_and_pip_then_torch_cpu_then_the_runtime_requirements(tmp_path):
    root = extract(tmp_path)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for tool in ("apt-get", "python3"):
        (stubs / tool).write_text(STUB)
        (stubs / tool).chmod(0o755)
    calls = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{stubs}:/usr/bin:/bin", "AUTOGRADER_ROOT": str(root), "CALLS": str(calls)}
    proc = subprocess.run(["bash", str(root / "source/setup.sh")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = calls.read_text().splitlines()
    assert lines[:3] == [
        "apt-get update",
        "apt-get install -y --no-install-recommends python3 python3-venv python3-pip",
        "python3 -m venv .venv",
    ]
    assert lines[3] == f"pip install --no-deps --index-url {TORCH_CPU_INDEX} torch==2.13.0"
    assert lines[4] == "pip install -r requirements-runtime.txt"
    assert lines[5].startswith("python -c import torch, numpy")
    assert "assert '+cpu' in torch.__version__" in calls.read_text()  # the build fails on a CUDA torch


@pytest.mark.slow
@pytest.mark.gradient_descent
def test_run_autograder_grades_a_submission_in_a_relocated_root(tmp_path):
    root = extract(tmp_path)
    (root / "source" / ".venv").symlink_to(ROOT / ".venv")  # what setup.sh would have built
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", root / "submission")
    shutil.copy(ROOT / "tests/submissions" / A / "sample_class/bob.py", root / "submission" / "stale.py")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    proc = subprocess.run(
        ["bash", str(root / "source/run_autograder")], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((root / "results/results.json").read_text())
    rubric = load_rubric(A)
    assert doc["score"] == rubric.max_score  # the notebook wins over the other file
    assert f"Graded file: {A}.ipynb" in doc["output"]
    assert [t["name"] for t in doc["tests"]] == [line.id for line in rubric.lines]


@pytest.mark.slow
def test_run_autograder_reports_a_broken_submission_and_fails_on_a_kit_fault(tmp_path):
    root = extract(tmp_path)
    (root / "source" / ".venv").symlink_to(ROOT / ".venv")
    (root / "submission" / "gradient_descent.py").write_text("def fit(:\n")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    run = ["bash", str(root / "source/run_autograder")]
    proc = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((root / "results/results.json").read_text())
    assert doc["score"] == 0 and "SyntaxError" in doc["output"]
    (root / "results/results.json").unlink()
    shutil.rmtree(root / "source" / "autograder" / "grading" / "rubric")  # a broken kit: no score is made up
    proc = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "the kit failed to grade this submission" in proc.stdout
    assert not (root / "results/results.json").exists()


@pytest.mark.slow
@pytest.mark.gradient_descent
def test_the_runtime_requirements_alone_are_enough_to_grade(tmp_path):
    """A venv with torch and requirements-runtime.txt only (what setup.sh builds, minus apt and PyTorch's
    index): run_autograder gives the same score as the kit's dev environment."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin/python"), "-m", "pip", "install", "--quiet"]
    for args in (["--no-deps", "torch==2.13.0"], ["-r", str(ROOT / "requirements-runtime.txt")]):
        proc = subprocess.run(pip + args, capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, proc.stderr[-3000:]
    root = extract(tmp_path)
    (root / "source" / ".venv").symlink_to(venv)
    student = ROOT / "tests/submissions" / A / "sample_class/bob.py"
    shutil.copy(student, root / "submission" / "gradient_descent.py")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    proc = subprocess.run(
        ["bash", str(root / "source/run_autograder")], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((root / "results/results.json").read_text())
    assert "grader fault" not in doc["output"], doc["output"][:3000]
    cmd = [sys.executable, "-m", "autograder", "grade", "--assignment", A, str(student), "--out",
           str(tmp_path / "dev"), "--quiet"]  # fmt: skip
    dev = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert dev.returncode == 0, dev.stderr
    assert doc["score"] == json.loads((tmp_path / "dev" / "bob.json").read_text())["score"]
