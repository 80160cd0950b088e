"""A filter's region on the image and its IoU with part masks (spec: interpretable-cnn §2.8 steps 1-4)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def thresholds(maps: np.ndarray, top_share: float) -> np.ndarray:
    """(C,) T_f with p(x > T_f) = top_share over all positions of all maps (N,C,h,w) (step 1)."""
    per_filter = np.moveaxis(maps, 1, 0).reshape(maps.shape[1], -1)
    return np.quantile(per_filter, 1.0 - top_share, axis=1).astype(np.float32)


def disc_cover(side: tuple[int, int], image: tuple[int, int], centre: float, stride: float,
               radius: float) -> torch.Tensor:
    """(h·w, H·W) 1 where pixel p lies within `radius` of unit u's RF centre (§0.2 pixel centres)."""
    rows = centre + stride * torch.arange(side[0], dtype=torch.float64)
    cols = centre + stride * torch.arange(side[1], dtype=torch.float64)
    uy, ux = torch.meshgrid(rows, cols, indexing="ij")
    py, px = torch.meshgrid(torch.arange(image[0], dtype=torch.float64),
                            torch.arange(image[1], dtype=torch.float64), indexing="ij")
    d2 = (uy.reshape(-1, 1) - py.reshape(1, -1)) ** 2 + (ux.reshape(-1, 1) - px.reshape(1, -1)) ** 2
    return (d2 <= radius ** 2).float()


def valid(maps: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """x ≥ T_f and x > 0: the top share with ties counted in (a map that is 1 on a part and 0
    elsewhere has T_f = 1), and never a silent position (a filter silent on 99.5 % has T_f = 0)."""
    return (maps >= threshold.view(1, -1, 1, 1)) & (maps > 0)


def regions(maps: torch.Tensor, threshold: torch.Tensor, image: tuple[int, int], cover=None) -> torch.Tensor:
    """(B,C,H·W) bool S_f: the union of round RFs of the valid units (cover given, step 2),
    else the bilinearly upsampled map where valid."""
    b, c = maps.shape[:2]
    if cover is not None:
        units = valid(maps, threshold).float().reshape(b * c, -1)
        return (units @ cover > 0).reshape(b, c, -1)
    up = F.interpolate(maps, size=image, mode="bilinear", align_corners=False)
    return valid(up, threshold).reshape(b, c, -1)


def ious(region: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(B,C,P) |S_f ∩ S_k| / |S_f ∪ S_k| of regions (B,C,HW) and part masks (B,P,HW); NaN where
    the image lacks part k (step 3)."""
    r, m = region.float(), masks.float()
    inter = torch.bmm(r, m.transpose(1, 2))
    union = r.sum(2, keepdim=True) + m.sum(2)[:, None, :] - inter
    present = (m.sum(2) > 0)[:, None, :]
    return torch.where(present, inter / union.clamp_min(1.0), torch.full_like(inter, float("nan")))
