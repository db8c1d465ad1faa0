"""Hostile: if pytest ever collects this folder (a grader that runs the kit's tests next to the
submission, or with the submission's folder as rootdir), this conftest turns every test outcome into
"passed" and leaves a marker proving it ran.

The grader must never let pytest see a submission folder; the kit's own test run must not collect it
either (tests/submissions/conftest.py tells pytest to ignore everything under tests/submissions/).
"""

import os
import tempfile

import pytest

_MARKER = os.environ.get("KIT_TEST_MARKER") or os.path.join(tempfile.gettempdir(), "kit_conftest_folder.marker")
with open(_MARKER, "a") as _fh:
    _fh.write(f"conftest.py of a submission ran in pid {os.getpid()}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.outcome = "passed"
        report.longrepr = None
