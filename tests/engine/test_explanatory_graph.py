"""Explanatory graph: each step on hand-made maps with known parts (verification §7.1-7.2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.base import MethodInputs
from engine.methods.explanatory_graph import _estep, _metrics
from engine.methods.explanatory_graph.api import compute
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.models import load_model
from engine.receptive_field import unit_grid
from engine_testkit import images_dataset
from graph_testkit import maps_of, mine_maps, part_tracks
from tests.bench import naive_graph


def test_unit_centres_match_vgg16_and_the_demo_cnn():
    """spec §0.2 / verification §7.2: VGG-16 conv4 4.5 + 8(h−1), conv5 8.5 + 16(h−1), 1-based."""
    vgg = torchvision.models.vgg16()
    conv4_3, conv5_3 = unit_grid(vgg, "features.21", 224), unit_grid(vgg, "features.28", 224)
    assert (conv4_3.centre + 1, conv4_3.stride) == (4.5, 8.0)
    assert (conv5_3.centre + 1, conv5_3.stride) == (8.5, 16.0)
    demo = load_model("demo:partworld-cnn").module
    assert (unit_grid(demo, "conv3", 96).centre, unit_grid(demo, "conv3", 96).stride) == (1.5, 4.0)
    assert unit_grid(demo, "conv5", 96).to_pixels(11) == 3.5 + 8 * 11


def test_a_branching_network_falls_back_to_even_coverage():
    grid = unit_grid(torchvision.models.resnet18(), "layer3", 224)
    assert not grid.walked and (grid.centre, grid.stride) == (7.5, 16.0)


def _random_case(seed=0, filters=2, per_filter=3, side=8, images=2):
    g = torch.Generator().manual_seed(seed)
    config = ExplanatoryGraphConfig()
    nodes = filters * per_filter
    x = torch.rand(images, filters, side, side, generator=g)
    mean_pos = torch.rand(nodes, 2, generator=g) * (side - 1)
    sigma = 0.3 + torch.rand(nodes, generator=g) * 1.5
    window = _estep.search_window(sigma, side, config)
    prior = _estep.Prior(torch.randn(images, nodes, 2, generator=g),
                         0.5 + torch.rand(images, nodes, generator=g),
                         0.2 + torch.rand(images, nodes, generator=g))
    return x, mean_pos, per_filter, window, prior, config


def test_the_batched_e_step_equals_the_per_node_loop():
    """§1.9: the gathered competition and evidence are the reference's loops, to float precision."""
    x, mean_pos, per_filter, window, prior, config = _random_case()
    out = _estep.e_step(x, mean_pos, per_filter, window, prior, config)
    for i in range(len(x)):
        positions, scores, r = naive_graph.e_step_image(
            x[i].double().numpy(), mean_pos.double().numpy(), per_filter, window.half.numpy(),
            window.offsets.double().numpy(), prior.shift[i].double().numpy(),
            prior.spread[i].double().numpy(), prior.weight[i].double().numpy(),
            config.map_delta * x.shape[-1], config.valid_tau)
        np.testing.assert_allclose(out.positions[i].numpy(), positions, atol=1e-5)
        np.testing.assert_allclose(out.scores[i].numpy(), scores, rtol=1e-4)
    centre = (mean_pos[None] + prior.shift).clamp(0, x.shape[-1] - 1)
    q = _estep.deformation(window, prior)
    batched = _estep.competition(q, centre, window, per_filter)
    for i in range(len(x)):
        looped = naive_graph.competition(q[i].double().numpy(), centre[i].double().numpy(),
                                         window.offsets.double().numpy(), per_filter)
        np.testing.assert_allclose(batched[i].numpy(), looped, rtol=1e-5, atol=1e-9)


