"""Course tasks around grading: class runs into safe output folders, nbgrader autograde, publishing
hidden details, and the files they share (content hashes, nbgrader's folder layout).

The grading pipeline itself (loader, sandbox, checks, engine) knows nothing of these; they call it.
"""
