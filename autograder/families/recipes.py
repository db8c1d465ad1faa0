"""Which worker grades which graded name: the torch implementations its guards switch off
(``sandbox/guards.py``) and the trusted stand-ins it is given (``sandbox/standins/``).

One rule keeps a score the student's own: the worker that grades a name holds no working
implementation of it, neither torch's (switched off) nor the kit's (a stand-in is only sent to the
workers of *other* names that need it). Graded names with the same recipe share a worker.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """``disabled``: guard families (``sandbox.guards.GUARDS``) switched off in the worker;
    ``standins``: stand-ins (``sandbox.standins.FILES``) loaded into it."""

    disabled: tuple[str, ...] = ()
    standins: tuple[str, ...] = ()


_OPTIMIZER = Recipe(disabled=("optimizers",))
_BATCHNORM_MODULE = Recipe(disabled=("norms",), standins=("BatchNormFunction", "sgd"))

RECIPES: dict[str, Recipe] = {
    # 01_gradient_descent: fit runs with the stand-in minibatches and torch's SGD and LambdaLR
    "PowerDecayLR": Recipe(disabled=("schedulers",)),
    "minibatches": Recipe(),
    "fit": Recipe(standins=("minibatches",)),
    # 02_optimizers: the convergence problems need no stand-in
    "SGD": _OPTIMIZER,
    "Adagrad": _OPTIMIZER,
    "RMSprop": _OPTIMIZER,
    "Adam": _OPTIMIZER,
    # 03_regularization: the layers' convergence runs train with the stand-in SGD step
    "Dropout": Recipe(disabled=("dropout",), standins=("sgd",)),
    "BatchNormFunction": Recipe(disabled=("norms",)),
    "BatchNorm1d": _BATCHNORM_MODULE,
    "BatchNorm2d": _BATCHNORM_MODULE,
}


def recipe_of(name: str) -> Recipe:
    """The recipe of graded name ``name`` (``KeyError`` naming it when the table lacks one)."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"no worker recipe for the graded name {name!r} (families/recipes.py)") from None
