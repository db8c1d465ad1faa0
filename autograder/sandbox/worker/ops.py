"""Request handlers (registered on import). Split by assignment; shared helpers in ``common``."""

from . import ops_common, ops_gradient_descent, ops_optimizers, ops_regularization, tripwires  # noqa: F401

tripwires.install()
