"""The numbers the point-cloud view shows beside a cloud: its per-cloud metrics for each model
(spec: pointcloud-utility §5.3) and the values of one picked point."""
from __future__ import annotations

import numpy as np

from engine.figures.point_colours import model_names, prefix
from engine.methods.pointcloud_utility.result import background_mask, concentration


def _mean_cost(costs: np.ndarray) -> float:
    """Mean ‖ε‖² over the targets that were fooled (NaN when none was: §5.3 item 4)."""
    fooled = costs[np.isfinite(costs)]
    return float(fooled.mean()) if fooled.size else float("nan")


def _fooled_share(costs: np.ndarray) -> float:
    return float(np.isfinite(costs).mean()) if costs.size else float("nan")


# (row label, the number from `cloud(name)`: array `name` of one model at one cloud)
CLOUD_METRICS = (
    ("mean entropy (nats)", lambda cloud: cloud("entropy").mean()),
    ("mean importance (nats)", lambda cloud: cloud("importance").mean()),
    ("points at the clamp", lambda cloud: cloud("clipped")),
    ("neighbourhood inconsistency", lambda cloud: cloud("neighbourhood")),
    ("rotation divergence (JS)", lambda cloud: cloud("rotation")),
    ("attack cost ‖ε‖² (fooled)", lambda cloud: _mean_cost(cloud("attack_cost"))),
    ("targets fooled", lambda cloud: _fooled_share(cloud("attack_cost"))),
    ("D/D_ref of the iterate", lambda cloud: cloud("chosen_ratio")),
    ("calibrated", lambda cloud: cloud("calibrated")),
)


def model_labels(record) -> list[str]:
    return [record.model or "model", *([record.meta["model2"]] if record.meta.get("model2") else [])]


def cloud_rows(record, sample: int) -> tuple[list[str], list[list]]:
    """Header ["metric", model, (model2)] and one row per metric of cloud `sample`."""
    clouds = [lambda name, p=prefix(m): record.arrays[p + name][sample] for m in model_names(record)]
    rows = [[label, *(float(value(cloud)) for cloud in clouds)] for label, value in CLOUD_METRICS]
    background = background_mask(record.arrays.get("part_labels"), record.meta.get("part_names") or [])
    if background is not None and background[sample].any():  # information concentration (§5.3 item 2)
        rows.append(["background − object entropy", *(concentration(cloud("entropy")[None], background[sample][None])
                                                       for cloud in clouds)])
    return ["metric", *model_labels(record)], rows


def point_values(record, sample: int, index: int) -> list[tuple[str, str]]:
    """(name, text) of one point: where it is, its part, and σ, entropy, importance per model."""
    a = record.arrays
    x, y, z = a["points"][sample, index]
    values = [("point", f"{index} at ({x:.3f}, {y:.3f}, {z:.3f})")]
    if "part_labels" in a:
        part = int(a["part_labels"][sample, index])
        values.append(("part", record.meta["part_names"][part] if part >= 0 else "unknown"))
    for model, label in zip(model_names(record), model_labels(record)):
        p = prefix(model)
        values.append((label, f"σ {a[p + 'sigma'][sample, index]:.4g} · entropy {a[p + 'entropy'][sample, index]:.4g}"
                              f" · importance {a[p + 'importance'][sample, index]:.4g}"))
    return values
