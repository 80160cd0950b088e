"""Graph inference on new maps and few-shot part localisation (spec: explanatory-graph §1.6-1.8)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.analysis import AnalysisRequest, execute
from engine.errors import BadInput
from engine.jobs import Progress
from engine.methods.explanatory_graph._em import infer_graph
from engine.methods.explanatory_graph._features import FeatureStore
from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig
from engine.methods.explanatory_graph.saved import open_graph
from engine.methods.part_localization import _transfer
from engine.methods.part_localization.result import RATES, PartLocalizationResult, Task, finite_mean, rate_name
from engine.models import LoadedModel
from engine.results import save_result
from engine.tables import table
from engine_testkit import TINY_DATA, write_model_dir
from graph_testkit import maps_of, mine_maps, part_tracks


def _tracking(records, node, tracks, part=0) -> float:
    return float(np.abs(records.positions[:, node].numpy() - tracks[:, part]).mean())


def test_inference_on_new_maps_follows_the_part_with_the_nodes_that_learned_it():
    """§1.6: top-down E-step, no M-step: the trained tracker finds the part on unseen maps."""
    train = part_tracks(40, [(3, 3), (8, 8)], 1.5, seed=1)
    low, up = maps_of(train, [[0], [1]], 12, seed=1), maps_of(train, [[0], [1]], 6, scale=2.0, seed=2)
    graph, records, _ = mine_maps({"low": low, "up": up}, {"low": 1.0, "up": 2.0}, iterations=8,
                                  parents=2, pattern_density=(0.05, 0.2))
    trackers = [k for k in range(graph["low"].nodes) if _tracking(records["low"], k, train) < 0.5]
    new = part_tracks(20, [(3, 3), (8, 8)], 1.5, seed=9)
    stores = {"low": FeatureStore.of(maps_of(new, [[0], [1]], 12, seed=5)),
              "up": FeatureStore.of(maps_of(new, [[0], [1]], 6, scale=2.0, seed=6))}
    inferred = infer_graph(graph, stores, ["low", "up"], ExplanatoryGraphConfig(), Progress())
    assert trackers and all(_tracking(inferred["low"], k, new) < 0.5 for k in trackers)
    # scores over the training normaliser: comparable to the training scores (P6)
    ratio = inferred["low"].scores[:, trackers].mean() / records["low"].scores[:, trackers].mean()
    assert 0.8 < float(ratio) < 1.25


def test_transfer_keeps_the_detectors_with_a_steady_offset_and_finds_the_part():
    """§1.7 [ours]: a detector at part + fixed offset transfers exactly; a wandering one is dropped."""
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 70, (30, 2))
    steady = truth[:, None] + np.array([[6.0, -4.0], [-3.0, 5.0]])[None]    # two steady detectors
    wandering = rng.uniform(0, 96, (30, 3, 2))                              # three that wander
    positions = np.concatenate([steady, wandering], 1)
    scores = np.ones((30, 5))
    scores[:, 2:] = 3.0                                                     # and fire more strongly
    chosen, delta = _transfer.fit(positions, scores, np.arange(3), truth[:3], keep=2, radius=12.0)
    assert sorted(chosen.tolist()) == [0, 1]
    predicted, mirrored = _transfer.predict((positions, scores), None, np.arange(3, 30), chosen, delta, "mean",
                                            (96, 96))
    np.testing.assert_allclose(predicted, truth[3:], atol=1e-9)
    assert not mirrored.any()


def test_the_weighted_median_ignores_a_few_wrong_votes():
    """§1.7 "or use a weighted median for robustness": per axis, the first vote whose cumulative
    score reaches half the total. Three votes near (11, 41) with 0.8 of the score, one far off."""
    positions = np.array([[[10.0, 40.0], [11.0, 42.0], [12.0, 41.0], [100.0, 5.0]]])
    scores = np.array([[3.0, 3.0, 2.0, 2.0]])
    mean = _transfer.consensus(positions, scores, "mean", (128, 128))
    median = _transfer.consensus(positions, scores, "median", (128, 128))
    np.testing.assert_allclose(mean, [[28.7, 33.8]])                     # pulled by the far vote
    np.testing.assert_array_equal(median, [[11.0, 40.0]])                # x: 0.3, 0.6 ≥ ½; y: 5 (0.2), 40 (0.5)
    silent = _transfer.consensus(positions, np.zeros((1, 4)), "median", (128, 128))
    np.testing.assert_array_equal(silent, [[11.0, 40.0]])                # no score: equal weights


def test_the_vote_map_mode_is_where_most_fired_votes_overlap():
    """produceMap (§1.7 step 3 [code]): at 224 px each fired vote adds exp(−‖o‖/49.5) − its
    window's corner value on an 11 px half-side window; scores do not weigh the votes. Two votes
    at (50, 60) and one at (53, 60) peak at (50, 60) [gains 2·1 + 0.941 there, 2·0.941 + 1 at
    (53, 60)]; the loud vote at (150, 20) and the silent pair at (120, 120) do not win; a vote
    off the image adds nothing, and an image with no vote inside keeps the weighted mean."""
    votes = np.array([[[50.0, 60.0], [50.4, 59.6], [53.0, 60.0], [150.0, 20.0], [120.0, 120.0], [120.0, 120.0]],
                      [[-40.0, 10.0], [300.0, 10.0], [10.0, 500.0], [-40.0, 10.0], [-40.0, 10.0], [-40.0, 10.0]]])
    scores = np.array([[1.0, 1.0, 1.0, 50.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
    mode = _transfer.consensus(votes, scores, "mode", (224, 224))
    np.testing.assert_array_equal(mode[0], [50.0, 60.0])
    np.testing.assert_allclose(mode[1], [130.0, 10.0])                     # the mean of the two fired


def test_a_mirrored_object_is_read_on_its_mirror_where_the_votes_agree_there():
    """step_inference (§1.7 step 3 [code]): two detectors learned on a car facing right, 20 px
    left and right of its wheel (Δ̄ = (+20, 0) and (−20, 0) to the part). On a car facing left
    the plain reading's votes land 80 px apart; on the mirror (positions in the image's own
    coordinates, Δ̄_x flipped) they agree on the part, so the mirror is read and finds it. An
    image facing like the shot stays plain."""
    part = np.array([[40.0, 50.0], [60.0, 50.0]])                          # image 0 as the shot, 1 mirrored
    plain = np.array([[[20.0, 50.0], [60.0, 50.0]], [[20.0, 50.0], [100.0, 50.0]]])
    mirror = np.array([[[20.0, 50.0], [60.0, 50.0]], [[80.0, 50.0], [40.0, 50.0]]])
    scores = np.ones((2, 2))
    chosen, delta = np.arange(2), np.array([[20.0, 0.0], [-20.0, 0.0]])
    predicted, mirrored = _transfer.predict((plain, scores), (mirror, scores), np.arange(2), chosen, delta,
                                            "mean", (96, 128))
    assert mirrored.tolist() == [False, True]
    np.testing.assert_allclose(predicted, part)


def test_one_shot_transfer_needs_a_detector_near_the_click():
    positions = np.array([[[10.0, 10.0], [40.0, 40.0]]] * 4)
    chosen, _ = _transfer.fit(positions, np.ones((4, 2)), np.array([0]), np.array([[41.0, 39.0]]),
                              keep=1, radius=5.0)
    assert chosen.tolist() == [1]


def test_nearest_neighbour_finds_the_unit_with_the_annotated_feature():
    features = np.random.default_rng(1).random((4, 8, 9)) * 0.1
    marked = [2, 5, 7, 0]                                                   # the part's unit, per image
    for i, u in enumerate(marked):
        features[i, 3, u] += 5.0
    unit_xy = np.stack(np.divmod(np.arange(9), 3), 1)[:, ::-1] * 10.0 + 5
    found = _transfer.nearest_neighbour(features, unit_xy, np.array([0]), unit_xy[[2]], np.arange(1, 4))
    np.testing.assert_array_equal(found, unit_xy[marked[1:]])


def test_detection_and_centre_in_box_follow_the_reference_box_rule():
    """Truth box x, y ∈ 10..19; a prediction's box is the shots' part size (10×10) around it,
    rounded as getBox: centred it overlaps 100 of 121 px (IoU 0.83); moved to the box's edge
    it overlaps 60 of 161 (0.37) but lies inside; far away it neither hits nor lies inside."""
    truth = np.array([[10.0, 10.0, 19.0, 19.0]] * 3 + [[np.nan] * 4])
    task = Task("car/body", np.array([0]), np.zeros((1, 2)), np.arange(1, 5), np.zeros((4, 2)),
                predictions={"graph": np.array([[14.5, 14.5], [19.0, 14.5], [30.0, 30.0], [14.5, 14.5]])},
                boxes=truth, box_size=np.array([10.0, 10.0]))
    rates = task.rates("graph")
    np.testing.assert_array_equal(rates["detection_rate"], [1, 0, 0, np.nan])
    np.testing.assert_array_equal(rates["centre_in_box_rate"], [1, 1, 0, np.nan])


@pytest.fixture(scope="module")
def graph_dir(model_spec, tmp_path_factory):
    record = execute(AnalysisRequest("explanatory-graph", model_spec, TINY_DATA, ["conv4", "conv5"],
                                     {"iterations": "2", "batch_size": "6"}, device="cpu"), Progress())
    return save_result(record, tmp_path_factory.mktemp("g") / "graph")


def _localise(model_spec, **settings):
    return execute(AnalysisRequest("part-localization", model_spec, TINY_DATA, settings=settings,
                                   device="cpu"), Progress())


def test_localisation_reports_every_part_with_its_baselines(model_spec, graph_dir):
    record = _localise(model_spec, graph=str(graph_dir), shots="1")
    assert record.metrics["shots"] == 1 and record.metrics["parts"] == 4  # the car's parts: 2 images
    for name in ("distance", "distance_filter_peak", "distance_nearest_neighbour"):
        assert 0 <= record.metrics[name] < 1.5
        for rate in RATES:
            assert 0 <= record.metrics[rate_name(rate, name)] <= 1
    result = PartLocalizationResult.from_record(record)
    assert all(t.boxes.shape == (len(t.test), 4) and t.box_size.shape == (2,) for t in result.tasks)
    header, rows = table(record)  # a row a part; the metrics are the means over parts
    for name in ("distance", "detection_rate_filter_peak", "centre_in_box_rate_nearest_neighbour"):
        column = header.index(name)
        assert finite_mean([row[column] for row in rows]) == pytest.approx(record.metrics[name])


def test_the_mirror_reading_replaces_the_plain_one_only_where_it_is_kept(model_spec, graph_dir):
    """With `mirror`, an image read as it is keeps the plain run's prediction exactly; the share
    read mirrored is the metric's, and survives the record (on this data the graph reads 3 of
    4 test images mirrored, so the comparison is not empty)."""
    plain = PartLocalizationResult.from_record(_localise(model_spec, graph=str(graph_dir), shots="1"))
    record = _localise(model_spec, graph=str(graph_dir), shots="1", mirror="true")
    both = PartLocalizationResult.from_record(record)
    for method in ("graph", "filter_peak"):
        kept = [t.mirrored[method] for t in both.tasks]
        for t, p, m in zip(both.tasks, plain.tasks, kept):
            np.testing.assert_array_equal(t.predictions[method][~m], p.predictions[method][~m])
            assert not p.mirrored[method].any()
        name = rate_name("mirrored_share", "distance" if method == "graph" else "distance_filter_peak")
        assert record.metrics[name] == pytest.approx(np.mean([m.mean() for m in kept]))
    assert any(t.mirrored["graph"].any() for t in both.tasks)
    assert plain.tasks[0].predictions["nearest_neighbour"].tolist() == \
        both.tasks[0].predictions["nearest_neighbour"].tolist()


def test_your_own_clicks_are_localised_on_the_other_images(model_spec, graph_dir):
    record = _localise(model_spec, graph=str(graph_dir), annotations="0:10:12,5:11:12", part="car/body")
    assert record.meta["parts"] == ["car/body"] and record.arrays["test/0"].tolist() == [1, 2, 3, 4]
    assert record.arrays["prediction/0/graph"].shape == (4, 2)


@pytest.mark.parametrize("settings, message", [
    ({"annotations": "0:40:3"}, "outside the 32×32 image"),
    ({"annotations": "9:4:3"}, "image 9 is not among the 6 images"),
    ({"annotations": "0:4"}, "is not IMAGE:X:Y"),
    ({"part": "car/spoiler"}, "part 'car/spoiler' is not in the data"),
    ({"shots": "5"}, "no part appears on more than shots=5"),
])
def test_bad_annotations_are_one_clear_line(model_spec, graph_dir, settings, message):
    with pytest.raises(BadInput, match=message):
        _localise(model_spec, graph=str(graph_dir), **settings)


def test_a_missing_or_wrong_graph_is_refused(model_spec, graph_dir, tmp_path):
    with pytest.raises(BadInput, match="no graph given"):
        _localise(model_spec)
    with pytest.raises(BadInput, match="not a result folder"):
        _localise(model_spec, graph=str(tmp_path))
    activations = execute(AnalysisRequest("activations", model_spec, TINY_DATA, device="cpu"), Progress())
    with pytest.raises(BadInput, match="not an explanatory graph"):
        _localise(model_spec, graph=str(save_result(activations, tmp_path / "a")))
    other = LoadedModel(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), "torchscript:other.pt", "other")
    with pytest.raises(BadInput, match="mined on layers conv4, conv5, which torchscript:other.pt lacks"):
        open_graph(str(graph_dir), other)


def test_a_graph_of_another_width_is_refused(graph_dir, tmp_path):
    wider = f"dir:{write_model_dir(tmp_path / 'wide', widths=(4, 4, 4, 6, 6))}"
    with pytest.raises(BadInput, match=r"gives conv4 maps of shape \(6, 4, 4\).*the graph\) are for \(4, 4, 4\)"):
        execute(AnalysisRequest("graph-inference", wider, TINY_DATA, settings={"graph": str(graph_dir)},
                                device="cpu"), Progress())


def test_object_crops_map_the_box_onto_the_image_and_the_landmarks_with_it():
    """spec §0.1: p' = (p − box_min) / box_size · side, in pixel-centre coordinates."""
    from engine.data.crops import object_crops  # noqa: PLC0415
    from engine.data.types import ImageDataset  # noqa: PLC0415

    images = np.zeros((1, 3, 40, 40), np.float32)
    mask = np.zeros((1, 1, 40, 40), bool)
    mask[0, 0, 10:30, 5:25] = True                      # a 20×20 box at x 5..24, y 10..29
    images[0, 0][mask[0, 0]] = 1.0
    images[0, 1, 19, 14] = 1.0                           # a green dot inside it
    marks = np.array([[[5.0, 10.0], [24.0, 29.0], [14.0, 19.0]]], np.float32)
    data = ImageDataset(images, np.zeros(1, np.int64), ["obj"], part_names=["a", "b", "c"],
                        landmarks=marks, part_masks=np.repeat(mask, 3, 1), foreground=mask[:, 0])
    crop = object_crops(data)
    np.testing.assert_allclose(crop.landmarks[0], [[0.5, 0.5], [38.5, 38.5], [18.5, 18.5]])
    assert crop.images[0, 0].min() > 0.99                # the object fills the crop
    green = np.unravel_index(crop.images[0, 1].argmax(), (40, 40))
    assert abs(green[0] - 18.5) <= 1 and abs(green[1] - 18.5) <= 1
    assert crop.foreground.all() and data.landmarks[0, 0, 0] == 5.0   # the original is untouched
