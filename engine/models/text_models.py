"""Our text classifiers over word tokens: a Kim-style CNN, an LSTM and a Transformer.

All three share the interface the text analyses rely on (`TextClassifier`):

* `embed(tokens (B,T) int64) -> (B,T,K)`: the rows a perturbation method adds noise to;
* `forward_embedded(embedded (B,T,K), mask (B,T) bool) -> logits (B,C)`, differentiable
  in `embedded`; rows where `mask` is False (padding) never reach the logits;
* `forward(tokens, mask=None)`: `forward_embedded(embed(tokens), mask or tokens != PAD)`;
* `layer_names`: the per-token hidden-state modules in depth order; a forward hook on
  each sees one tensor (B,T,H), token j of the output belonging to word j.

Padding never changes a sentence's logits, so a sentence alone and in a padded batch get
the same answer. A hook that cuts rows out of a layer's output (`forward_by_rows`) makes
the next masked step raise RuntimeError: the mask cannot follow, so the caller falls
back to one full forward pass.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.models.tokenizer import MAX_TOKENS, PAD

EMBED_DIM = 64


def _check_rows(hidden: torch.Tensor, mask: torch.Tensor) -> None:
    if hidden.shape[:2] != mask.shape:
        raise RuntimeError(f"hidden states {tuple(hidden.shape)} do not match the token mask "
                           f"{tuple(mask.shape)} (rows cut by a hook?)")


def zero_pads(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`hidden` (B,T,H) with padded rows set to zero."""
    _check_rows(hidden, mask)
    return torch.where(mask.unsqueeze(-1), hidden, torch.zeros((), dtype=hidden.dtype, device=hidden.device))


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the valid tokens, (B,T,H) → (B,H); zero for a sentence without any."""
    count = mask.sum(1, keepdim=True).clamp(min=1).to(hidden.dtype)
    return zero_pads(hidden, mask).sum(1) / count


class TextClassifier(nn.Module):
    """The shared interface (module docstring); subclasses define `embed` and `forward_embedded`."""

    layer_names: tuple[str, ...] = ()
    default_layer: str = ""

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_embedded(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_embedded(self.embed(tokens), tokens != PAD if mask is None else mask)


class TokenConv(nn.Module):
    """A 1-D convolution over tokens and a ReLU, (B,T,C_in) → (B,T,C_out), length kept."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)


class TextCNN(TextClassifier):
    """Kim (2014)-style: embedding, two token convolutions, max over time, a linear head."""

    layer_names = ("conv1", "conv2")
    default_layer = "conv2"

    def __init__(self, num_classes: int = 2, vocab_size: int = 2, dim: int = EMBED_DIM,
                 width: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.conv1 = TokenConv(dim, width)
        self.conv2 = TokenConv(width, width)
        self.fc = nn.Linear(width, num_classes)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embedding(tokens)

    def forward_embedded(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # zeroing padded rows before each convolution makes them look like the convolution's
        # own zero padding, so a sentence's features do not depend on its batch's length
        hidden = self.conv2(zero_pads(self.conv1(zero_pads(embedded, mask)), mask))
        return self.fc(zero_pads(hidden, mask).amax(dim=1))  # ReLU outputs ≥ 0 = a zeroed pad


class TokenLSTM(nn.Module):
    """One single-layer LSTM returning only its per-token outputs (B,T,H), not the state tuple."""

    def __init__(self, d_in: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(d_in, hidden, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]


class TextLSTM(TextClassifier):
    """Embedding, two stacked one-directional LSTMs, mean over valid tokens, a linear head.

    One-directional: trailing padding cannot reach a valid token's state.
    """

    layer_names = ("lstm1", "lstm2")
    default_layer = "lstm2"

    def __init__(self, num_classes: int = 2, vocab_size: int = 2, dim: int = EMBED_DIM,
                 hidden: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.lstm1 = TokenLSTM(dim, hidden)
        self.lstm2 = TokenLSTM(hidden, hidden)
        self.fc = nn.Linear(hidden, num_classes)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embedding(tokens)

    def forward_embedded(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.lstm2(self.lstm1(zero_pads(embedded, mask)))
        return self.fc(masked_mean(hidden, mask))


class TextTransformer(TextClassifier):
    """Token + learned position embeddings, three encoder blocks, masked mean, a linear head.

    `embed` includes the positions (as BERT's embeddings do), so noise on an embedded row
    perturbs the word at its place.
    """

    layer_names = ("block1", "block2", "block3")
    default_layer = "block3"

    def __init__(self, num_classes: int = 2, vocab_size: int = 2, dim: int = EMBED_DIM,
                 heads: int = 4, max_tokens: int = MAX_TOKENS, dropout: float = 0.1) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.position = nn.Embedding(max_tokens, dim)
        for i in (1, 2, 3):
            setattr(self, f"block{i}", nn.TransformerEncoderLayer(
                dim, heads, 2 * dim, dropout, batch_first=True))
        self.fc = nn.Linear(dim, num_classes)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        return self.embedding(tokens) + self.position(positions).unsqueeze(0)

    def forward_embedded(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = embedded
        ignored = _ignored_keys(mask)
        for name in self.layer_names:
            _check_rows(hidden, mask)
            hidden = getattr(self, name)(hidden, src_key_padding_mask=ignored)
        return self.fc(masked_mean(hidden, mask))


def _ignored_keys(mask: torch.Tensor) -> torch.Tensor:
    """Keys attention skips: the padding, except the first of a sentence with no valid token
    (attending to nothing at all would give NaN)."""
    ignored = ~mask
    ignored[:, 0] &= mask.any(dim=1)
    return ignored


ARCHITECTURES = {"text-cnn": TextCNN, "text-lstm": TextLSTM, "text-transformer": TextTransformer}
