"""Point-cloud models of issue 6 §2 (spec: pointcloud-utility §5.2, §5.4, §5.7): grouping by
known answers, permutation invariance, fixed sampling, the module switches, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.analysis import check_input
from engine.data import load_data
from engine.data.types import PointDataset
from engine.errors import BadInput
from engine.jobs import Progress
from engine.layers import forward_to
from engine.models import LoadedModel, build_arch, load_model
from engine.models.pointnets import SWITCHES, SamplingPlan, record_plan
from engine.models.pointnets._grouping import (ball_query, farthest_point_sample, gather, knn,
                                               octant_neighbours)
from engine.models.pointnets._modules import DensityWeighting, kernel_density
from engine.models.pointnets.recipe import augment_clouds, recalibrate_batchnorm
from engine.models.training import TrainConfig, accuracy_of, train

ARCHS = ("pointnet", "pointnet2-ssg", "pointnet2-msg", "dgcnn")
SMALL = 128  # points of the untrained test models: every layer runs, in milliseconds


def cloud(batch: int = 2, points: int = SMALL, seed: int = 0) -> torch.Tensor:
    """Random clouds on a noisy unit sphere (no two points at one distance from anything)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, points, 3, generator=g)
    return x / x.norm(dim=-1, keepdim=True) * (0.7 + 0.3 * torch.rand(batch, points, 1, generator=g))


def model(arch: str, seed: int = 0, **switches) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_arch(arch, num_classes=5, num_points=SMALL, **switches).eval()


# ------------------------------------------------------------------ grouping

def test_farthest_point_sampling_takes_the_cube_corners_before_its_centre():
    corners = torch.tensor([[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)])
    points = torch.cat([corners[:4], torch.zeros(1, 3), corners[4:]]).unsqueeze(0)  # centre at index 4
    picked = farthest_point_sample(points, 9)[0].tolist()
    assert sorted(picked[:8]) == [0, 1, 2, 3, 5, 6, 7, 8] and picked[8] == 4
    first, second = points[0, picked[0]], points[0, picked[1]]
    assert torch.equal(second, -first)  # the corner opposite the first


def test_ball_query_and_knn_agree_with_brute_force():
    xyz, centres = cloud(2, 64, seed=1), cloud(2, 10, seed=2)
    groups, neighbours = ball_query(xyz, centres, 0.5, 6), knn(xyz, centres, 5)
    for b in range(2):
        for m in range(10):
            distances = (xyz[b] - centres[b, m]).norm(dim=-1)
            order = distances.argsort()
            assert neighbours[b, m].tolist() == order[:5].tolist()
            inside = [i for i in order.tolist() if distances[i] <= 0.5][:6]
            expected = inside + [order[0].item()] * (6 - len(inside))
            assert groups[b, m].tolist() == expected


def test_octant_neighbours_pick_the_nearest_point_of_each_octant():
    signs = torch.tensor([[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)])
    near = 0.1 * signs * torch.arange(1, 9).unsqueeze(1) / 8  # octant o at index o + 1
    points = torch.cat([torch.zeros(1, 3), near, 2 * near[:1], 5 * signs[7:]]).unsqueeze(0)
    picks = octant_neighbours(points, radius=0.5)[0]
    assert picks[0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8]  # not the farther 9 in octant 0, nor 10
    assert picks[9, 7] == 1  # from 9, the nearest point above it in x, y and z
    assert picks[10].tolist() == [10] * 8  # nothing within the radius: the point itself


def test_kernel_density_is_higher_in_a_cluster_than_at_an_isolated_point():
    cluster = 0.01 * cloud(1, 20, seed=3)[0]
    points = torch.cat([cluster, torch.tensor([[0.9, 0.0, 0.0]])]).unsqueeze(0)
    density = kernel_density(points)[0]  # bandwidth 0.1
    assert density[:20].min() > 10 * density[20]
    # the isolated point sees only its own kernel: exp(0) / 21 points / (2.5 h)
    assert density[20].item() == pytest.approx(1 / 21 / 0.25, rel=1e-4)


# ------------------------------------------------------------------ the models

