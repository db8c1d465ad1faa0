"""Keep pytest out of the submission corpus.

Everything below tests/submissions/ is data graded by the kit's tests, not tests: student files that
hang, fork or exit at import, and a hostile folder with its own conftest.py / pytest.ini. Ignoring the
whole tree here stops pytest from collecting those files or loading the hostile conftest.py when the
kit's suite runs (`make test`). The engine's tests read the files by path and import known_wrong.py as
`tests.submissions.known_wrong`, which this does not affect.
"""

collect_ignore_glob = ["*"]
