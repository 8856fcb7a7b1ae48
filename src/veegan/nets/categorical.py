"""The generator's output for a table with categorical columns: each column's block of logits
becomes a point on the simplex in training (a Gumbel-softmax sample, Jang et al. 2017, as
CTGAN does, or a plain softmax) and a one-hot vector in evaluation (the argmax), which is what
``veegan sample`` decodes and what the metrics compare with the real one-hot rows."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class CategoricalOutput(nn.Module):
    """Applied to G's output: the continuous values pass unchanged; each categorical block
    [start, end) is relaxed (training) or made one-hot (evaluation). No parameters."""

    def __init__(self, spans: Sequence[tuple[int, int]], kind: str = "gumbel", temperature: float = 0.2) -> None:
        super().__init__()
        if kind not in ("gumbel", "softmax"):
            raise ValueError(f"categorical output {kind!r}: gumbel or softmax")
        self.spans, self.kind, self.temperature = [tuple(s) for s in spans], kind, temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.spans:
            return x
        pieces, last = [], 0
        for start, end in self.spans:
            pieces += [x[:, last:start], self._category(x[:, start:end])]
            last = end
        pieces.append(x[:, last:])
        return torch.cat(pieces, dim=1)

    def _category(self, logits: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return F.one_hot(logits.argmax(1), logits.shape[1]).to(logits.dtype)
        if self.kind == "gumbel":
            return F.gumbel_softmax(logits, tau=self.temperature, hard=False, dim=1)
        return logits.softmax(1)

    def extra_repr(self) -> str:
        return f"spans={self.spans}, kind={self.kind}, temperature={self.temperature}"