@pytest.mark.parametrize("arch", ARCHS)
def test_logits_and_fc512_do_not_depend_on_the_point_order(arch):
    net, points = model(arch), cloud()
    shuffled = points[:, torch.randperm(SMALL, generator=torch.Generator().manual_seed(4))]
    with torch.no_grad():
        assert torch.allclose(net(shuffled), net(points), atol=1e-5)
        features = [forward_to(net, x, ["fc512"])["fc512"] for x in (points, shuffled)]
    assert features[0].shape == (2, 512) and (features[0] >= 0).all()  # after BN and ReLU
    assert torch.allclose(features[0], features[1], atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_default_layer_is_the_first_fc_after_pooling(arch):
    net = model(arch)
    assert net.default_layer == "fc512" and "fc512" in net.layer_names
    with torch.no_grad():
        assert forward_to(net, cloud(3), [net.default_layer])["fc512"].shape == (3, 512)


@pytest.mark.parametrize("arch", ["pointnet2-ssg", "pointnet2-msg", "dgcnn"])
def test_a_plan_recorded_on_the_clean_cloud_groups_the_perturbed_one_alike(arch):
    net, clean = model(arch, orientation=True), cloud()
    noisy = clean + 0.03 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(5))
    plan = record_plan(net, clean)
    recorded = {name: idx.clone() for name, idx in plan.indices.items()}
    own = record_plan(net, noisy)  # what the noisy cloud would choose by itself
    assert set(own.indices) == set(recorded)
    assert any(not torch.equal(own.indices[k], recorded[k]) for k in recorded)
    with torch.no_grad():
        fixed, free = net(noisy, plan=plan), net(noisy)
        assert torch.equal(net(clean, plan=plan), net(clean))
    assert all(torch.equal(plan.indices[k], recorded[k]) for k in recorded)  # reused, not redone
    assert torch.equal(free, net(noisy, plan=own)) and not torch.allclose(fixed, free)


def test_dgcnn_plan_holds_every_edgeconv_graph_and_pointnet2_its_centres_and_balls():
    dgcnn, pointnet2 = record_plan(model("dgcnn"), cloud()), record_plan(model("pointnet2-msg"), cloud())
    assert {k: v.shape for k, v in dgcnn.indices.items()} == {
        f"edge{i}": (2, SMALL, 20) for i in range(1, 5)}
    assert {k: tuple(v.shape) for k, v in pointnet2.indices.items()} == {
        "sa1/centres": (2, 64), "sa1/r0.2": (2, 64, 16), "sa1/r0.1": (2, 64, 8), "sa1/r0.4": (2, 64, 32),
        "sa2/centres": (2, 16), "sa2/r0.4": (2, 16, 32), "sa2/r0.2": (2, 16, 16), "sa2/r0.8": (2, 16, 64)}


