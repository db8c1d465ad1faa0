"""The check registry: importing this package registers every check kind of every assignment."""

from . import (
    gradient_descent,  # noqa: F401
    optimizers,  # noqa: F401
    regularization,  # noqa: F401
)
from .base import REGISTRY

__all__ = ["REGISTRY"]
