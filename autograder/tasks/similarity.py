"""Similarity evidence for TAs (``make similarity``): each submission of a class against torch's own
source of the assignment's graded names and against every other submission, with copydetect.

Evidence for a human, never a verdict: nothing here reads or writes a grade. Student code is only read
(``grading.loader``: exactly the code the grader grades, no test or experiment cells), never run; a
submission the loader cannot read is listed as skipped. The released stub is boilerplate: a k-gram it
contains counts for no one. torch's files are cut down with ``ast`` to the classes and functions a
student could paste for a graded name (``TORCH_SOURCES``), so unrelated code does not dilute the score.

copydetect tokenizes with pygments, writes every name as one letter, drops comments and whitespace,
then matches k-grams of what is left. A pair's score on each side is the share of that side's tokens
(boilerplate left out) inside a matched span; the tokens counted are the characters of that filtered
text (a name is one character).
"""

from __future__ import annotations

import ast
import csv
import importlib.metadata
import importlib.util
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..grading.loader import load_submission, student_id
from ..grading.rubric import load_rubric
from .outdir import MANIFEST

ROOT = Path(__file__).resolve().parents[2]

# What a student could paste, per assignment: a file of the torch package and the top-level classes and
# functions kept from it (the class, its functional form and its loop and foreach kernels; no fused
# kernels, no unrelated schedulers or norms). One row per assignment.
TORCH_SOURCES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "01_gradient_descent": (
        ("optim/lr_scheduler.py", ("LambdaLR", "MultiplicativeLR", "PolynomialLR")),
        ("utils/data/sampler.py", ("SequentialSampler", "RandomSampler", "BatchSampler")),
    ),
    "02_optimizers": (
        ("optim/sgd.py", ("SGD", "sgd", "_single_tensor_sgd", "_multi_tensor_sgd")),
        ("optim/adagrad.py", ("Adagrad", "adagrad", "_single_tensor_adagrad", "_multi_tensor_adagrad")),
        ("optim/rmsprop.py", ("RMSprop", "rmsprop", "_single_tensor_rmsprop", "_multi_tensor_rmsprop")),
        ("optim/adam.py", ("Adam", "adam", "_single_tensor_adam", "_multi_tensor_adam")),
    ),
    "03_regularization": (
        ("nn/modules/dropout.py", ("_DropoutNd", "Dropout")),
        ("nn/modules/batchnorm.py", ("_NormBase", "_BatchNorm", "BatchNorm1d", "BatchNorm2d")),
        ("nn/functional.py", ("dropout", "batch_norm")),
        ("_decomp/decompositions.py", ("native_dropout", "native_dropout_backward",
                                       "native_batch_norm_helper", "native_batch_norm",
                                       "batch_norm_backward", "native_batch_norm_backward")),
    ),
}

# Calibrated on tests/submissions (README, "Similarity evidence", has the measured scores): independent
# correct solutions reach 0.27 (vs torch) and 0.24 (vs each other); copies renamed and reformatted 0.86+,
# a pasted torch Adam 0.72.
NOISE_T = 40  # shortest match counted, in filtered characters (about two lines of code)
GUARANTEE_T = 40  # == NOISE_T: winnowing window 1, every k-gram kept, so a report never varies with
#                   Python's hash seed (copydetect hashes with hash()); classes are small enough
DISPLAY_T = 0.5  # flagged when either side has at least this share of its tokens matched ...
MIN_OVERLAP = 120  # ... and at least this many matched characters (a tiny file's one match is no case)


@dataclass(frozen=True)
class Document:
    """One side of a comparison: a student's graded code, or the cut-down torch source of one file."""

    name: str  # the student id, or "torch/<file>"
    code: str
    origin: str = ""  # torch documents: the names kept


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float
    similarity_b: float
    token_overlap: int
    flagged: bool
    spans_a: list[tuple[int, int]] = field(default_factory=list)  # matched character ranges of a.code
    spans_b: list[tuple[int, int]] = field(default_factory=list)

    @property
    def score(self) -> float:
        return max(self.similarity_a, self.similarity_b)


@dataclass
class Report:
    assignment: str
    documents: dict[str, Document]  # students and torch sources by name
    students: list[str]
    torch_files: list[str]
    skipped: list[tuple[str, str]]  # (student, why)
    pairs: list[Pair]  # every comparison, best first
    stub: bool  # the released stub was used as boilerplate
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> list[Pair]:
        return [p for p in self.pairs if p.flagged]


class SimilarityOutputError(Exception):
    """The output folder cannot take the report; the message says why and what to do."""


def _torch_root() -> Path:
    """The installed torch package, found without importing it (seconds saved; nothing of it runs)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        raise LookupError("torch is not installed in this environment")
    return Path(spec.origin).resolve().parent


@cache
def torch_documents(assignment: str) -> tuple[Document, ...]:
    """The classes and functions of ``TORCH_SOURCES[assignment]`` from the installed torch (the version
    that grades), one document per torch file."""
    root = _torch_root()
    docs = []
    for rel, names in TORCH_SOURCES[assignment]:
        text = (root / rel).read_text(encoding="utf-8")
        nodes = {n.name: n for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        missing = [n for n in names if n not in nodes]
        if missing:
            raise LookupError(f"torch/{rel} has no {', '.join(missing)}: update TORCH_SOURCES for this torch")
        code = "\n\n\n".join(ast.get_source_segment(text, nodes[n]) for n in names) + "\n"
        docs.append(Document(f"torch/{rel}", code, ", ".join(names)))
    return tuple(docs)


def load_class(assignment: str, paths: list[Path]) -> tuple[list[Document], list[tuple[str, str]]]:
    """Each student's graded code (the grader's loader; nothing runs), sorted by student id, and the
    students skipped with the reason."""
    module = load_rubric(assignment).module
    ids = [student_id(p) for p in paths]
    docs, skipped = [], []
    for path, sid in zip(paths, ids, strict=True):
        if ids.count(sid) > 1:
            skipped.append((sid, f"{ids.count(sid)} submissions with this student id ({path})"))
            continue
        sub = load_submission(path, assignment, module)
        if sub.load_error:
            skipped.append((sid, sub.load_error))
        else:
            docs.append(Document(sid, sub.source))
    return sorted(docs, key=lambda d: d.name), sorted(skipped)


def stub_code(assignment: str) -> str | None:
    """The released notebook's code as the grader reads it: what every student starts from."""
    path = ROOT / "assignments" / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        return None
    sub = load_submission(path, assignment, load_rubric(assignment).module)
    return None if sub.load_error else sub.source


