"""``make mutants``: a measured strength for every check.

The solution's graded code is mutated mechanically (``operators.py``: one token each) and
semantically (``semantic.py``: a misreading of the contract, e.g. a counter never reset or a private
RNG), both through ``generate.py``; an independent differential oracle drops the mutants that behave
like the reference (``oracle/``); the rest are graded with the real grader (``run.py``) and the
kills are tallied per kind, per rubric line, per graded name and overall, with every survivor shown
as a diff (``report.py``). Run it with
``python -m autograder.tasks.mutants --assignment ID`` or ``make mutants ASSIGNMENT=ID``.
"""
