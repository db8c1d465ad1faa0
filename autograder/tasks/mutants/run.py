"""One mutation run: generate, drop the equivalent mutants, grade the rest, tally what the checks kill.

Mechanical and semantic mutants (``Mutant.kind``) go through the same steps and are tallied apart by
``report.py``; a text that both kinds produced is judged and graded once.

The grader is used only through its public API (``batch.grade_class``), exactly as a class is
graded. To save time a mutant is graded *focused*: its module keeps the graded names the mutated
definition belongs to, those it uses and those that use it (so the stand-in isolation of ``fit`` /
the BatchNorm modules is exercised), while the definitions of unrelated graded names are left out
(their lines come back ``missing`` and are not counted). Every ``full_every``-th mutant is also
graded with the whole module, to confirm that a mutant costs points in its own graded name only.
The unmutated solution is graded the same ways first: if it loses a point, no kill count means
anything and the run stops.
"""

from __future__ import annotations

import fnmatch
import hashlib
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...grading.batch import grade_class
from ...grading.engine import GradingConfig
from ...grading.rubric import load_rubric
from .cache import JsonCache
from .generate import Mutant, Solution, focused_source, generate, load_solution
from .oracle import REPO, Verdict, VerdictCache, judge_all
from .oracle import version as oracle_version


@dataclass
class Options:
    assignment: str
    jobs: int = 2
    out: Path = REPO / "grades" / "mutants"
    only: tuple[str, ...] = ()  # fnmatch patterns on mutant ids
    kind: str = "all"  # "mechanical", "semantic" (misreadings of the contract) or "all"
    limit: int | None = None  # the first N mutants (after --only), for a quick look
    full_every: int = 20  # grade every N-th graded mutant with the whole module too (0: never)
    grade_equivalent: bool = False  # also grade the oracle's equivalent mutants (false-fail hunt)
    oracle_timeout_s: float = 60.0
    use_cache: bool = True
    solution: Path | None = None  # another solution file (tests)
    isolation: str | None = None  # sandbox level (default: the strongest available)
    examples_scale: float = 1.0  # GradingConfig.examples_scale: below 1, how much margin each budget has
    progress: Callable[[str, int, int], None] | None = None  # (phase, done, total)


@dataclass
class MutantResult:
    mutant: Mutant
    verdict: Verdict
    graded: bool = False
    full_module: bool = False
    lost: dict[str, float] = field(default_factory=dict)  # rubric line -> points lost (graded names kept)
    statuses: dict[str, str] = field(default_factory=dict)  # rubric line -> status, for lost lines
    violations: list[str] = field(default_factory=list)  # lost lines outside the mutant's own names

    @property
    def killed(self) -> bool:
        return bool(self.lost)

    @property
    def outcome(self) -> str:
        if self.verdict.equivalent:
            return "equivalent-killed" if self.killed else "equivalent"
        if not self.graded:
            return "not-graded"
        return "killed" if self.killed else "survived"


@dataclass
class RunResult:
    solution: Solution
    results: list[MutantResult]
    rejected: list[str]
    duplicates: int
    baseline: dict[str, list[str]]  # submission -> lines the unmutated solution lost (must be empty)
    timing: dict[str, float]
    versions: dict[str, str]
    options: Options


# --- grading --------------------------------------------------------------------------------------


def grader_version() -> str:
    """A hash of everything a grade depends on besides the submission: the grader (without this
    tool), its rubric files, the reference and torch."""
    import torch

    digest = hashlib.sha256(torch.__version__.encode())
    paths = [
        p
        for p in (REPO / "autograder").rglob("*")
        if p.suffix in (".py", ".toml") and "mutants" not in p.relative_to(REPO / "autograder").parts
    ]
    paths += list((REPO / "reference").glob("*.py"))
    for path in sorted(paths):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class GradeCache(JsonCache):
    """Grading records on disk (the items only), keyed by the submission text and the grader version."""

    def get(self, text: str) -> dict | None:  # type: ignore[override]
        return super().get(text)

    def put(self, text: str, record: dict) -> None:  # type: ignore[override]
        items = [{k: i[k] for k in ("id", "score", "max_score", "status")} for i in record["items"]]
        super().put({"items": items}, text)


