"""Build a Gradescope autograder bundle (``dist/autograder.zip``) for one assignment.

Gradescope runs ``setup.sh`` once, as root, when it builds the autograder image, and ``run_autograder``
once per submission. Both work on its stock base images, Ubuntu 22.04 (Python 3.10) and 24.04 (3.12):

- ``setup.sh`` installs what a bare image lacks (``python3-venv``, ``python3-pip``), creates a venv with
  the image's own ``python3``, installs torch's CPU build from PyTorch's CPU wheel index (the default
  index would pull the multi-GB CUDA build), then ``requirements-runtime.txt``: grading's own
  dependencies only, pinned for 3.10-3.12, no test or notebook tooling. It ends by checking that the
  CPU build of torch imports.
- ``run_autograder`` grades ``submission/`` with this kit, sandbox included, at the strongest isolation
  level the image allows, and copies the Gradescope ``results.json`` the reporters wrote into
  ``results/``. If the kit itself fails it writes nothing and exits non-zero, so Gradescope reports a
  failed autograder run instead of a made-up score.

``AUTOGRADER_ROOT`` relocates ``/autograder`` (the kit's tests run the bundle in a temporary folder).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INCLUDED = ("autograder", "reference", "requirements-runtime.txt")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_PIN = "torch==2.13.0"

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope: run once, as root, when the autograder image is built.
set -euo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
cd "$ROOT/source"
python3 -m venv .venv
# torch's CPU build from PyTorch's CPU index; its dependencies come pinned from the runtime requirements.
.venv/bin/pip install --no-deps --index-url {TORCH_CPU_INDEX} "{TORCH_PIN}"
.venv/bin/pip install -r requirements-runtime.txt
.venv/bin/python -c "import torch, numpy, hypothesis, safetensors, rich, jinja2
assert '+cpu' in torch.__version__, torch.__version__"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope: run once per submission. Grades $ROOT/submission, writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT/source"
if ! .venv/bin/python -m autograder grade --assignment {assignment} "$ROOT/submission" \\
        --out "$WORK/kit" --quiet >"$WORK/log" 2>&1; then
    echo "the kit failed to grade this submission:"; cat "$WORK/log"; exit 1
fi
mkdir -p "$ROOT/results"
cp "$WORK"/kit/results/*/results.json "$ROOT/results/results.json"
"""


def build_bundle(assignment: str, out: Path) -> Path:
    """Write the bundle of ``assignment`` to ``out`` and return its path."""
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
