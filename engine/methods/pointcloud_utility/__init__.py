"""Utilities of point-cloud architectures (spec: pointcloud-utility §5): rotation and adversarial
robustness, neighbourhood consistency and information discarding from per-point σ."""
