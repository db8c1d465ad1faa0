"""Request handlers (registered on import). Split by assignment; shared helpers in ``common``. The
tripwires are installed by the zygote with the names the grader sends (``tripwires.install``)."""

from . import ops_common, ops_gradient_descent, ops_optimizers, ops_regularization  # noqa: F401
