"""The lander bot's policy: an MLP that flies LunarLander-v3, its weights evolved by Neuromutant.

Neuromutant never rewrites this file, only ``weights/policy.safetensors``. Its
conventions: ``forward`` maps a batch of 8 observations to 4 scores, one per
engine action (the action is their argmax); the constructor takes ``obs_dim``,
``act_dim`` and ``hidden``; and the parameters are the linear layers in order,
weight then bias, so that evolution can add or remove hidden units.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Policy(nn.Module):
    """Observation in, tanh hidden layers, one score per action out."""

    def __init__(
        self, obs_dim: int = 8, act_dim: int = 4, hidden: Sequence[int] = (32, 32)
    ) -> None:
        super().__init__()
        widths = [obs_dim, *hidden, act_dim]
        self.layers = nn.ModuleList(
            nn.Linear(widths[k], widths[k + 1]) for k in range(len(widths) - 1)
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Scores of shape [batch, act_dim] for observations of shape [batch, obs_dim]."""
        for layer in self.layers[:-1]:
            obs = torch.tanh(layer(obs))
        return self.layers[-1](obs)
