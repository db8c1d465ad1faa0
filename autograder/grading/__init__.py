"""The grading pipeline: load a submission (``loader``), decide what the policy allows (``review``),
grade one student (``engine``) or a class (``batch``), and keep the results as plain records
(``results``), scored by the rubric (``rubric``)."""
