"""Utilities of point-cloud architectures (spec: pointcloud-utility §5): rotation and adversarial
robustness, neighbourhood consistency and information discarding from per-point σ."""
from engine.methods.base import Method
from engine.methods.pointcloud_utility.api import compute
from engine.methods.pointcloud_utility.config import PointUtilityConfig
from engine.methods.pointcloud_utility.result import KIND, PointUtilityResult

METHOD = Method("pointcloud-utility", KIND, "rotation and adversarial robustness, neighbourhood consistency "
                "and per-point entropy of a point-cloud classifier (with --model2: with vs without a module)",
                PointUtilityConfig, PointUtilityResult, compute, accepts_model2=True, input_kinds=("points",))
