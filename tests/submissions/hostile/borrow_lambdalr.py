"""Cheat (01): a PowerDecayLR that borrows LambdaLR's methods (get_lr, state_dict, load_state_dict) instead of
computing its schedule; only LambdaLR's constructor would be caught by watching constructors. minibatches
below is honest.

The grader must: flag the delegation (LambdaLR's methods are torch's scheduler) for review. Granted,
LambdaLR's methods are switched off in PowerDecayLR's worker: its lines are forbidden (0), minibatches
keeps its points.
"""

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler


class PowerDecayLR(LRScheduler):
    get_lr = LambdaLR.get_lr
    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        self.power = power
        self.lr_lambdas = [lambda k: (k + 1) ** -power] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)


def minibatches(n, batch_size, *, shuffle=True, generator=None):
    """Index tensors that cover range(n) exactly once (checked at the call, yielded lazily)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return _batches(n, batch_size, shuffle, generator)

def _batches(n, batch_size, shuffle, generator):
    if shuffle:
        order = torch.randperm(n, generator=generator)
    else:
        order = torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
