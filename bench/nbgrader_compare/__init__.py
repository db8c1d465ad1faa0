"""The kit side by side with plain nbgrader on the same 20 notebook submissions (issue 13, item 3).

Material (built by ``generate.py`` at every run from ``solutions/`` and the two tables next to it,
``hidden_tests.py`` and ``submissions.py``): ``source/`` holds the instructor notebooks with
hand-written hidden tests, ``submissions/`` the 20 student notebooks.
``python -m bench.nbgrader_compare`` grades them both ways and prints the times and which bugs each
way catches.
"""
