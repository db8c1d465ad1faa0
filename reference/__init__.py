"""The kit's trusted reference: every graded name of DESIGN.md, validated against torch.

Device-agnostic (CPU or CUDA, float32 or float64). Optimizers follow ``torch.optim``'s conventions
step for step and offer a per-tensor loop (the specification) and a multi-tensor ``foreach`` path.

The functional optimizers live in their modules (``reference.adam.adam`` ...); they are not
re-exported here so that ``reference.adam`` keeps naming the module.
"""

from reference.adagrad import Adagrad
from reference.adam import Adam
from reference.batchnorm import BatchNorm1d, BatchNorm2d, BatchNormFunction
from reference.data import minibatches
from reference.dropout import Dropout
from reference.rmsprop import RMSprop
from reference.schedule import PowerDecayLR
from reference.sgd import SGD
from reference.training import fit

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormFunction",
    "Dropout",
    "PowerDecayLR",
    "RMSprop",
    "fit",
    "minibatches",
]