@pytest.mark.parametrize("arch", ["pointnet2-msg", "dgcnn"])
def test_a_tiled_plan_is_the_plan_of_the_tiled_clouds_and_the_hooked_forward_reads_the_noisy_batch(arch):
    """pointcloud-utility's forward (§5.2 "Fixed sampling"): the clean plan tiled over noisy rows;
    a plan recorded inside the hooked forward once left the clean features as the output."""
    from engine.methods.pointcloud_utility._entropy import planned_forward  # noqa: PLC0415

    net, clean = model(arch), cloud()
    tiled, direct = record_plan(net, clean).tiled(3), record_plan(net, clean.repeat(3, 1, 1))
    assert all(torch.equal(tiled.indices[k], direct.indices[k]) for k in direct.indices)
    noisy = clean.repeat(3, 1, 1) + 0.01 * torch.randn(6, SMALL, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        hooked = forward_to(net, noisy, ["fc512"], call=planned_forward(net, clean))["fc512"]
        assert torch.allclose(hooked, forward_to(net, noisy, ["fc512"], call=lambda x: net(x, plan=direct))["fc512"])
        assert not torch.allclose(hooked, forward_to(net, clean.repeat(3, 1, 1), ["fc512"])["fc512"])


def test_a_plan_recorded_on_other_clouds_is_bad_input():
    plan = record_plan(model("pointnet2-ssg"), cloud(2))
    with pytest.raises(BadInput, match="recorded on 2 clouds and is reused on 3"):
        model("pointnet2-ssg")(cloud(3), plan=plan)


SWITCH_KEYS = {"density": ".reweighting.", "weight": ".reweighting.", "orientation": "orientation.",
               "tnets": "_tnet."}


@pytest.mark.parametrize("arch,switch", [(a, s) for a in ARCHS for s in SWITCHES[a]])
def test_a_switch_adds_exactly_its_module(arch, switch):
    without, with_ = model(arch).state_dict(), model(arch, **{switch: True}).state_dict()
    added = set(with_) - set(without)
    assert set(without) <= set(with_) and added
    assert all(SWITCH_KEYS[switch] in key for key in added)
    assert all(with_[k].shape == v.shape for k, v in without.items())
    if switch == "density":
        assert any("density_net" in key for key in added)
    # the module is in the forward pass: the shared weights the same, its own moved off their
    # initialisation (T-nets start as the identity), and the output changes
    switched = model(arch, **{switch: True})
    moved = {k: v + 0.1 * torch.randn(v.shape, generator=torch.Generator().manual_seed(3))
             for k, v in switched.state_dict().items() if k in added and v.is_floating_point()}
    switched.load_state_dict({**switched.state_dict(), **without, **moved})
    plain = model(arch)
    with torch.no_grad():
        assert not torch.allclose(switched(cloud()), plain(cloud()))


def test_multiscale_adds_the_extra_scales_only():
    ssg, msg = model("pointnet2-ssg").state_dict(), model("pointnet2-msg").state_dict()
    added = set(msg) - set(ssg)
    assert set(ssg) <= set(msg)
    assert {key.split(".")[0] + "." + key.split(".")[2] for key in added} == {"sa1.1", "sa1.2", "sa2.1", "sa2.2"}
    widened = {k for k, v in ssg.items() if msg[k].shape != v.shape}
    assert widened == {"sa2.scales.0.mlp.0.linear.weight", "sa3.mlp.0.linear.weight"}  # the wider inputs


def test_density_and_weight_together_are_bad_input():
    with pytest.raises(BadInput, match="switch on one of them"):
        model("pointnet2-ssg", density=True, weight=True)
    assert isinstance(model("dgcnn", density=True).edge1.reweighting, DensityWeighting)


@pytest.mark.parametrize("arch", ARCHS)
def test_a_model_for_1024_points_fed_500_is_bad_input(arch):
    torch.manual_seed(0)
    loaded = LoadedModel(build_arch(arch, num_classes=5, num_points=1024).eval(), "test-model", arch)
    data = PointDataset(np.zeros((2, 500, 3), np.float32), np.zeros(2, np.int64), ["a"], spec="few-points")
    with pytest.raises(BadInput) as info:
        check_input(loaded, data)
    message = str(info.value)
    assert "\n" not in message and message.startswith("clouds of shape (500, 3) from few-points do not fit "
                                                      f"test-model ({arch} takes clouds of 1024 points")


def test_rotation_about_z_keeps_heights_and_radii_and_follows_the_generator():
    points = cloud(4)
    turned = [augment_clouds([points], torch.Generator().manual_seed(7), "z", 0.0)[0] for _ in range(2)]
    assert torch.equal(turned[0], turned[1]) and not torch.allclose(turned[0], points)
    assert torch.allclose(turned[0][..., 2], points[..., 2], atol=1e-6)
    assert torch.allclose(turned[0].norm(dim=-1), points.norm(dim=-1), atol=1e-5)


# ------------------------------------------------------------------ training and the demo models

def test_training_saves_the_switches_and_dir_loading_rebuilds_them(tmp_path):
    config = TrainConfig(epochs=1, batch_size=11, orientation=True, weight=True, rotate="z", jitter=0.01,
                         val_data="demo:shapeworld?n=11&seed=1&points=64")
    description = train("dgcnn", "demo:shapeworld?n=22&seed=0&points=64", str(tmp_path), config,
                        Progress())
    assert description["arch_args"] == {"num_classes": 11, "num_points": 64, "density": False,
                                        "weight": True, "orientation": True}
    loaded = load_model(f"dir:{tmp_path}")
    assert loaded.input_kind == "points" and loaded.module.orientation is not None
    assert type(loaded.module.edge2.reweighting).__name__ == "LocalCoordinateWeighting"


def test_a_switch_the_architecture_lacks_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="setting density applies to pointnet2-ssg, pointnet2-msg, dgcnn, not pointnet"):
        train("pointnet", "demo:shapeworld?n=11", str(tmp_path), TrainConfig(density=True), Progress())
    with pytest.raises(BadInput, match="rotate and jitter augment point clouds"):
        train("partworld-cnn", "demo:partworld?n=5", str(tmp_path), TrainConfig(jitter=0.1), Progress())


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_demo_models_classify_unseen_shapeworld_clouds(arch):
    loaded, data = load_model(f"demo:{arch}"), load_data("demo:shapeworld?n=110&seed=2")
    assert accuracy_of(loaded.module, (torch.from_numpy(data.points),), data.labels) > 0.8  # chance 1/11


def test_grouping_layers_compute_their_linear_map_once_a_point_with_the_same_numbers():
    torch.manual_seed(0)
    net, points = model("dgcnn"), cloud()
    block, features = net.edge2.block, torch.randn(2, SMALL, 32)
    indices = knn(features, features, 20)
    neighbours = gather(features, indices)
    centre = features.unsqueeze(2).expand_as(neighbours)
    naive = block(torch.cat([neighbours - centre, centre], -1)).amax(2)
    grouping, centres = model("pointnet2-ssg").sa2.scales[0], points[:, :16]
    balls = ball_query(points, centres, grouping.radius, grouping.k)
    wider = torch.randn(2, SMALL, 64)  # sa1's output
    grouped = torch.cat([gather(points, balls) - centres.unsqueeze(2), gather(wider, balls)], -1)
    with torch.no_grad():
        assert torch.allclose(net.edge2(points, features), naive, atol=1e-5)
        assert torch.allclose(grouping(points, wider, centres, None, "sa2"),
                              grouping.mlp(grouped).amax(2), atol=1e-5)


def test_batchnorm_statistics_are_measured_afresh_after_training():
    net, points = model("pointnet"), cloud(32)
    recalibrate_batchnorm(net, points, 16, Progress())  # two batches of 16: their mean is the mean
    with torch.no_grad():
        first = net.conv1.linear(points)
    assert torch.allclose(net.conv1.norm.running_mean, first.mean((0, 1)), atol=1e-5)
    assert net.conv1.norm.momentum == 0.1 and not net.training