def _grade_texts(
    texts: dict[str, str], options: Options, module: str, cache: GradeCache
) -> tuple[dict[str, dict], int]:
    """Grade each text (key -> module source) as one submission; return key -> record and how many
    were graded now (the others came from the cache)."""
    records: dict[str, dict] = {}
    todo: dict[str, str] = {}
    twins: dict[str, str] = {}  # key -> the key of the same text graded now (one grading per text)
    first_of: dict[str, str] = {}
    for key, text in texts.items():
        found = cache.get(text)
        if found is not None:
            records[key] = found
        elif text in first_of:
            twins[key] = first_of[text]
        else:
            first_of[text] = key
            todo[key] = text
    if todo:
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            paths = []
            for key, text in todo.items():
                folder = Path(tmp) / key
                folder.mkdir()
                (folder / f"{module}.py").write_text(text)
                paths.append(folder)
            done = [0]

            def tick(_student: str) -> None:
                done[0] += 1
                if options.progress:
                    options.progress("grading", done[0], len(paths))

            rubric = load_rubric(options.assignment)
            graded, _, _ = grade_class(
                paths, rubric, jobs=options.jobs, level=options.isolation, on_done=tick,
                config=GradingConfig(examples_scale=options.examples_scale),
            )
        for record in graded:
            records[record["student"]] = record
            cache.put(todo[record["student"]], record)
        cache.save()
    for key, twin in twins.items():
        if twin in records:
            records[key] = records[twin]
    return records, len(todo)


def _lost(record: dict, names: set[str]) -> tuple[dict[str, float], dict[str, str]]:
    lost, statuses = {}, {}
    for item in record["items"]:
        if item["id"].split(".", 1)[0] in names and item["score"] < item["max_score"]:
            lost[item["id"]] = round(item["max_score"] - item["score"], 6)
            statuses[item["id"]] = item["status"]
    return lost, statuses


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the lanes, the zygotes and, when they
    reap them, the workers): on a shared machine, the honest measure of the work done."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# --- the run --------------------------------------------------------------------------------------


def select(mutants: list[Mutant], options: Options) -> list[Mutant]:
    if options.kind != "all":
        mutants = [m for m in mutants if m.kind == options.kind]
    if options.only:
        mutants = [m for m in mutants if any(fnmatch.fnmatchcase(m.id, pat) for pat in options.only)]
    if options.limit is not None:
        mutants = mutants[: options.limit]
    return mutants


def _judge(
    solution: Solution, mutants: list[Mutant], options: Options, version: str
) -> tuple[list[Verdict], int]:
    """The oracle's verdict on every mutant (cached ones reused); returns them and how many were cached."""
    cache = VerdictCache(options.out / "cache" / f"oracle-{options.assignment}.json", version)
    verdicts = [cache.get(m.source, m.owners) if options.use_cache else None for m in mutants]
    first: dict[tuple[str, tuple[str, ...]], int] = {}
    twins: dict[int, int] = {}  # a mutant whose text and names an earlier one has: judged once
    for i, v in enumerate(verdicts):
        if v is None:
            twins[i] = first.setdefault((mutants[i].source, mutants[i].owners), i)
    todo = [i for i, j in twins.items() if i == j]
    if todo:
        done = [0]

        def tick() -> None:
            done[0] += 1
            if options.progress:
                options.progress("oracle", done[0], len(todo))

        jobs = [(mutants[i].source, mutants[i].owners) for i in todo]
        fresh = judge_all(
            options.assignment,
            solution.rubric.module,
            jobs,
            lanes=options.jobs,
            timeout_s=options.oracle_timeout_s,
            on_done=tick,
        )
        for i, verdict in zip(todo, fresh, strict=True):
            verdicts[i] = verdict
            cache.put(mutants[i].source, mutants[i].owners, verdict)
        cache.save()
    for i, j in twins.items():
        verdicts[i] = verdicts[j]
    return verdicts, len(mutants) - len(twins)


def _submissions(solution: Solution, to_grade: list[MutantResult], full_every: int):
    """What to grade: key -> (module text, graded names whose lines count). The unmutated solution,
    whole and focused on each graded name (all must keep full marks); each mutant focused on its own
    names; every ``full_every``-th mutant also whole."""
    texts: dict[str, tuple[str, set[str]]] = {"baseline-all": (solution.source, set(solution.graded))}
    for name in solution.graded:
        keep = solution.keep_for((name,))
        texts[f"baseline-{name}"] = (focused_source(solution, solution.source, keep), keep)
    for index, result in enumerate(to_grade):
        keep = solution.keep_for(result.mutant.owners)
        texts[f"m{index:04d}"] = (focused_source(solution, result.mutant.source, keep), keep)
        if full_every and index % full_every == 0:
            texts[f"m{index:04d}-all"] = (result.mutant.source, set(solution.graded))
    return texts


