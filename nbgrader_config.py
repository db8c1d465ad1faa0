"""nbgrader configuration of the kit (loaded by the nbgrader CLI and by ``autograder.tasks.release``).

The course root is this repository: nbgrader's *source* folder is ``solutions/`` (instructor notebooks),
its *release* folder is ``assignments/`` (what students get, committed). Everything nbgrader writes
while grading (``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``) is git-ignored.
"""

import os

c = get_config()  # noqa: F821 - injected by traitlets when it executes this file

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "optim-dl"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# What replaces a solution region in the released notebook. A plain NotImplementedError() would leave
# a student wondering what went wrong; the message says what to do. Tests read the message from here.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE\n"
        'raise NotImplementedError("Replace this line with your code (see the docstring and contract above)")'
    )
}

# Only used by notebook execution outside grading (KitGrades replaces Execute in autograde, below).
c.Execute.timeout = 300

# `nbgrader autograde` grades with the kit, not by running the notebook in a kernel: KitGrades takes
# Execute's place (student code then runs only in the kit's sandbox) and writes each graded name's
# points into its test cell, so the gradebook and `make grade` agree. Order: the trusted cells were
# restored by the sanitize step (OverwriteCells) before this list runs; SaveAutoGrades must come after
# KitGrades, since it reads the outputs KitGrades wrote.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.tasks.nbgrader_plugin import KitFeedback, KitGrades, KitNotebookExporter  # noqa: E402

# A submitted notebook nbgrader cannot read (not JSON, not a notebook) becomes the released notebook with
# a note saying why, so the student is recorded with 0 points and the reason instead of failing the run
# (the exporter tells KitGrades in-process; KitGrades reads nothing from a notebook's metadata).
c.Autograde.exporter_class = KitNotebookExporter
# A test cell the student deleted is put back from the gradebook (OverwriteCells, in the sanitize step), so
# KitGrades writes its points there too: the gradebook equals the kit's record, which never depends on
# test cells (the grader skips them).
c.OverwriteCells.add_missing_cells = True
c.Autograde.autograde_preprocessors = [
    KitGrades,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback pages: KitFeedback writes each test cell's feedback for the student (code blocks, plots), hidden
# checks' details only once nbgrader's class is published (`make publish ASSIGNMENT=.. NBGRADER=1`, which
# the course folder remembers in grades/nbgrader/published.json; `make feedback` also writes the pages of
# students who handed in a .py file only).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [KitFeedback, GetGrades, CSSHTMLHeaderPreprocessor]
# Offline feedback pages: the kit's template is nbgrader's own with MathJax (a CDN script) left out, and
# each test cell named by its graded name.
from autograder.tasks.nbgrader_plugin import FEEDBACK_TEMPLATE_DIRS, FEEDBACK_TEMPLATE_FILE  # noqa: E402

c.HTMLExporter.template_file = FEEDBACK_TEMPLATE_FILE
c.HTMLExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS

# nbgrader's gradebook makes SQLAlchemy warn about its own session handling ("Object of type
# <SubmittedNotebook> not in session ...") several times per student: nothing a TA can act on.
import warnings  # noqa: E402

from sqlalchemy.exc import SAWarning  # noqa: E402

warnings.filterwarnings("ignore", category=SAWarning)
