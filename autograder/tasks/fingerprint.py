"""Content hashes that tell whether a stored record still belongs to a submission.

A record is reused (``--resume``, ``make autograde``) only when the hash of what would be graded now
equals the hash stored with it. The hash covers the kit itself (its code, rubric and reference), the
assignment, the graded file's name and its graded code (after the loader's pipeline: the cells the
grader runs, magics dropped), or the raw text and the reason when it cannot be loaded. So an edited
notebook, an edited rubric or a new kit version never reuses a stale grade.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from ..grading.loader import Submission, load_submission
from ..grading.rubric import Rubric

ROOT = Path(__file__).resolve().parents[2]
# Everything that decides a grade: the grader's code, its templates and rubric, and the reference.
KIT_TREES = ("autograder", "reference")
KIT_SUFFIXES = (".py", ".toml", ".j2")
HASH_VERSION = 1


@cache
def kit_fingerprint() -> str:
    """SHA-256 over the kit's own files (path and bytes), computed once per process."""
    digest = hashlib.sha256()
    for tree in KIT_TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if path.suffix in KIT_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def loaded_hash(sub: Submission) -> str:
    """The content hash of a loaded submission (see the module docstring)."""
    graded = sub.text if sub.load_error else sub.source
    payload = [HASH_VERSION, kit_fingerprint(), sub.assignment, sub.filename, graded, sub.load_error]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def submission_hash(path: Path, rubric: Rubric) -> str:
    """The content hash of what grading ``path`` against ``rubric`` would grade now (nothing runs)."""
    return loaded_hash(load_submission(Path(path), rubric.assignment, rubric.module))
