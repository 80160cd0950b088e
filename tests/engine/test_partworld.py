"""PartWorld: determinism, array contracts, ground-truth geometry, attributes, options."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from engine.data.partworld import (CLASS_NAMES, FACE_ATTRIBUTES, PartWorldOptions,
                                   generate, parse_options)
from engine.errors import BadInput
from engine.jobs import CancelToken, Cancelled, Progress


@lru_cache(maxsize=None)
def _data(n=40, seed=0, size=96, family="objects", cooccur=(), clutter=1.0):
    """Cached: most tests only read the same few small datasets."""
    return generate(PartWorldOptions(n=n, seed=seed, size=size, family=family,
                                     cooccur=cooccur, clutter=clutter))


ARRAYS = ("images", "labels", "landmarks", "part_masks", "foreground", "attributes")
FAMILIES = [("objects", 96), ("faces", 96), ("objects", 32), ("faces", 40)]


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=k == "landmarks")
               for k in ARRAYS)


@pytest.mark.parametrize("family", ["objects", "faces"])
def test_same_seed_gives_identical_arrays_and_other_seeds_differ(family):
    first = generate(PartWorldOptions(n=6, seed=3, family=family))
    again = generate(PartWorldOptions(n=6, seed=3, family=family))
    other = generate(PartWorldOptions(n=6, seed=4, family=family))
    assert _same(first, again)
    assert not np.array_equal(first.images, other.images)


@pytest.mark.parametrize("family", ["objects", "faces"])
def test_image_i_does_not_depend_on_n(family):
    short = generate(PartWorldOptions(n=4, seed=1, family=family))
    longer = _data(n=40, seed=1, family=family)
    assert _same(short, longer.subset(range(4)))


@pytest.mark.parametrize("family", ["objects", "faces"])
def test_clutter_changes_only_the_background(family):
    busy = _data(n=8, family=family, clutter=3.0)
    plain = _data(n=8, family=family, clutter=0.0)
    for key in ("labels", "landmarks", "part_masks", "attributes"):
        assert np.array_equal(getattr(busy, key), getattr(plain, key), equal_nan=key == "landmarks")
    assert not np.array_equal(busy.images, plain.images)


@pytest.mark.parametrize("family,size", FAMILIES)
def test_shapes_dtypes_and_ranges(family, size):
    ds = _data(family=family, size=size)
    n, p = 40, len(ds.part_names)
    assert ds.images.shape == (n, 3, size, size) and ds.images.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    assert ds.labels.shape == (n,) and ds.labels.dtype == np.int64
    assert ds.landmarks.shape == (n, p, 2) and ds.landmarks.dtype == np.float32
    assert ds.part_masks.shape == (n, p, size, size) and ds.part_masks.dtype == bool
    assert ds.foreground.shape == (n, size, size) and ds.foreground.dtype == bool
    assert ds.attributes.shape == (n, len(ds.attribute_names)) and ds.attributes.dtype == bool
    assert ds.names[17] == "partworld-s0-17" and ds.spec == ""
    assert len(set(ds.part_names)) == p and all(name.count("/") == 1 for name in ds.part_names)


@pytest.mark.parametrize("family,size", FAMILIES)
def test_every_landmark_lies_in_the_image_and_on_its_own_part(family, size):
    ds = _data(family=family, size=size)
    present = ~np.isnan(ds.landmarks[..., 0])
    for i, j in zip(*np.nonzero(present)):
        x, y = ds.landmarks[i, j]
        assert 0 <= x <= size - 1 and 0 <= y <= size - 1
        assert ds.part_masks[i, j, int(round(y)), int(round(x))], (ds.part_names[j], i)


@pytest.mark.parametrize("family,size", FAMILIES)
def test_masks_are_in_the_foreground_and_absent_parts_are_empty(family, size):
    ds = _data(family=family, size=size)
    present = ~np.isnan(ds.landmarks[..., 0])
    assert np.array_equal(present, ~np.isnan(ds.landmarks[..., 1]))
    assert np.array_equal(present, ds.part_masks.any(axis=(2, 3)))
    assert not (ds.part_masks & ~ds.foreground[:, None]).any()
    assert np.array_equal(ds.foreground, ds.part_masks.any(axis=1))


@pytest.mark.parametrize("family,size", FAMILIES)
def test_objects_lie_fully_inside_the_image(family, size):
    fg = _data(family=family, size=size).foreground
    border = fg[:, 0].any() or fg[:, -1].any() or fg[:, :, 0].any() or fg[:, :, -1].any()
    assert not border


def test_object_images_have_exactly_their_class_parts():
    ds = _data()
    assert ds.class_names == CLASS_NAMES and len(CLASS_NAMES) >= 5
    assert np.array_equal(ds.labels, np.arange(40) % len(CLASS_NAMES))
    owner = np.array([name.split("/")[0] for name in ds.part_names])
    present = ~np.isnan(ds.landmarks[..., 0])
    for i, label in enumerate(ds.labels):
        assert np.array_equal(present[i], owner == CLASS_NAMES[label])


def test_each_class_has_three_to_six_named_parts():
    owners = [name.split("/")[0] for name in _data().part_names]
    assert sorted(set(owners)) == sorted(CLASS_NAMES)
    assert all(3 <= owners.count(c) <= 6 for c in CLASS_NAMES)


def test_colour_alone_does_not_give_the_class_away():
    # Nearest-centroid on the hue of the mean foreground colour (its chromaticity)
    # should stay near chance (0.2). Brightness is left out: outlines make thin-part
    # classes darker, a shape cue rather than a colour one.
    ds = _data(n=200, size=48)
    fg = ds.foreground[:, None]
    colour = (ds.images * fg).sum(axis=(2, 3)) / fg.sum(axis=(2, 3))
    colour /= colour.sum(axis=1, keepdims=True)
    centroids = np.stack([colour[ds.labels == k].mean(axis=0) for k in range(len(CLASS_NAMES))])
    guess = np.argmin(((colour[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (guess == ds.labels).mean() < 0.4


def test_faces_have_named_parts_and_smile_labels():
    ds = _data(family="faces")
    assert ds.class_names == ["no_smile", "smile"]
    assert ds.attribute_names == FACE_ATTRIBUTES
    assert {"face/eye_left", "face/mouth", "face/hat", "face/glasses"} <= set(ds.part_names)
    assert np.array_equal(ds.labels, ds.attributes[:, FACE_ATTRIBUTES.index("smile")])
    for part in ("hat", "glasses"):
        has = ~np.isnan(ds.landmarks[:, ds.part_names.index(f"face/{part}"), 0])
        assert np.array_equal(has, ds.attributes[:, FACE_ATTRIBUTES.index(part)])


def test_planted_cooccurrence_is_realised_and_others_stay_fair():
    # Attributes do not depend on the image size, so a small size keeps this fast.
    ds = _data(n=2000, size=32, family="faces", cooccur=(("lipstick", "rosy_cheeks", 0.95),))
    att = {name: ds.attributes[:, k] for k, name in enumerate(FACE_ATTRIBUTES)}
    lip, rosy = att["lipstick"], att["rosy_cheeks"]
    assert abs(rosy[lip].mean() - 0.95) <= 0.02
    assert abs(rosy[~lip].mean() - 0.05) <= 0.02
    for name, column in att.items():
        assert abs(column.mean() - 0.5) <= 0.04, name


def test_parse_options_reads_a_spec_query():
    options = parse_options({"n": "16", "seed": "3", "size": "64", "family": "faces",
                             "clutter": "0.5",
                             "cooccur": "lipstick:rosy_cheeks:0.95,glasses:hat:0.8"})
    assert options == PartWorldOptions(n=16, seed=3, size=64, family="faces", clutter=0.5,
                                       cooccur=(("lipstick", "rosy_cheeks", 0.95),
                                                ("glasses", "hat", 0.8)))
    assert parse_options({}) == PartWorldOptions()


def test_unknown_option_is_bad_input_listing_valid_keys():
    with pytest.raises(BadInput) as err:
        parse_options({"count": "5"})
    message = str(err.value)
    assert "count" in message and "\n" not in message
    assert all(key in message for key in ("n", "seed", "size", "family", "cooccur", "clutter"))


@pytest.mark.parametrize("query,hint", [
    ({"n": "many"}, "n"), ({"n": "0"}, "n"), ({"size": "8"}, "size"), ({"seed": "-1"}, "seed"),
    ({"family": "cats"}, "objects, faces"), ({"clutter": "-1"}, "clutter"),
    ({"family": "faces", "cooccur": "lipstick:beard:0.9"}, "rosy_cheeks"),
    ({"family": "faces", "cooccur": "lipstick:hat"}, "attr_a:attr_b:rate"),
    ({"family": "faces", "cooccur": "lipstick:hat:1.5"}, "[0, 1]"),
    ({"family": "faces", "cooccur": "hat:smile:0.9,smile:hat:0.9"}, "cycle"),
    ({"cooccur": "lipstick:hat:0.9"}, "family=faces"),
])
def test_bad_values_are_bad_input(query, hint):
    with pytest.raises(BadInput, match=None) as err:
        parse_options(query)
    assert hint in str(err.value)


def test_generate_checks_options_it_is_given_directly():
    with pytest.raises(BadInput):
        generate(PartWorldOptions(family="faces", cooccur=(("hat", "nope", 0.5),)))


def test_chained_pairs_follow_their_sources():
    chained = generate(PartWorldOptions(n=8, family="faces", size=32,
                                        cooccur=(("hat", "smile", 1.0), ("lipstick", "hat", 1.0))))
    att = chained.attributes
    lip, hat, smile = (att[:, FACE_ATTRIBUTES.index(a)] for a in ("lipstick", "hat", "smile"))
    assert np.array_equal(lip, hat) and np.array_equal(hat, smile)


def test_progress_is_reported_and_cancellation_stops_rendering():
    seen = []
    generate(PartWorldOptions(n=120, size=32), Progress(lambda f, m: seen.append((f, m))))
    assert [round(f, 3) for f, _ in seen] == [0.0, round(50 / 120, 3), round(100 / 120, 3)]
    assert {m for _, m in seen} == {"rendering"}
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        generate(PartWorldOptions(n=10), Progress(token=token))