def test_responsibilities_at_a_candidate_never_exceed_one():
    x, mean_pos, per_filter, window, prior, config = _random_case(seed=3)
    centre = (mean_pos[None] + prior.shift).clamp(0, x.shape[-1] - 1)
    q = _estep.deformation(window, prior)
    competing = _estep.competition(q, centre, window, per_filter)
    assert (q <= competing + 1e-6).all()  # a node competes with itself, so r = q / (Q + τ) < 1


def test_a_single_moving_blob_gives_a_node_that_tracks_it():
    tracks = part_tracks(40, [(5, 6)], 1.5, seed=1)
    graph, records, monitor = mine_maps({"L": maps_of(tracks, [[0]], 12)}, {"L": 1.0},
                                        iterations=10, pattern_density=(0.05,))
    scores = records["L"].scores.mean(0)
    best = int(scores.argmax())
    assert _tracking(records["L"], best, tracks, 0) < 0.5  # the 6×6 grid steps by 0.67 units here (P4)
    far = [k for k in range(len(scores)) if _tracking(records["L"], k, tracks, 0) > 2]
    assert far and scores[far].max() < 0.5 * scores[best]  # nodes away from the part score less
    node = graph["L"]
    ceiling = 1 / np.sqrt(0.05)
    assert (node.sigma >= ceiling / 10 - 1e-6).all() and (node.sigma <= ceiling + 1e-6).all()
    mean_score = np.asarray(monitor["L"])[:, 0]
    assert (np.diff(mean_score) > -1e-3 * mean_score[1:]).all()  # EM score non-decreasing


def _tracking(records, node, tracks, part, scale=1.0) -> float:
    return float(np.abs(records.positions[:, node].numpy() * scale - tracks[:, part]).mean())


def test_two_parts_inside_one_filter_split_into_two_nodes():
    tracks = part_tracks(40, [(3, 3), (8, 8)], 1.5, seed=1)
    graph, records, _ = mine_maps({"L": maps_of(tracks, [[0, 1]], 12)}, {"L": 1.0},
                                  iterations=10, pattern_density=(0.05,))
    rec = records["L"]
    scores = rec.scores.mean(0)
    for part in (0, 1):
        trackers = [k for k in range(graph["L"].nodes) if _tracking(rec, k, tracks, part) < 0.5]
        assert trackers and all(_tracking(rec, k, tracks, 1 - part) > 3 for k in trackers)
        assert max(scores[k] for k in trackers) > 5 * scores.min()


def test_parents_are_the_upper_nodes_that_move_with_the_child():
    tracks = part_tracks(60, [(3, 3), (8, 8)], 1.5, seed=2)
    low = maps_of(tracks, [[0], [1]], 12, seed=1)
    up = maps_of(tracks, [[0], [1]], 6, scale=2.0, seed=2)
    graph, records, _ = mine_maps({"low": low, "up": up}, {"low": 1.0, "up": 2.0}, iterations=8,
                                  parents=2, pattern_density=(0.05, 0.2))
    for part in (0, 1):
        children = [k for k in range(graph["low"].nodes) if _tracking(records["low"], k, tracks, part) < 0.5]
        assert children
        for k in children:
            strongest = int(graph["low"].parents[k, 0])  # edges come by affinity, strongest first
            assert _tracking(records["up"], strongest, tracks, part, scale=2.0) < 1.0, (k, strongest)
            assert _tracking(records["up"], strongest, tracks, 1 - part, scale=2.0) > 3


def test_a_dead_channel_gives_no_high_scoring_node():
    tracks = part_tracks(30, [(5, 5)], 1.0, seed=4)
    maps = maps_of(tracks, [[0], []], 12, noise=0.0)
    graph, records, _ = mine_maps({"L": maps}, {"L": 1.0}, iterations=5, pattern_density=(0.05,))
    per = graph["L"].per_filter
    scores = records["L"].scores.mean(0)
    assert scores[per:].max() < 1e-3 * scores[:per].max()


# ------------------------------------------------------------------ metrics (§1.8)

def _landmarks(tracks):
    return tracks.astype(np.float64)


