"""Build a Gradescope autograder bundle (``dist/autograder.zip``) for one assignment.

Gradescope runs ``setup.sh`` once when the image is built and ``run_autograder`` per submission:
ours installs the pinned environment, grades ``/autograder/submission`` with this kit (sandbox and
all) and copies the Gradescope ``results.json`` the reporters wrote into ``/autograder/results/``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDED = ("autograder", "reference", "requirements.txt", "constraints.txt", "pyproject.toml")

SETUP_SH = """#!/usr/bin/env bash
set -euo pipefail
cd /autograder/source
python3 -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt -c constraints.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
set -uo pipefail
cd /autograder/source
rm -rf /tmp/kit-out
.venv/bin/python -m autograder grade --assignment {assignment} /autograder/submission \\
    --out /tmp/kit-out --quiet
cp /tmp/kit-out/results/*/results.json /autograder/results/results.json
"""


def build_bundle(assignment: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in INCLUDED:
            path = ROOT / name
            files = (
                [path]
                if path.is_file()
                else sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            )
            for f in files:
                zf.write(f, f.relative_to(ROOT).as_posix())
        for name, text in (
            ("setup.sh", SETUP_SH),
            ("run_autograder", RUN_AUTOGRADER.format(assignment=assignment)),
        ):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            zf.writestr(info, text)
    return out
