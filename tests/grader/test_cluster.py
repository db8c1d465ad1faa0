"""``grade --cluster``: a class graded on a Dask cluster (a ``LocalCluster`` of two worker processes
here) writes the same bytes as a local run, and submissions travel to the workers intact."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import distributed  # a pinned requirement: a missing one is a broken venv, which must fail, not skip
import pytest

from autograder.grading.batch import choose_level
from autograder.grading.cluster import ClusterLanes, SubmissionTooLarge, pack, unpack
from autograder.grading.rubric import load_rubric
from autograder.tasks.classrun import ClassRun, run_class

ROOT = Path(__file__).resolve().parents[2]
A = "01_gradient_descent"
CORRECT = ROOT / "tests/submissions" / A / "correct"


def small_class(folder: Path) -> list[Path]:
    """Three students of 01: two files and one folder (with a stray second file)."""
    folder.mkdir(parents=True)
    shutil.copy(CORRECT / "loop.py", folder / "ann.py")
    shutil.copy(CORRECT / "classes.py", folder / "ben.py")
    (folder / "cid").mkdir()
    shutil.copy(CORRECT / "functional.py", folder / "cid" / "gradient_descent.py")
    (folder / "cid" / "notes.txt").write_text("scratch\n")
    return sorted(folder.iterdir())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file a run wrote, except run.json (wall times, jobs, the machine)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "run.json"}


def test_pack_and_unpack_carry_a_folder_and_refuse_escapes(tmp_path):
    paths = small_class(tmp_path / "class")
    files = pack(paths[2])
    assert sorted(files) == ["cid/gradient_descent.py", "cid/notes.txt"]
    target = unpack(files, tmp_path / "remote", "cid")
    assert (target / "gradient_descent.py").read_bytes() == (paths[2] / "gradient_descent.py").read_bytes()
    assert unpack(pack(paths[0]), tmp_path / "remote2", "ann.py").read_bytes() == paths[0].read_bytes()
    with pytest.raises(ValueError, match="outside"):
        unpack({"../evil.py": b"x"}, tmp_path / "remote3", "evil.py")


def test_an_oversized_submission_is_refused_before_it_travels(tmp_path, monkeypatch):
    from autograder.grading import cluster

    monkeypatch.setattr(cluster, "MAX_SUBMISSION_BYTES", 10)
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "gradient_descent.py").write_text("x = 1\n" * 10)
    with pytest.raises(SubmissionTooLarge):
        pack(tmp_path / "big")
    with pytest.raises(SubmissionTooLarge):  # a single file too, before it is read
        pack(tmp_path / "big" / "gradient_descent.py")


@pytest.mark.xdist_group("cluster")
def test_a_class_graded_on_a_local_cluster_is_byte_identical_to_a_local_run(tmp_path):
    paths = small_class(tmp_path / "class")
    rubric = load_rubric(A)
    level = choose_level(None)
    local = run_class(ClassRun(rubric, paths, tmp_path / "local", jobs=1, level=level))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        done: list[str] = []
        with ClusterLanes(cluster.scheduler_address, level) as lanes:
            assert lanes.jobs == 2
            remote = run_class(ClassRun(rubric, paths, tmp_path / "remote", level=level, lanes=lanes),
                               on_done=done.append)
    assert sorted(done) == ["ann", "ben", "cid"]  # progress as each student comes back
    assert [r["score"] for r in local.records] == [rubric.max_score] * 3  # a real grading, full marks
    assert remote.records == local.records
    assert snapshot(tmp_path / "remote") == snapshot(tmp_path / "local")
    run = json.loads((tmp_path / "remote" / "run.json").read_text())
    assert run["students"] == ["ann", "ben", "cid"] and run["jobs"] == 2


class KillOnce(distributed.WorkerPlugin):
    """Ends its worker's process the first time a student starts on it anywhere in the cluster (a machine
    lost mid-student); ``marker`` records that it happened."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs) -> None:
        if finish != "executing" or not str(key).startswith("grade-"):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(1)


@pytest.mark.xdist_group("cluster")
def test_a_student_whose_worker_is_lost_is_graded_again_on_another(tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import the tests
    paths = small_class(tmp_path / "class")[:2]
    rubric = load_rubric(A)
    level = choose_level(None)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.register_plugin(KillOnce(str(marker)), name="kill-once")
        with ClusterLanes(cluster.scheduler_address, level, client=client) as lanes:
            remote = run_class(ClassRun(rubric, paths, tmp_path / "remote", level=level, lanes=lanes))
    assert marker.exists()  # a worker did die with a student on it
    assert [r["student"] for r in remote.records] == ["ann", "ben"]
    assert [r["score"] for r in remote.records] == [rubric.max_score] * 2  # both graded in full
