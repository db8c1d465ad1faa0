"""Known-wrong rows for the contract of assignment 03: (name, base, old, new, fails, reason) as in
known_wrong.py's `_w`, the assignment implied. Each violates one clause of the released notebook's
contract (autograder/grading/rubric/contracts/) and loses exactly the lines in `fails`."""

ROWS: list[tuple] = [
]
