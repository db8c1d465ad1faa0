"""The Python versions the README promises are the ones the pins resolve for.

- Grading's runtime requirements (``requirements-runtime.txt``, what the Gradescope bundle installs)
  resolve for Python 3.10, 3.11 and 3.12 on manylinux x86_64, with every pin's own dependencies
  pinned in the file and every ``Requires-Python`` satisfied. pip's dry run evaluates environment
  markers for the interpreter it runs on, not for ``--python-version``, so the markers of the file and
  of each package's dependencies are evaluated here, with ``packaging``, for the target Python.
  torch is resolved from PyPI for the dry run (the bundle installs the CPU build from PyTorch's own
  index, which CI may not reach); the CUDA wheels PyPI's torch pulls in on Linux are left out, as the
  CPU build has none.
- The dev environment's pins (``make setup``) resolve for 3.11 and 3.12.
- pyproject's ``requires-python``, the README and the Makefile's check say exactly that.

The dry runs need PyPI (CI has it) and are marked slow: the first downloads torch's wheel per Python.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PYTHONS = ("3.10", "3.11", "3.12")  # each from its .0 release: no runtime pin needs a patch level
DEV_PYTHONS = ("3.11.5", "3.12.0")  # soupsieve (nbconvert's, via nbgrader) needs 3.11.5
# pip takes platform tags literally: list every glibc from Ubuntu 22.04's 2.35 down to manylinux2014's 2.17.
PLATFORMS = (*(f"manylinux_2_{minor}_x86_64" for minor in range(35, 16, -1)), "manylinux2014_x86_64")
CUDA_ONLY = re.compile(r"^(nvidia-|cuda-)|^triton$")


def full(version: str) -> str:
    return version if version.count(".") == 2 else f"{version}.0"


def marker_env(version: str) -> dict[str, str]:
    return {
        "python_version": ".".join(version.split(".")[:2]), "python_full_version": full(version),
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "os_name": "posix", "sys_platform": "linux",
        "platform_system": "Linux", "platform_machine": "x86_64", "extra": "",
    }  # fmt: skip


def applies(marker: Marker | None, version: str) -> bool:
    return marker is None or marker.evaluate(marker_env(version))


def runtime_pins(version: str) -> dict[str, str]:
    """``name -> version`` of every line of requirements-runtime.txt that applies to ``version``."""
    pins = {}
    for line in (ROOT / "requirements-runtime.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{line}: runtime requirements are exact pins"
        if applies(req.marker, version):
            assert canonicalize_name(req.name) not in pins, f"{req.name} pinned twice for {version}"
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def dry_run(version: str, args: list[str], tmp_path: Path) -> list[dict]:
    """pip's dry run for ``version`` on manylinux x86_64; the report's ``install`` entries."""
    report = tmp_path / f"report-{version}.json"
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
           "--python-version", full(version), *platforms, "--target", str(tmp_path / "none"), "--quiet",
           "--report", str(report), *args]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"pins do not resolve for Python {version}:\n{proc.stderr[-3000:]}"
    return json.loads(report.read_text())["install"]


def requires_python_problems(installed: list[dict], version: str) -> list[str]:
    metadata = [i["metadata"] for i in installed]
    return [
        f"{m['name']} {m['version']} requires Python {m['requires_python']}"
        for m in metadata
        if m.get("requires_python") and not SpecifierSet(m["requires_python"]).contains(full(version))
    ]


def pin_problems(pins: dict[str, str], version: str, tmp_path: Path, unpinned_ok=frozenset()) -> list[str]:
    """Everything wrong with a set of exact pins on ``version``: not installable (no wheel for it), a
    ``Requires-Python`` it breaks, or a dependency (for that Python) that is not pinned or not satisfied."""
    pinned = tmp_path / "pins.txt"
    pinned.write_text("".join(f"{name}=={v}\n" for name, v in pins.items()))
    installed = dry_run(version, ["--no-deps", "-r", str(pinned)], tmp_path)
    problems = requires_python_problems(installed, version)
    got = {canonicalize_name(i["metadata"]["name"]) for i in installed}
    problems += [f"{name} was not resolved" for name in sorted(set(pins) - got)]
    for item in installed:
        for text in item["metadata"].get("requires_dist") or []:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            if not applies(req.marker, version) or CUDA_ONLY.search(name) or name in unpinned_ok:
                continue
            if name not in pins or not req.specifier.contains(pins[name], prereleases=True):
                problems.append(f"{item['metadata']['name']} needs {text} (pinned: {pins.get(name)})")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("version", RUNTIME_PYTHONS)
def test_runtime_requirements_resolve_for_each_promised_python(version, tmp_path):
    assert pin_problems(runtime_pins(version), version, tmp_path) == []


def dev_pins() -> dict[str, str]:
    """``name -> version`` of constraints.txt: every pin of the dev environment (``make setup``)."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_runtime_pins_are_the_dev_pins_where_both_apply():
    dev, runtime = dev_pins(), runtime_pins("3.11")
    assert {n: v for n, v in runtime.items() if n in dev and dev[n] != v} == {}
    assert set(runtime) - set(dev) <= {"setuptools"}  # pip freeze leaves setuptools out of constraints.txt


@pytest.mark.slow
@pytest.mark.parametrize("version", DEV_PYTHONS)
def test_dev_requirements_resolve_for_make_setup(version, tmp_path):
    # pip freeze (make lock) leaves setuptools out; a venv brings its own, pip adds it where missing.
    assert pin_problems(dev_pins(), version, tmp_path, unpinned_ok={"setuptools"}) == []


def test_pyproject_readme_and_makefile_state_the_tested_range():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    spec = SpecifierSet(pyproject["project"]["requires-python"])
    supported = [v for v in ("3.9", "3.10", "3.11", "3.12", "3.13") if spec.contains(f"{v}.0")]
    assert supported == list(RUNTIME_PYTHONS)
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "Python 3.11 (3.11.5 or newer) or 3.12" in readme and "Python 3.10, 3.11 and 3.12" in readme
    assert "(3, 11, 5) <= sys.version_info[:3] < (3, 13)" in (ROOT / "Makefile").read_text()


def interpreter(version: str) -> str | None:
    """A working ``python<version>``: pyenv's install, else one on PATH (pyenv's shims may not run it)."""
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    for candidate in [*(str(p) for p in pyenv), shutil.which(f"python{version}")]:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("version", RUNTIME_PYTHONS)
def test_the_kit_compiles_on_each_promised_python(version, tmp_path):
    """Syntax only (no torch there): a 3.11-only construct in the kit would break Gradescope's 3.10."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no python{version} interpreter on this machine (optional tool)")
    for tree in ("autograder", "reference"):
        copy = tmp_path / tree
        shutil.copytree(ROOT / tree, copy, ignore=shutil.ignore_patterns("__pycache__"))
        proc = subprocess.run([python, "-m", "compileall", "-q", str(copy)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