def _tally(to_grade: list[MutantResult], texts: dict, records: dict[str, dict]) -> None:
    """Which lines each graded mutant lost (over its focused and whole-module gradings), and which
    of them belong to graded names it does not change (isolation violations)."""
    for index, result in enumerate(to_grade):
        result.graded = True
        for key in (f"m{index:04d}", f"m{index:04d}-all"):
            if key not in records:
                continue
            lost, statuses = _lost(records[key], texts[key][1])
            result.full_module = result.full_module or key.endswith("-all")
            for line, points in lost.items():
                result.lost[line] = max(points, result.lost.get(line, 0.0))
                result.statuses[line] = statuses[line]
        owners = set(result.mutant.owners)
        result.violations = sorted(line for line in result.lost if line.split(".", 1)[0] not in owners)


def run(options: Options) -> RunResult:
    """Generate, judge, grade and tally the mutants of one assignment's solution."""
    t0, cpu0 = time.monotonic(), _cpu_seconds()
    solution = load_solution(options.assignment, options.solution)
    generated = generate(solution)
    mutants = select(generated.mutants, options)
    versions = {"oracle": oracle_version(options.assignment), "grader": grader_version()}
    t1 = time.monotonic()
    verdicts, cached = _judge(solution, mutants, options, versions["oracle"])
    t2 = time.monotonic()
    results = [MutantResult(m, v) for m, v in zip(mutants, verdicts, strict=True)]
    to_grade = [r for r in results if options.grade_equivalent or not r.verdict.equivalent]
    texts = _submissions(solution, to_grade, options.full_every)
    scaled = "" if options.examples_scale == 1 else f"-examples-{options.examples_scale:g}"
    cache_file = options.out / "cache" / f"grades-{options.assignment}{scaled}.json"
    cache = GradeCache(cache_file, versions["grader"], options.use_cache)
    records, fresh = _grade_texts(
        {k: text for k, (text, _) in texts.items()}, options, solution.rubric.module, cache
    )
    t3 = time.monotonic()
    baseline = {
        k: sorted(_lost(records[k], keep)[0]) for k, (_, keep) in texts.items() if k.startswith("baseline-")
    }
    _tally(to_grade, texts, records)
    timing = {
        "generate_s": round(t1 - t0, 2),
        "oracle_s": round(t2 - t1, 2),
        "grade_s": round(t3 - t2, 2),
        "total_s": round(time.monotonic() - t0, 2),
        "cpu_s": round(_cpu_seconds() - cpu0, 1),
        "oracle_cached": cached,
        "graded_submissions": len(texts),
        "graded_cached": len(texts) - fresh,
    }
    return RunResult(
        solution, results, generated.rejected, generated.duplicates, baseline, timing, versions, options
    )


def write_mutant_files(result: RunResult, folder: Path) -> None:
    """Every mutant as the ``.py`` submission it is (the whole module), to look at or regrade by hand:
    ``<folder>/m<nnnn>_<id>.py``. Earlier files of this tool in that folder are replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("m[0-9][0-9][0-9][0-9]_*.py"):
        old.unlink()
    for index, r in enumerate(result.results):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in r.mutant.id)
        header = f"# mutant {r.mutant.id} of solutions/{result.options.assignment} ({r.mutant.where})\n"
        (folder / f"m{index:04d}_{safe}.py").write_text(header + r.mutant.source)


def as_dict(result: MutantResult) -> dict:
    m = result.mutant
    return {
        "id": m.id,
        "kind": m.kind,
        "definition": m.definition,
        "owners": list(m.owners),
        "family": m.family,
        "label": m.label,
        "line": m.line,
        "where": m.where,
        "outcome": result.outcome,
        "oracle": asdict(result.verdict),
        "graded": result.graded,
        "full_module": result.full_module,
        "lost": result.lost,
        "statuses": result.statuses,
        "violations": result.violations,
    }
