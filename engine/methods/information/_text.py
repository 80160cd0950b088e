"""Per-token entropy of what a text layer keeps (Guan et al., spec: information §2).

Units are the embedded token rows (d = K); the distortion of a layer's per-token hidden
states is weighted per hidden unit by 1/r_j², r_j its std over the corpus's real tokens
(Guan's coherency, §2.2), and padding neither gets noise nor counts in the distortion.
"""
from __future__ import annotations

import torch

from engine.layers import forward_to
from engine.methods.information._gpe import GPEProblem
from engine.methods.information._units import TokenRows


class TextInputs:
    """The whole corpus encoded once, so every chunk shares one token length T."""

    def __init__(self, model, data, layers: list[str]) -> None:
        self.model, self.layers = model, layers
        self.tokens, self.mask, self.words = model.encode(data.texts)
        with torch.no_grad():
            self.embedded = model.module.embed(self.tokens)
        self.inverse_variance = self._corpus_inverse_variance()

    def features(self, embedded: torch.Tensor, mask: torch.Tensor) -> dict:
        """Hidden states (rows, T, H) of the chosen layers; `mask` tiles over the rows."""
        rows_mask = mask.repeat(embedded.shape[0] // mask.shape[0], 1)
        module = self.model.module
        return forward_to(module, embedded, self.layers, call=lambda e: module.forward_embedded(e, rows_mask))

    def _corpus_inverse_variance(self, batch: int = 64) -> dict:
        """1/r_j² per layer: r_j the std of hidden unit j over every real token of the corpus
        (per-token layers, (B, T, H)) or over the sentences (sentence layers such as logits)."""
        states: dict[str, list] = {layer: [] for layer in self.layers}
        self.per_token = {}  # layer → its output is (B, T, H) per token (else one row a sentence)
        with torch.no_grad():
            for start in range(0, len(self.tokens), batch):
                mask = self.mask[start:start + batch]
                feats = self.features(self.embedded[start:start + batch], mask)
                for layer in self.layers:
                    value = feats[layer]
                    self.per_token[layer] = value.dim() == 3
                    states[layer].append(value[mask] if value.dim() == 3 else value.reshape(len(value), -1))
        return {layer: 1.0 / torch.cat(v).float().std(0).clamp(min=1e-6) ** 2 for layer, v in states.items()}

    def _weights(self, layer: str, mask: torch.Tensor) -> torch.Tensor:
        """(B, M) weights of a flattened feature: 1/r_j², and zero on padded tokens."""
        w = self.inverse_variance[layer]
        if self.per_token[layer]:  # the same r_j at every real token
            return (w[None, None, :] * mask[:, :, None]).reshape(len(mask), -1)
        return w[None, :].expand(len(mask), -1)

    def units(self, mask: torch.Tensor) -> TokenRows:
        return TokenRows(self.tokens.shape[1], self.embedded.shape[2], mask)

    def problem(self, start: int, stop: int) -> GPEProblem:
        mask = self.mask[start:stop]
        weights = {layer: self._weights(layer, mask) for layer in self.layers}
        return GPEProblem(self.embedded[start:stop], self.layers, lambda e: self.features(e, mask), self.units(mask),
                          feature_weights=weights)