def test_a_node_always_at_a_fixed_offset_from_its_landmark_has_zero_instability():
    rng = np.random.default_rng(0)
    marks = rng.uniform(10, 80, (30, 2, 2))
    positions = (marks[:, :1] + [5.0, -3.0])                    # one unit, always 5 px right, 3 up
    positions = np.concatenate([positions, positions], 1)[:, :1]
    scores = rng.random((30, 1))
    value = _metrics.location_instability(positions, scores, marks[:, :1], 1, 20, 100.0)
    assert value == pytest.approx(0.0, abs=1e-9)


def test_isotropic_jitter_gives_its_own_size_over_the_diagonal():
    """verification §7.2: jitter σ px with a large offset → instability ≈ σ/diagonal."""
    rng = np.random.default_rng(1)
    marks = rng.uniform(0, 10, (4000, 1, 2))
    positions = marks + [300.0, 0.0] + rng.normal(0, 4.0, marks.shape)
    value = _metrics.location_instability(positions, np.ones((4000, 1)), marks, 1, 4000, 316.8)
    assert value == pytest.approx(4.0 / 316.8, rel=0.05)


def test_purity_counts_the_majority_part_and_background_against_it():
    marks = np.array([[[10.0, 10.0], [50.0, 50.0]]] * 4)
    positions = np.array([[[11.0, 10.0]], [[10.0, 12.0]], [[51.0, 50.0]], [[90.0, 90.0]]])
    value = _metrics.purity(positions, np.ones((4, 1)), marks, 1, 4, radius=5.0)
    assert value == pytest.approx(2 / 4)


# ------------------------------------------------------------------ the method on a model

@pytest.fixture
def tiny_inputs(tiny_model, tiny_data):
    return lambda layers, data=tiny_data: MethodInputs(tiny_model, data, layers, 0)


def test_a_layer_that_is_not_conv_is_refused(tiny_inputs):
    with pytest.raises(BadInput, match="fc is not a conv layer"):
        compute(tiny_inputs(["fc"]), ExplanatoryGraphConfig(iterations=1), Progress())


def test_too_few_images_are_refused(tiny_inputs, tiny_data):
    with pytest.raises(BadInput, match="at least 2 images"):
        compute(tiny_inputs(["conv5"], tiny_data.subset([0])), ExplanatoryGraphConfig(iterations=1), Progress())


def test_maps_that_are_all_zero_are_refused(tiny_model, tiny_inputs):
    blank = images_dataset(np.zeros((3, 3, 32, 32), np.float32))
    for module in tiny_model.module.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.bias.data.fill_(-5.0)   # every pre-ReLU value negative
    with pytest.raises(BadInput, match="all zero"):
        compute(tiny_inputs(["conv5"], blank), ExplanatoryGraphConfig(iterations=1), Progress())


def test_a_graph_on_the_tiny_model_has_every_layer_and_its_edges(tiny_inputs):
    result = compute(tiny_inputs(["conv5", "conv4"]), ExplanatoryGraphConfig(iterations=2, parents=3), Progress())
    assert result.layers == ["conv4", "conv5"]                # bottom to top, whatever the order given
    metrics = result.metrics()
    assert metrics["edges/conv5"] == 0 and metrics["edges/conv4"] == metrics["nodes/conv4"] * 3
    assert result.graph["conv4"].parents.max() < result.graph["conv5"].nodes
    for name in ("instability_nodes", "instability_filters", "purity_nodes", "purity_filters"):
        assert np.isfinite(metrics[f"{name}/conv4"])


