"""Sampling and grouping for the point models, as batched torch ops (spec: pointcloud-utility §5.6).

Clouds are (B, N, 3), features channels-last (B, N, C). Every function here returns
indices (no gradient flows through a choice of points); `gather` turns them into points
or features, differentiably. Distances come from `torch.cdist` and choices from `topk`.

Fixed sampling (spec §5.2 "Fixed sampling (critical)", §5.7): a `SamplingPlan` keeps the
indices of one forward pass by name. The models take `model(points, plan=None)`:

    plan = SamplingPlan()
    model(clean, plan=plan)    # an empty plan records every choice made on the clean cloud
    model(noisy, plan=plan)    # a filled one is reused: the same centres and neighbours

Coordinates and features are always read from the cloud being processed, so the noise
moves the points while the discrete choices (FPS centres, ball queries, kNN graphs,
octant neighbours) stay those of the clean cloud.
"""
from __future__ import annotations

from typing import Callable

import torch

from engine.errors import BadInput

_CHUNK = 2**24  # distances held at once (64 MiB of float32), whatever the batch size


class SamplingPlan:
    """Indices by name (e.g. "sa1/centres"): recorded by the first forward, reused after."""

    def __init__(self) -> None:
        self.indices: dict[str, torch.Tensor] = {}

    def get(self, name: str, batch: int, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        """The recorded indices of `name`, or `compute()` recorded now."""
        if name not in self.indices:
            self.indices[name] = compute()
        indices = self.indices[name]
        if indices.shape[0] != batch:
            raise BadInput(f"the sampling plan was recorded on {indices.shape[0]} clouds and is "
                           f"reused on {batch}; record it on the clean copy of these clouds")
        return indices

    def tiled(self, times: int) -> "SamplingPlan":
        """The plan of the clouds repeated `times` over (row r is cloud r mod B), without a
        forward pass: each index tensor repeated along the batch."""
        plan = SamplingPlan()
        plan.indices = {name: indices.repeat(times, *[1] * (indices.dim() - 1))
                        for name, indices in self.indices.items()}
        return plan


def planned(plan: SamplingPlan | None, name: str, batch: int,
            compute: Callable[[], torch.Tensor]) -> torch.Tensor:
    """`compute()`, through `plan` when there is one."""
    return compute() if plan is None else plan.get(name, batch, compute)


def record_plan(model: torch.nn.Module, points: torch.Tensor) -> SamplingPlan:
    """The plan of `model` on the clean `points` (B, N, 3), for reuse on perturbed copies."""
    plan = SamplingPlan()
    with torch.no_grad():
        model(points, plan=plan)
    return plan


def gather(values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """values (B, N, C) at indices (B, ...) → (B, ..., C)."""
    rows = indices.reshape(indices.shape[0], -1)
    picked = values.gather(1, rows.unsqueeze(-1).expand(-1, -1, values.shape[-1]))
    return picked.reshape(*indices.shape, values.shape[-1])


@torch.no_grad()
def farthest_point_sample(xyz: torch.Tensor, count: int) -> torch.Tensor:
    """(B, count) indices of well-spread points. Deterministic and independent of the point
    order: the first pick is the point farthest from the centroid (the authors'
    `fixed_farthest_point_sample`), each next one the point farthest from those picked."""
    batch, size, _ = xyz.shape
    if count > size:
        raise BadInput(f"farthest-point sampling of {count} centres from clouds of {size} points")
    rows = torch.arange(batch, device=xyz.device)
    picked = torch.empty(batch, count, dtype=torch.long, device=xyz.device)
    nearest = ((xyz - xyz.mean(1, keepdim=True)) ** 2).sum(-1)
    for i in range(count):
        picked[:, i] = nearest.argmax(1)
        step = ((xyz - xyz[rows, picked[:, i]].unsqueeze(1)) ** 2).sum(-1)
        nearest = step if i == 0 else torch.minimum(nearest, step)
    return picked


def _in_chunks(per_cloud: int, compute, *batched: torch.Tensor):
    """`compute(*batched)` over batch chunks whose N×N-like work stays under `_CHUNK`
    entries; the chunks' results (a tensor or a tuple of them) joined along the batch."""
    step = max(1, _CHUNK // max(per_cloud, 1))
    parts = [compute(*chunk) for chunk in zip(*(t.split(step) for t in batched))]
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(column) for column in zip(*parts))
    return torch.cat(parts)


def _nearest(queries: torch.Tensor, points: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(distances, indices), each (B, M, k): the k nearest `points` of every query, nearest first."""
    return _in_chunks(queries.shape[1] * points.shape[1],
                      lambda q, p: tuple(torch.cdist(q, p).topk(k, dim=-1, largest=False)),
                      queries, points)


@torch.no_grad()
def knn(xyz: torch.Tensor, queries: torch.Tensor, k: int) -> torch.Tensor:
    """(B, M, k) indices of the k nearest points of `xyz` (B, N, C) to each query (B, M, C),
    nearest first (a query that is a point of the cloud finds itself first)."""
    if k > xyz.shape[1]:
        raise BadInput(f"{k} nearest neighbours asked of clouds of {xyz.shape[1]} points")
    return _nearest(queries, xyz, k)[1]


@torch.no_grad()
def ball_query(xyz: torch.Tensor, centres: torch.Tensor, radius: float, k: int) -> torch.Tensor:
    """(B, M, k) indices of up to k points within `radius` of each centre, nearest first;
    a ball with fewer repeats its nearest point (the centre itself when it is in the cloud).
    Nearest-first rather than PointNet++'s first-by-index keeps the groups independent of
    the point order (the permutation invariance the models are tested for)."""
    distances, indices = _nearest(centres, xyz, min(k, xyz.shape[1]))
    return torch.where(distances <= radius, indices, indices[..., :1])


@torch.no_grad()
def octant_neighbours(xyz: torch.Tensor, radius: float) -> torch.Tensor:
    """(B, N, 8) index of the nearest other point in each octant around every point, within
    `radius`; the point itself where an octant has none (spec §5.4 (d), PointSIFT's select).
    Octant o = 4·[x_j > x_i] + 2·[y_j > y_i] + [z_j > z_i], so octants 2i and 2i+1 differ in
    z, pairs of pairs in y, halves in x: the order the orientation convolutions merge them."""
    return _in_chunks(xyz.shape[1] ** 2, lambda chunk: _octant_picks(chunk, radius), xyz)


def _octant_picks(xyz: torch.Tensor, radius: float) -> torch.Tensor:
    batch, size, _ = xyz.shape
    distances = torch.cdist(xyz, xyz)
    octant = torch.zeros(batch, size, size, dtype=torch.uint8, device=xyz.device)
    for axis, weight in enumerate((4, 2, 1)):  # entry (i, j): is j above i along the axis
        coordinate = xyz[..., axis]
        octant += (coordinate.unsqueeze(1) > coordinate.unsqueeze(2)).to(torch.uint8) * weight
    eligible = (distances <= radius) & ~torch.eye(size, dtype=torch.bool, device=xyz.device)
    self_index = torch.arange(size, device=xyz.device).expand(batch, size)
    picks = []
    for o in range(8):
        best, index = torch.where(eligible & (octant == o), distances, torch.inf).min(-1)
        picks.append(torch.where(torch.isfinite(best), index, self_index))
    return torch.stack(picks, -1)