def fingerprint(doc: Document, boilerplate: frozenset[int] = frozenset()):
    """copydetect's fingerprint of ``doc`` (Python tokens, every k-gram) without the boilerplate ones.

    The boilerplate is taken out here rather than by copydetect: its own removal (``np.intersect1d``
    with ``assume_unique=True`` on k-grams that repeat) also drops k-grams a document merely repeats."""
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    fp = CodeFingerprint(f"{doc.name}.py", NOISE_T, GUARANTEE_T - NOISE_T + 1, filter=True,
                         language="python", fp=io.StringIO(doc.code))
    if boilerplate:
        fp.hashes = fp.hashes - boilerplate
        fp.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in boilerplate}
        fp.token_coverage = get_token_coverage(fp.hash_idx, NOISE_T, len(fp.filtered_code))
    return fp


def _spans(slices) -> list[tuple[int, int]]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    return [(int(s), int(e)) for s, e in zip(slices[0], slices[1], strict=True) if e > s]


def compare(a: Document, b: Document, fa, fb) -> Pair:
    """Both scores of one pair and the matched spans (character ranges of each side's code)."""
    from copydetect import compare_files

    overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fa, fb)
    sim_a, sim_b, overlap = float(sim_a), float(sim_b), int(overlap)
    flagged = max(sim_a, sim_b) >= DISPLAY_T and overlap >= MIN_OVERLAP
    return Pair(a.name, b.name, sim_a, sim_b, overlap, flagged, _spans(slices_a), _spans(slices_b))


@cache
def _assignment_prints(assignment: str) -> tuple[bool, frozenset[int], dict]:
    """Whether the stub was found, its k-grams (the boilerplate) and the fingerprints of torch's sources
    without them: the same for every class of ``assignment`` (tokenizing torch's files takes longest)."""
    stub = stub_code(assignment)
    boilerplate = frozenset(fingerprint(Document("stub", stub)).hashes) if stub is not None else frozenset()
    sources = {d.name: fingerprint(d, boilerplate) for d in torch_documents(assignment)}
    return stub is not None, boilerplate, sources


def similarity_report(assignment: str, paths: list[Path]) -> Report:
    """Every student against torch's sources and against every other student, best pair first."""
    students, skipped = load_class(assignment, paths)
    sources = list(torch_documents(assignment))
    stub, boilerplate, torch_prints = _assignment_prints(assignment)
    prints = {**torch_prints, **{d.name: fingerprint(d, boilerplate) for d in students}}
    pairs = [compare(a, b, prints[a.name], prints[b.name])
             for i, a in enumerate(students) for b in students[i + 1:] + sources]
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    versions = {name: importlib.metadata.version(name) for name in ("torch", "copydetect")}
    return Report(assignment, {d.name: d for d in students + sources}, [d.name for d in students],
                  [d.name for d in sources], skipped, pairs, stub, versions)


def check_output(out: Path) -> None:
    """Refuse a folder that is, or is inside, a kit grading folder (``run.json``: a regrade replaces that
    folder whole, and a folder the kit did not write stops ``make grade``), a file, or a folder holding
    anything but an earlier similarity report."""
    out = Path(out)
    for folder in (out, *out.resolve().parents):
        if (folder / MANIFEST).is_file():
            raise SimilarityOutputError(
                f"{folder}/ holds grades (it has {MANIFEST}): the next grading run there would delete the "
                f"report, so choose another --out (the default is grades/similarity/<assignment>/)")
    if out.exists() and not out.is_dir():
        raise SimilarityOutputError(f"{out} is a file, not a folder: choose another --out")
    if out.is_dir():
        other = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
        if other:
            raise SimilarityOutputError(
                f"{out}/ holds files that are not a similarity report ({', '.join(other[:5])}): choose "
                "an empty or new folder")


CSV_COLUMNS = ["student_a", "student_b_or_torch_source", "similarity_a", "similarity_b", "token_overlap",
               "flagged"]
OUTPUT_FILES = ("similarity.html", "similarity.csv")


def csv_text(report: Report) -> str:
    """``similarity.csv``: every comparison, best first, flagged or not."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report.pairs:
        writer.writerow([p.a, p.b, f"{p.similarity_a:.3f}", f"{p.similarity_b:.3f}", p.token_overlap,
                         str(p.flagged).lower()])
    return buf.getvalue()


def write_report(report: Report, out: Path) -> list[Path]:
    """``similarity.html`` and ``similarity.csv`` in ``out`` (``check_output`` first)."""
    from ..reporters._common import write_text
    from .similarity_html import render

    check_output(out)
    return [write_text(Path(out) / "similarity.html", render(report)),
            write_text(Path(out) / "similarity.csv", csv_text(report))]
