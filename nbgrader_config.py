"""nbgrader configuration of the kit (loaded by the nbgrader CLI and by ``autograder.release``).

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

# `nbgrader autograde` executes whole notebooks, experiments included: give them time.
c.Execute.timeout = 300
