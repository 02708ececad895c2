"""The cartpole bot's policy: a small MLP whose weights Neuromutant evolves.

Neuromutant never rewrites this file, only the weights it owns. It builds the
policy as ``Policy(**kwargs)`` and relies on two conventions: ``forward`` maps a
batch of observations to one output per action (the action is their argmax),
and the parameters are the linear layers in order, weight then bias, so that a
genome's flat vector and its hidden sizes can grow or shrink layer by layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn


class Policy(nn.Module):
    """An MLP with tanh hidden layers: observation in, one score per action out."""

    def __init__(self, obs_dim: int = 4, act_dim: int = 2, hidden: Sequence[int] = (16,)) -> None:
        super().__init__()
        sizes = [obs_dim, *hidden, act_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Scores of shape [batch, act_dim] for observations of shape [batch, obs_dim]."""
        x = obs
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)

    @torch.no_grad()
    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """The greedy action for each observation of a batch."""
        return self.forward(obs).argmax(dim=-1)
