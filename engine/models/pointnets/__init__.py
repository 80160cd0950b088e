"""Point-cloud classifiers for the utility analyses (issue 6 §2; spec: pointcloud-utility §5).

`pointnet`, `pointnet2-ssg`, `pointnet2-msg` and `dgcnn`, each taking clouds (B, N, 3) in
the unit sphere at the N it was built for (`num_points`), each with the spec's `fc512`
endpoint as its default layer. The §5.4 modules are constructor switches saved in
arch_args (`density`, `weight`, `orientation`; multi-scale is MSG against SSG), so that a
model with a module and one without differ in exactly that module. Every sampling choice
goes through an optional `SamplingPlan` (`_grouping`), recorded on a clean cloud and
reused on its perturbed copy (§5.2 "Fixed sampling").
"""
from __future__ import annotations

from engine.models.pointnets import dgcnn, pointnet, pointnet2
from engine.models.pointnets._grouping import SamplingPlan, record_plan

ARCHITECTURES = {pointnet.ARCH: pointnet.PointNet, pointnet2.SSG_ARCH: pointnet2.build_ssg,
                 pointnet2.MSG_ARCH: pointnet2.build_msg, dgcnn.ARCH: dgcnn.DGCNN}
# the switches each architecture takes (training's `--set NAME=true`)
SWITCHES = {pointnet.ARCH: ("tnets", "orientation"),
            pointnet2.SSG_ARCH: ("density", "weight", "orientation"),
            pointnet2.MSG_ARCH: ("density", "weight", "orientation"),
            dgcnn.ARCH: ("density", "weight", "orientation")}

__all__ = ["ARCHITECTURES", "SWITCHES", "SamplingPlan", "record_plan"]
