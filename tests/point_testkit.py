"""pointcloud-utility records built by hand (no σ optimisation): clouds from ShapeWorld or laid
out on purpose, σ a known function of each point's x, so every colour is predictable.

σ rises with x from SIGMA_LOW at the cloud's smallest x to the clamp σ_max at its largest:
importance is then highest at the left and 0 at the right, where points sit at the clamp.
The second model's σ runs the other way. Part labels come from the data, as the method keeps them.
"""
from __future__ import annotations

import math

import numpy as np

from engine.data import load_data
from engine.data.types import PointDataset
from engine.methods.pointcloud_utility.config import PointUtilityConfig
from engine.methods.pointcloud_utility.result import ModelUtility, PointUtilityResult

SIGMA_LOW = 0.004
TARGETS = 3
MODEL, MODEL2 = "demo:pointnet", "demo:pointnet-plain"


def entropy_of(sigma: np.ndarray) -> np.ndarray:
    return 3.0 * (0.5 * math.log(2 * math.pi * math.e) + np.log(sigma))  # result.py's H_i


def sigma_along_x(points: np.ndarray, sigma_max: float, rising: bool = True) -> np.ndarray:
    x = points[..., 0]
    lo, hi = x.min(-1, keepdims=True), x.max(-1, keepdims=True)
    share = (x - lo) / np.maximum(hi - lo, 1e-9)
    share = share if rising else 1 - share
    return np.exp(np.log(SIGMA_LOW) + share * (math.log(sigma_max) - math.log(SIGMA_LOW))).astype(np.float32)


def model_utility(points: np.ndarray, config: PointUtilityConfig, rising: bool, offset: float) -> ModelUtility:
    b = len(points)
    sigma = sigma_along_x(points, config.sigma_max, rising)
    entropy = entropy_of(sigma).astype(np.float32)
    importance = np.maximum(entropy_of(np.float32(config.sigma_max)) - entropy, 0).astype(np.float32)
    costs = np.tile(np.array([0.5 + offset, np.nan, 1.5 + offset]), (b, 1))   # target 1 never fooled
    return ModelUtility(layer="fc512", sigma=sigma, entropy=entropy, importance=importance,
                        calibrated=np.ones(b, bool), chosen_ratio=np.full(b, 2.0 + offset),
                        neighbourhood=np.arange(b, dtype=np.float64) + offset,
                        clipped=(sigma >= 0.99 * config.sigma_max).mean(1),
                        rotation=np.linspace(0.1, 0.2, b) + offset, attack_cost=costs,
                        attack_targets=np.tile(np.arange(TARGETS), (b, 1)), accuracy=0.75)


def utility_record(data: PointDataset, model2: bool = True):
    config = PointUtilityConfig(samples=len(data))
    second = model_utility(data.points, config, rising=False, offset=10.0) if model2 else None
    result = PointUtilityResult(config, data.points, data.labels, list(data.class_names), list(data.names),
                                model_utility(data.points, config, rising=True, offset=0.0), second,
                                MODEL2 if model2 else "", data.part_labels, list(data.part_names))
    return result.to_record(MODEL, data.spec, 0)


def shapeworld_record(samples: int = 3, points: int = 512, model2: bool = True):
    return utility_record(load_data(f"demo:shapeworld?n={samples}&seed=4&points={points}"), model2)


def three_dot_record(label: int = 3):
    """One cloud of three points on the x axis at −0.8, 0, 0.8, of class `label`."""
    points = np.array([[[-0.8, 0.0, 0.0], [0.0, 0.0, 0.0], [0.8, 0.0, 0.0]]], np.float32)
    data = PointDataset(points, np.array([label]), [f"class{k}" for k in range(max(label + 1, 4))],
                        spec="hand:three-dots", part_labels=np.array([[0, 1, -1]]), part_names=["a/left", "a/mid"],
                        names=["three-dots"])
    return utility_record(data)
