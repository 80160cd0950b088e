"""Reconstruction uncertainty (Ma et al., metric B): decoders and the RU penalty.

spec: information §3.2. A decoder g_l learns to rebuild the input from ReLU f_l(x); then σ is
optimised to keep the feature close while making the reconstruction of x + σ·ε as unsure
as possible: the penalty is mean_pixels log(2πe·(g_l(ReLU f_l(x̃)) − x)² + 1e-6), with λ
growing e-fold over the run. The RU map is that log-square deviation, per pixel.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.jobs import Progress
from engine.layers import forward_to

TWO_PI_E = 2 * math.pi * math.e


class _Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x):
        return F.relu(x + self.body(x))


class Decoder(nn.Module):
    """Residual blocks, then ×2 nearest upsamplings up to the input size (deepinfo's shape,
    smaller: [ours] 2 blocks of width 16 instead of 6, for CPU budgets)."""

    def __init__(self, channels: int, feature_size: int, image_size: tuple[int, int],
                 width: int = 16, blocks: int = 2) -> None:
        super().__init__()
        self.image_size = image_size
        ups = max(0, round(math.log2(image_size[0] / feature_size)))
        self.stem = nn.Sequential(nn.Conv2d(channels, width, 3, padding=1), nn.ReLU())
        self.blocks = nn.Sequential(*[_Residual(width) for _ in range(blocks)])
        self.up = nn.Sequential(*[nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(width, width, 3, padding=1),
                                                nn.ReLU()) for _ in range(ups)])
        self.head = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, features):
        x = self.up(self.blocks(self.stem(features)))
        return F.interpolate(self.head(x), size=self.image_size, mode="bilinear", align_corners=False)


def train_decoders(module: nn.Module, images: torch.Tensor, layers: list[str], epochs: int,
                   seed: int, progress: Progress, batch_size: int = 16) -> dict[str, Decoder]:
    """One decoder a layer, trained by MSE to rebuild `images` (model-input space) from ReLU f_l."""
    torch.manual_seed(seed)
    with torch.no_grad():
        features = {k: v.relu() for k, v in forward_to(module, images, layers).items()}
    decoders = {}
    for index, layer in enumerate(layers):
        sub = progress.child(index / len(layers), (index + 1) / len(layers))
        decoders[layer] = _fit(features[layer], images, epochs, batch_size, sub, seed)
    return decoders


def _fit(features: torch.Tensor, images: torch.Tensor, epochs: int, batch_size: int,
         progress: Progress, seed: int) -> Decoder:
    if features.dim() != 4:
        raise ValueError(f"reconstruction needs spatial feature maps, got shape {tuple(features.shape)}")
    decoder = Decoder(features.shape[1], features.shape[2], tuple(images.shape[2:])).to(images.device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    n = len(images)
    for epoch in range(epochs):
        progress.step(epoch, epochs, f"decoder epoch {epoch + 1}/{epochs}")
        for batch in torch.randperm(n, generator=generator).split(batch_size):
            loss = F.mse_loss(decoder(features[batch]), images[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return decoder.eval().requires_grad_(False)


class ReconstructionPenalty:
    """Per row, mean over pixels and draws of log(2πe·dev² + 1e-6), dev = g_l(f̃) − x (§3.2)."""

    grows = True  # λ_y(t) = λ_y·e^{t/T}

    def __init__(self, decoders: dict, clean: torch.Tensor, layers: list[str], feature_shapes: dict) -> None:
        self.decoders, self.clean, self.layers, self.shapes = decoders, clean, layers, feature_shapes

    def log_deviation(self, own: dict) -> torch.Tensor:
        """(L, B, H, W): log(2πe·dev² + 1e-6) averaged over draws and colour channels."""
        rows = []
        for layer in self.layers:
            s, b = own[layer].shape[:2]
            rebuilt = self.decoders[layer](own[layer].reshape(s * b, *self.shapes[layer]))
            dev = rebuilt.reshape(s, b, *rebuilt.shape[1:]) - self.clean[None]
            rows.append(torch.log(TWO_PI_E * dev**2 + 1e-6).mean((0, 2)))
        return torch.stack(rows)

    def __call__(self, theta: torch.Tensor, own: dict) -> torch.Tensor:
        return self.log_deviation(own).mean((2, 3))

    def maps(self, own: dict) -> torch.Tensor:
        return self.log_deviation(own)