def test_each_em_iteration_reports_its_monitor_row_while_mining():
    from engine.methods.explanatory_graph._em import mine  # noqa: PLC0415
    from engine.methods.explanatory_graph._features import FeatureStore  # noqa: PLC0415
    from engine.receptive_field import UnitGrid  # noqa: PLC0415

    messages, published = [], []
    maps = maps_of(part_tracks(8, [(5, 5)], 1.0, seed=2), [[0]], 12)
    progress = Progress(lambda f, m: messages.append(m), on_publish=lambda *item: published.append(item))
    graph, _, monitor, _ = mine({"L": FeatureStore.of(maps)}, {"L": UnitGrid(0.0, 1.0)}, {"L": torch.ones(1, 12, 12)},
                             ["L"], ExplanatoryGraphConfig(iterations=3), 0, progress)
    rows = [m for m in messages if "done" in m]
    assert len(rows) == 3 and rows[-1].startswith("L: EM iteration 3/3 done")
    assert f"mean score {monitor['L'][-1][0]:.3g}" in rows[-1]
    # the live view gets the rows so far after each iteration: the last are the finished monitor
    assert [name for name, _ in published] == ["em_monitor"] * 3
    assert [len(value["rows"]) for _, value in published] == [1, 2, 3]
    assert published[-1][1]["layer"] == "L" and published[-1][1]["iterations"] == 3
    np.testing.assert_allclose(published[-1][1]["rows"], monitor["L"])


def _mine_with_flips(maps, **settings):
    from engine.methods.explanatory_graph._em import mine  # noqa: PLC0415
    from engine.methods.explanatory_graph._features import FeatureStore  # noqa: PLC0415
    from engine.receptive_field import UnitGrid  # noqa: PLC0415

    side = maps.shape[-1]
    return mine({"L": FeatureStore.of(maps)}, {"L": UnitGrid(0.0, 1.0)}, {"L": torch.ones(maps.shape[1:])}, ["L"],
                ExplanatoryGraphConfig(**settings), 0, Progress(), mirrored={"L": FeatureStore.of(maps.flip(-1))},
                width=side)


def test_with_flips_one_node_follows_a_part_on_images_facing_either_way():
    """§1.5 flips (P1 fixed): a part at column 2 on half the images, mirrored to column 9 on the
    others; each image is read in the orientation the nodes explain better."""
    tracks = part_tracks(40, [(5, 2)], 1.0, seed=3)
    facing_left = np.arange(40) % 2 == 1
    tracks[facing_left, 0, 1] = 11 - tracks[facing_left, 0, 1]
    maps = maps_of(tracks, [[0]], 12)
    graph, records, _, flipped = _mine_with_flips(maps, iterations=8, pattern_density=(0.05,))
    best = int(records["L"].scores.mean(0).argmax())
    assert _tracking(records["L"], best, tracks, 0) < 0.5          # in the images' own coordinates
    assert flipped.tolist() in (facing_left.tolist(), (~facing_left).tolist())


def test_inference_on_mirrored_maps_mirrors_every_position():
    """verification §7.2: with flips, a horizontal flip of the input mirrors the inferred positions."""
    from engine.methods.explanatory_graph._em import infer_graph  # noqa: PLC0415
    from engine.methods.explanatory_graph._features import FeatureStore  # noqa: PLC0415

    tracks = part_tracks(20, [(5, 3), (8, 8)], 1.0, seed=5)
    maps = maps_of(tracks, [[0], [1]], 12)
    graph, _, _, _ = _mine_with_flips(maps, iterations=3, pattern_density=(0.05,))
    config = ExplanatoryGraphConfig()
    plain, mirror = FeatureStore.of(maps), FeatureStore.of(maps.flip(-1))
    seen = infer_graph(graph, {"L": plain}, ["L"], config, Progress(), mirrored={"L": mirror}, width=12)["L"]
    mirrored = infer_graph(graph, {"L": mirror}, ["L"], config, Progress(), mirrored={"L": plain}, width=12)["L"]
    torch.testing.assert_close(mirrored.positions[..., 0], seen.positions[..., 0])
    torch.testing.assert_close(mirrored.positions[..., 1], 11 - seen.positions[..., 1])
    torch.testing.assert_close(mirrored.scores, seen.scores)
