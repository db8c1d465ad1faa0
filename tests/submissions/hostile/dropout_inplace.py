"""Cheat: Dropout calls torch.dropout_ (the in-place kernel the old scan's prefix rule let through:
"torch.dropout" was never matched when "_" followed). (For 03_regularization.)

The grader must: flag the call for review (static evidence). Granted, torch's dropout is switched off in
Dropout's worker: every Dropout line gets 0 with status "forbidden".
"""

import torch
from torch import nn


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def forward(self, x):
        return torch.dropout_(x.clone(), self.p, self.training)
