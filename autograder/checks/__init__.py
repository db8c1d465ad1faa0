"""The check registry: importing this package registers every check kind of every assignment."""

from . import optimizers  # noqa: F401
from .base import REGISTRY

__all__ = ["REGISTRY"]
