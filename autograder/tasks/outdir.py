"""Output folders that never lose or mix grades.

A kit output folder remembers what it holds: ``run.json`` names the assignment, the students and the
content hash of each student's submission (``fingerprint``). A run

1. refuses a folder that holds another assignment or another set of students unless ``force``, and
   refuses a non-empty folder the kit did not write (no ``run.json``) even then: ``--force`` replaces
   grades, never someone's files;
2. streams each finished student's record into a staging folder ``<out>.staging`` next to the output
   folder, with one journal line (student, hash, seconds) after the record is complete;
3. writes every report into the staging folder, then swaps it in: ``<out>`` is renamed to
   ``<out>.replaced``, the staging folder to ``<out>``, and only then is the old folder deleted. A
   failed rename puts the old folder back.

An interrupted run leaves the staging folder. ``resume`` reuses the records in it (and in ``<out>``)
whose hash equals the submission's current hash; a new run refuses to start over it without ``force``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..reporters import write_all
from ..reporters.json_report import write_student_json

MANIFEST = "run.json"
STAGING_SUFFIX = ".staging"
REPLACED_SUFFIX = ".replaced"
JOURNAL = ".journal.jsonl"  # staging only; dot names can never be a student's file (student_filename)
STAGING_INFO = ".staging.json"
RECORD_KEYS = {"student", "assignment", "score", "max_score", "items"}


class OutputConflict(Exception):
    """The output folder cannot take this run as asked; the message says what to do instead."""


@dataclass
class Contents:
    """What a kit output folder holds."""

    assignment: str | None
    students: set[str]
    inputs: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    published: bool = False  # make publish ran: student files show hidden details


def sibling(out: Path, suffix: str) -> Path:
    return out.with_name(out.name + suffix)


def _names(students: set[str], limit: int = 6) -> str:
    shown = sorted(students)[:limit]
    return ", ".join(shown) + (f" and {len(students) - limit} more" if len(students) > limit else "")


def _load_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def read_record(path: Path) -> dict | None:
    """A per-student record file, or None when it is missing, torn or not a record."""
    record = _load_json(path)
    return record if record is not None and RECORD_KEYS <= record.keys() else None


def read_contents(folder: Path) -> Contents | None:
    """What ``folder`` holds; None if it is missing or empty. A folder the kit did not write is a conflict."""
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise OutputConflict(f"{folder} is a file, not a folder: choose another output folder")
    if not any(folder.iterdir()):
        return None
    info = _load_json(folder / MANIFEST)
    if info is None:
        raise OutputConflict(
            f"{folder}/ holds files the kit did not write (no readable run.json); the kit never "
            "replaces such a folder, even with --force: choose another output folder"
        )
    students = info.get("students")
    if not isinstance(students, list):  # written by an older kit: the records say who is there
        records = (read_record(p) for p in folder.glob("*.json") if p.name != MANIFEST)
        students = [r["student"] for r in records if r]
    return Contents(
        assignment=info.get("assignment"),
        students=set(students),
        inputs=dict(info.get("inputs") or {}),
        timings=dict(info.get("timings") or {}),
        published=bool(info.get("published")),
    )


def check_target(out: Path, assignment: str, students: set[str], *, force: bool) -> None:
    """Refuse an output folder that holds another assignment or other students (unless ``force``)."""
    current = read_contents(out)
    if current is None or force:
        return
    remedy = (
        "choose another output folder (--out, make grade OUT=...), or add --force (make grade FORCE=1) "
        f"to replace what {out}/ holds"
    )
    if current.assignment != assignment:
        raise OutputConflict(f"{out}/ holds grades of {current.assignment}, not {assignment}: {remedy}")
    if current.students != students:
        gone, new = current.students - students, students - current.students
        parts = []
        if gone:
            parts.append(f"{len(gone)} graded there are not in this run ({_names(gone)})")
        if new:
            parts.append(f"{len(new)} of this run are not there ({_names(new)})")
        raise OutputConflict(
            f"{out}/ holds grades of another set of students of {assignment} ({len(current.students)} "
            f"there, {len(students)} in this run; {', '.join(parts)}): {remedy}"
        )


class Staging:
    """The staging folder of one run of ``assignment`` into ``out`` (see the module docstring)."""

    def __init__(self, out: Path, assignment: str):
        self.out = Path(out)
        self.assignment = assignment
        self.dir = sibling(self.out, STAGING_SUFFIX)
        self.replaced = sibling(self.out, REPLACED_SUFFIX)

    # --- starting -------------------------------------------------------------------------------

    def info(self) -> dict | None:
        return _load_json(self.dir / STAGING_INFO)

    def open(self, students: set[str], *, force: bool, resume: bool) -> None:
        """Check ``out`` and any leftover staging folder, then create (or keep, to resume) the staging one."""
        if self.replaced.exists():
            raise OutputConflict(
                f"{self.replaced}/ holds the grades of an earlier run whose last step was interrupted: "
                f"if {self.out}/ is missing, move {self.replaced.name} back to {self.out.name}, otherwise "
                "delete it; then grade again"
            )
        check_target(self.out, self.assignment, students, force=force)
        if self.dir.exists():
            info = self.info()
            if info is None:
                raise OutputConflict(
                    f"{self.dir}/ exists but was not left by the kit: move it away, then grade again"
                )
            done = len(self.finished())
            if resume and info.get("assignment") != self.assignment and not force:
                raise OutputConflict(
                    f"{self.dir}/ holds an interrupted run of {info.get('assignment')}, not "
                    f"{self.assignment}: add --force to discard it"
                )
            if not resume and not force:
                raise OutputConflict(
                    f"{self.dir}/ holds an interrupted run ({done} students graded): add --resume "
                    "(make grade RESUME=1) to finish it without regrading them, or --force "
                    "(make grade FORCE=1) to discard it and start over"
                )
            if not resume or info.get("assignment") != self.assignment:
                shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = {"assignment": self.assignment, "out": str(self.out), "students": sorted(students)}
        (self.dir / STAGING_INFO).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    # --- reuse ----------------------------------------------------------------------------------

    def finished(self) -> dict[str, tuple[str, float]]:
        """``student -> (hash, seconds)`` of every complete journal line (a torn last line is skipped)."""
        done: dict[str, tuple[str, float]] = {}
        try:
            lines = (self.dir / JOURNAL).read_text(encoding="utf-8").splitlines()
        except OSError:
            return done
        for line in lines:
            try:
                entry = json.loads(line)
                done[str(entry["student"])] = (str(entry["hash"]), float(entry["seconds"]))
            except (ValueError, KeyError, TypeError):
                continue
        return done

    def reusable(self, hashes: dict[str, str], *, from_out: bool) -> dict[str, tuple[dict, float]]:
        """Finished records whose stored hash equals ``hashes[student]``: from the staging folder, and
        from ``out`` as well when ``from_out``. Returns ``student -> (record, seconds)``."""
        sources: list[tuple[Path, dict[str, tuple[str, float]]]] = []
        if from_out:
            current = read_contents(self.out)
            if current is not None and current.assignment == self.assignment:
                sources.append(
                    (self.out, {s: (h, current.timings.get(s, 0.0)) for s, h in current.inputs.items()})
                )
        sources.append((self.dir, self.finished()))
        found: dict[str, tuple[dict, float]] = {}
        for folder, done in sources:
            for student, (digest, seconds) in done.items():
                if hashes.get(student) != digest:
                    continue
                record = read_record(folder / f"{student}.json")
                if record and record["student"] == student and record["assignment"] == self.assignment:
                    found[student] = (record, seconds)
        return found

    # --- streaming ------------------------------------------------------------------------------

    def save(self, record: dict, digest: str | None, seconds: float) -> None:
        """Store one finished record, then its journal line (a record without its line is not reused)."""
        write_student_json(record, self.dir)
        if digest is None:
            return
        line = json.dumps({"student": record["student"], "hash": digest, "seconds": round(seconds, 3)})
        with open(self.dir / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # --- finishing ------------------------------------------------------------------------------

    def commit(self, records: list[dict], rubric, timings: dict, run_info: dict) -> list[Path]:
        """Write every report into the staging folder, then swap it in place of ``out``."""
        keep = {f"{r['student']}.json" for r in records}
        for entry in self.dir.iterdir():  # leftovers of an interrupted run: other students, old reports
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        paths = write_all(records, rubric, self.dir, timings, run_info)
        self.swap()
        return [self.out / p.relative_to(self.dir) for p in paths]

    def swap(self) -> None:
        """Replace ``out`` by the staging folder; the old folder is deleted once the new one is in place."""
        had_out = self.out.exists()
        if had_out:
            os.rename(self.out, self.replaced)
        try:
            os.rename(self.dir, self.out)
        except OSError:
            if had_out:
                os.rename(self.replaced, self.out)
            raise
        if had_out:
            shutil.rmtree(self.replaced)
