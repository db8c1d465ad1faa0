"""Grade a class on a Dask distributed cluster (``grade ... --cluster tcp://HOST:PORT``): one student
per task, the same sandbox on every worker machine.

- The grader reads each submission (file or folder) and ships its bytes with the task, so the workers
  need the kit installed but no shared file system; a worker unpacks it under a private temporary
  folder with the student's own file or folder name and grades it exactly as ``batch`` does.
- Each Dask worker keeps one zygote (``ZygotePlugin``, started when the worker joins, closed when it
  leaves), so a worker pays torch's start-up once, not once per student.
- Records come back as the same dicts a local lane returns; the caller writes them on the trusted side,
  so a run's JSON files are byte-identical to a local run's.
- A worker lost mid-student re-queues that student on another worker (the scheduler's own retries,
  ``distributed.scheduler.allowed-failures``); ``retries`` covers a task that raised on the way.
- ``ClusterLanes`` has the interface of ``batch.Lanes``, so the progress bar, streaming to the staging
  folder and ``--resume`` work as in a local run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from distributed import Client, WorkerPlugin, as_completed, get_worker

from .batch import _error_record, grade_path
from .engine import GradingConfig
from .loader import student_id
from .review import Grants
from .rubric import Rubric

PLUGIN_NAME = "kit-zygote"
MAX_SUBMISSION_BYTES = 64 << 20  # what one student may ship to a worker
RETRIES = 2


class ClusterError(RuntimeError):
    """The cluster failed to grade a student (not a lost worker: those are re-queued), e.g. a scheduler
    or worker that cannot import the kit. The run stops; finished students stay in the staging folder."""


class SubmissionTooLarge(ValueError):
    """A submission folder holds more than ``MAX_SUBMISSION_BYTES``; it is not sent."""


def pack(path: Path) -> dict[str, bytes]:
    """The submission as ``{relative path: bytes}``, its own name first: a file, or every regular file
    under a folder (links are not followed; nothing outside the student's folder travels)."""
    path = Path(path)
    if path.is_file() and not path.is_symlink():
        # the size before the read: a huge file is refused without being read on the trusted side
        if path.stat().st_size > MAX_SUBMISSION_BYTES:
            raise SubmissionTooLarge(f"{path.name}: more than {MAX_SUBMISSION_BYTES >> 20} MiB")
        files = {path.name: path.read_bytes()}
    else:
        files, total = {}, 0
        for item in sorted(path.rglob("*")):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
                if total > MAX_SUBMISSION_BYTES:
                    raise SubmissionTooLarge(f"{path.name}: more than {MAX_SUBMISSION_BYTES >> 20} MiB")
                files[item.relative_to(path.parent).as_posix()] = item.read_bytes()
    return files


def unpack(files: dict[str, bytes], root: Path, name: str) -> Path:
    """Write ``files`` under ``root``; return the path of the submission (``root/name``)."""
    for rel, data in files.items():
        target = (root / rel).resolve()
        if root.resolve() not in target.parents:
            raise ValueError(f"refusing a path outside the submission: {rel}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if not files:  # an empty folder stays a (gradable, empty) folder
        (root / name).mkdir()
    return root / name


class ZygotePlugin(WorkerPlugin):
    """A Dask worker plugin: one zygote per worker process, started at ``setup``, closed at
    ``teardown``. ``level``: the isolation level asked for (None: the strongest the worker has)."""

    name = PLUGIN_NAME

    def __init__(self, level: str | None) -> None:
        self.level = level
        self.zygote = None

    def setup(self, worker) -> None:
        from ..sandbox.runner import Zygote

        self.zygote = Zygote(level=self.level)

    def teardown(self, worker) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None


def grade_remote(name: str, files: dict[str, bytes], rubric: Rubric, config: GradingConfig,
                 grants: dict[str, str] | None) -> tuple[dict, float, list[str]]:
    """On a Dask worker: grade one shipped submission in the worker's zygote (as ``batch._grade_one``)."""
    plugin = get_worker().plugins[PLUGIN_NAME]
    start = time.monotonic()
    faults: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kit-student-") as tmp:
        path = unpack(files, Path(tmp), name)
        record = grade_path(path, rubric, plugin.zygote, config, grants, faults)
    return record, time.monotonic() - start, faults


class ClusterLanes:
    """Lanes on a Dask cluster (``batch.Lanes``'s interface). ``level`` is what each worker is asked
    for (None: its strongest); ``jobs`` is the number of workers when the client connected."""

    def __init__(self, address: str, level: str | None = None, *, client=None) -> None:
        self.address = address
        self._client = client or Client(address)
        self._own_client = client is None
        self._client.register_plugin(ZygotePlugin(level), name=PLUGIN_NAME)
        self.level = level or "the strongest each worker has"
        self.jobs = max(1, len(self._client.scheduler_info().get("workers", {})))

    def grade(self, paths: list[Path], rubric: Rubric, config: GradingConfig, grants: Grants,
              finished: Callable) -> None:
        """Send one task per student; ``finished(record, seconds, faults)`` here as each comes back."""
        futures, students = [], {}
        for p in paths:
            sid = student_id(p)
            try:
                files = pack(p)
            except (OSError, SubmissionTooLarge) as exc:  # this student only; the class goes on
                finished(_error_record(sid, f"cannot send the submission to the cluster: {exc}", rubric), 0.0)
                continue
            futures.append(self._client.submit(
                grade_remote, Path(p).name, files, rubric, config, grants.get(sid),
                key=f"grade-{rubric.assignment}-{sid}-{time.monotonic_ns()}", pure=False, retries=RETRIES,
            ))
            students[futures[-1].key] = sid
        try:
            for fut in as_completed(futures):
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - the cluster's failure, never the student's
                    raise ClusterError(f"the Dask cluster at {self.address} could not grade "
                                       f"{students[fut.key]}: {str(exc).splitlines()[0]}") from exc
                finished(*result)
        except BaseException:
            self._client.cancel(futures)
            raise

    def close(self, *, cancel: bool = False) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ClusterLanes:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(cancel=exc_type is not None)
