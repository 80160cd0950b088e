"""Point-cloud data: ShapeWorld geometry, transforms, file readers and their bad input."""
from __future__ import annotations

from functools import lru_cache

import h5py
import numpy as np
import open3d as o3d
import pytest
import torch

from engine.data import load_data
from engine.data import pointfiles
from engine.data._surfaces import Patch, sample_patches
from engine.data.pointops import (normalise_to_unit_sphere, random_rotations, rotate,
                                  rotation_about_axis, rotation_about_z, scale, translate)
from engine.data.shapeworld import CLASS_NAMES, PART_NAMES, ShapeWorldOptions, generate
from engine.errors import BadInput


@lru_cache(maxsize=None)
def _world(n=22, seed=0, points=512, rotate="none"):
    return generate(ShapeWorldOptions(n=n, seed=seed, points=points, rotate=rotate))


def _cloud_of(name: str, rotate="none"):
    data = _world(rotate=rotate)
    i = CLASS_NAMES.index(name)
    return data.points[i].astype(np.float64), data.normals[i].astype(np.float64), data.part_labels[i]


def _part(name: str, part: str):
    points, _, parts = _cloud_of(name)
    return points[parts == PART_NAMES.index(f"{name}/{part}")]


def bad_input(spec: str) -> str:
    with pytest.raises(BadInput) as info:
        load_data(spec)
    assert "\n" not in str(info.value)
    return str(info.value)


# ----------------------------------------------------------------- ShapeWorld

def test_shapeworld_arrays_classes_and_normalisation():
    data = load_data("demo:shapeworld?n=22&points=512")
    assert data.kind == "points" and len(data) == 22 and data.num_points == 512
    assert data.spec == "demo:shapeworld?n=22&points=512"
    assert len(CLASS_NAMES) >= 10 and {"sphere", "cube", "cylinder", "cone", "torus", "chair",
                                       "airplane"} <= set(CLASS_NAMES)
    assert data.points.dtype == np.float32 and data.normals.shape == (22, 512, 3)
    assert data.labels.tolist() == [i % len(CLASS_NAMES) for i in range(22)]
    np.testing.assert_allclose(data.points.mean(axis=1), 0.0, atol=1e-6)   # centred
    np.testing.assert_allclose(np.linalg.norm(data.points, axis=2).max(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(data.normals, axis=2), 1.0, atol=1e-6)
    for i, label in enumerate(data.labels):  # each cloud's parts belong to its class
        assert {PART_NAMES[p].split("/")[0] for p in np.unique(data.part_labels[i])} == {CLASS_NAMES[label]}


def test_sphere_normals_are_the_normalised_positions():
    points, normals, _ = _cloud_of("sphere")
    # points = centre + radius * normal exactly; fit radius and centre, then check every point
    offsets, directions = points - points.mean(0), normals - normals.mean(0)
    radius = (offsets * directions).sum() / (directions * directions).sum()
    centre = (points - radius * normals).mean(0)
    np.testing.assert_allclose(points - centre, radius * normals, atol=1e-5)
    np.testing.assert_allclose((points - centre) / np.linalg.norm(points - centre, axis=1)[:, None],
                               normals, atol=1e-5)


def assert_on_axis_aligned_box(points, normals):
    """Every normal is an axis (+-); points facing +axis share the cloud's maximum there."""
    axis = np.abs(normals).argmax(1)
    np.testing.assert_allclose(np.abs(normals).max(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.abs(normals).sum(1), 1.0, atol=1e-6)
    for k in range(3):
        for sign, extreme in ((1, points[:, k].max()), (-1, points[:, k].min())):
            facing = (axis == k) & (np.sign(normals[:, k]) == sign)
            assert facing.sum() > 10
            np.testing.assert_allclose(points[facing, k], extreme, atol=1e-6)


def test_cube_points_lie_on_its_faces_with_axis_aligned_normals():
    assert_on_axis_aligned_box(*_cloud_of("cube")[:2])


def test_torus_points_satisfy_the_torus_equation_and_are_uniform_by_area():
    rng = np.random.default_rng(0)
    points, normals, parts = sample_patches(rng, [Patch("surface", "torus", (1.0, 0.3))], 20000,
                                            ["surface"])
    x, y, z = points.T
    np.testing.assert_allclose((np.hypot(x, y) - 1.0) ** 2 + z ** 2, 0.09, atol=1e-9)
    ring = np.stack([x, y, 0 * z], 1) / np.hypot(x, y)[:, None]  # nearest point of the core circle
    np.testing.assert_allclose((points - ring) / 0.3, normals, atol=1e-9)
    # area element (R + r cos t) dt: the outer half holds 1/2 + r / (pi R) of the area
    outer = (np.hypot(x, y) > 1.0).mean()
    assert abs(outer - (0.5 + 0.3 / np.pi)) < 0.015
    assert parts.tolist() == [0] * 20000


def test_cone_side_is_uniform_by_area_with_exact_normals():
    rng = np.random.default_rng(1)
    points, normals, _ = sample_patches(rng, [Patch("side", "tube", (1.0, 0.0, 1.0))], 20000, ["side"])
    np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), 1.0 - points[:, 2], atol=1e-9)
    np.testing.assert_allclose(normals[:, 2], 1 / np.sqrt(2), atol=1e-9)  # 45 degree slope
    # lateral area between radii r and 1 is proportional to 1 - r^2: below half height, 3/4
    assert abs((points[:, 2] < 0.5).mean() - 0.75) < 0.015


def test_composite_part_labels_match_their_geometry():
    legs, seat, back = _part("chair", "legs"), _part("chair", "seat"), _part("chair", "back")
    assert legs[:, 2].max() <= seat[:, 2].min() + 1e-6          # legs below the seat
    assert back[:, 2].min() >= seat[:, 2].max() - 1e-6          # the back rises from the seat top
    assert back[:, 1].mean() < seat[:, 1].mean()                # ... at the seat's rear (-y)
    assert _part("table", "legs")[:, 2].max() <= _part("table", "top")[:, 2].min() + 1e-6
    wings, body, tail = _part("airplane", "wings"), _part("airplane", "fuselage"), _part("airplane", "tail")
    assert np.abs(wings[:, 1]).max() > 3 * np.abs(body[:, 1]).max()  # wings span y
    assert tail[:, 0].mean() < wings[:, 0].mean()               # tail behind the wings (-x)
    assert body[:, 0].max() > wings[:, 0].max()                  # the nose leads
    bottom, middle, head = (_part("snowman", p) for p in ("bottom", "middle", "head"))
    assert bottom[:, 2].max() <= middle[:, 2].min() + 1e-6 and middle[:, 2].max() <= head[:, 2].min() + 1e-6
    assert _part("lamp", "shade")[:, 2].mean() > _part("lamp", "base")[:, 2].mean()


def test_same_seed_same_clouds_cloud_i_independent_of_n_other_seed_differs():
    first, again = _world(n=5, seed=7), generate(ShapeWorldOptions(n=12, seed=7, points=512))
    for key in ("points", "normals", "part_labels"):
        np.testing.assert_array_equal(getattr(first, key), getattr(again, key)[:5])
    assert not np.array_equal(first.points, _world(n=5, seed=8).points)


def test_rotation_options_rotate_the_same_clouds():
    plain, turned, spun = _world(), _world(rotate="so3"), _world(rotate="z")
    for i in range(len(plain)):
        rotation, *_ = np.linalg.lstsq(plain.points[i], turned.points[i], rcond=None)
        np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-4)
        assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-4)
        np.testing.assert_allclose(plain.normals[i] @ rotation, turned.normals[i], atol=1e-4)
    np.testing.assert_array_equal(spun.points[..., 2], plain.points[..., 2])  # about the up axis
    assert not np.allclose(spun.points, plain.points)


def test_background_points_fill_the_unit_ball_around_the_normalised_object():
    plain = load_data("demo:shapeworld?n=3&points=512")
    mixed = load_data("demo:shapeworld?n=3&points=512&background=128")
    background = mixed.part_labels == PART_NAMES.index("background")
    assert mixed.points.shape == (3, 512, 3) and background.sum(axis=1).tolist() == [128] * 3
    assert (plain.part_labels != PART_NAMES.index("background")).all()
    radii = np.linalg.norm(mixed.points, axis=-1)
    assert radii.max() <= 1.0 + 1e-5 and np.allclose(radii[~background].reshape(3, -1).max(1), 1.0, atol=1e-5)
    inner = radii[background]  # uniform in the ball: P(r < 0.5) = 1/8
    assert 0.04 < (inner < 0.5).mean() < 0.25 and np.all(mixed.normals[background] == 0)
    # the shape and pose are those drawn without background: the same class, the same extent
    assert np.allclose(mixed.points[~background].reshape(3, -1, 3).std(1), plain.points.std(1), atol=0.03)


@pytest.mark.parametrize("query, message", [
    ("points=abc", "ShapeWorld option points='abc' is not an integer"),
    ("points=4", "ShapeWorld option points=4 must be an integer in [16, 100000]"),
    ("rotate=x", "ShapeWorld option rotate='x' is not one of none, z, so3"),
    ("background=1020", "ShapeWorld option background=1020 must be an integer in [0, 1008]"),
    ("size=3", "unknown ShapeWorld option 'size'; valid options: n, seed, points, background, rotate"),
])
def test_shapeworld_bad_options(query, message):
    assert bad_input(f"demo:shapeworld?{query}") == message


# ----------------------------------------------------------------- transforms

def test_rotations_known_answers_and_norms():
    np.testing.assert_allclose(rotation_about_z(np.pi / 2) @ [1.0, 0.0, 0.0], [0, 1, 0], atol=1e-12)
    cycle = rotation_about_axis([1, 1, 1], 2 * np.pi / 3)      # x -> y -> z -> x
    np.testing.assert_allclose(cycle, [[0, 0, 1], [1, 0, 0], [0, 1, 0]], atol=1e-12)
    cloud = np.random.default_rng(0).standard_normal((2, 50, 3))
    for points in (cloud, torch.tensor(cloud, dtype=torch.float32)):
        turned = rotate(points, rotation_about_z(0.7))
        assert type(turned) is type(points)
        np.testing.assert_allclose(np.linalg.norm(np.asarray(turned), axis=-1),
                                   np.linalg.norm(cloud, axis=-1), rtol=1e-5)
    np.testing.assert_allclose(rotate(np.array([[1.0, 0, 0]]), rotation_about_z(np.pi / 2)),
                               [[0, 1, 0]], atol=1e-12)
    with pytest.raises(BadInput, match=r"rotation axis \[0.0, 0.0, 0.0\] must be a finite non-zero"):
        rotation_about_axis([0, 0, 0], 1.0)


def test_random_rotations_are_uniform_proper_rotations():
    rotations = random_rotations(4000, seed=3)
    np.testing.assert_allclose(rotations @ rotations.swapaxes(1, 2), np.broadcast_to(np.eye(3), (4000, 3, 3)),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rotations), 1.0, atol=1e-12)
    np.testing.assert_allclose(rotations.mean(0), 0.0, atol=0.05)  # Haar measure: E[R] = 0
    np.testing.assert_array_equal(rotations[:5], random_rotations(5, seed=3))
    per_cloud = rotate(np.ones((2, 1, 3)), rotations[:2])          # one rotation per cloud
    np.testing.assert_allclose(per_cloud[1, 0], rotations[1] @ np.ones(3))


def test_translate_scale_and_normalise_known_values():
    points = np.array([[0.0, 0, 0], [2, 0, 0]])
    np.testing.assert_allclose(translate(points, [1, 2, 3]), [[1, 2, 3], [3, 2, 3]])
    np.testing.assert_allclose(scale(points, [0.5, 1, 1]), [[0, 0, 0], [1, 0, 0]])
    np.testing.assert_allclose(normalise_to_unit_sphere(points), [[-1, 0, 0], [1, 0, 0]])
    batch = torch.tensor([[[0.0, 0, 0], [0, 4, 0]], [[1.0, 1, 1], [1, 1, 1]]])
    torch.testing.assert_close(normalise_to_unit_sphere(batch),
                               torch.tensor([[[0.0, -1, 0], [0, 1, 0]], [[0.0, 0, 0], [0, 0, 0]]]))


# ----------------------------------------------------------------- files

def _index_cloud(count: int):
    """Points with normals that encode each point's index (normalisation leaves normals alone)."""
    angles = np.arange(count) * (1.5 * np.pi / count)
    normals = np.stack([np.cos(angles), np.sin(angles), np.zeros(count)], 1)
    points = np.random.default_rng(count).uniform(-3, 5, (count, 3))
    return points, normals, lambda loaded: np.rint(np.arctan2(loaded[:, 1], loaded[:, 0]) % (2 * np.pi)
                                                   / (1.5 * np.pi / count)).astype(int)


def _write(path, points, normals=None):
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if normals is not None:
        cloud.normals = o3d.utility.Vector3dVector(normals)
    assert o3d.io.write_point_cloud(str(path), cloud)
    return path


@pytest.mark.parametrize("suffix", [".ply", ".pcd", ".xyz"])
def test_point_files_round_trip_to_the_same_points(tmp_path, suffix):
    points, normals, _ = _index_cloud(300)
    path = _write(tmp_path / f"cloud{suffix}", points, normals)
    data = load_data(f"points:{path}?points=300")
    assert data.names == [f"cloud{suffix}"] and data.labels.tolist() == [-1] and data.notes == []
    np.testing.assert_allclose(data.points[0], normalise_to_unit_sphere(points), atol=1e-6)
    if suffix == ".xyz":  # the format has no normals
        assert data.normals is None
    else:
        np.testing.assert_allclose(data.normals[0], normals, atol=1e-6)


def test_resampling_keeps_a_random_subset_in_file_order_or_repeats(tmp_path):
    points, normals, index_of = _index_cloud(300)
    path = _write(tmp_path / "cloud.ply", points, normals)
    down = load_data(f"points:{path}?points=100&seed=4")
    rows = index_of(down.normals[0])
    assert len(set(rows)) == 100 and (np.diff(rows) > 0).all()
    np.testing.assert_allclose(down.points[0], normalise_to_unit_sphere(points[rows]), atol=1e-6)
    assert not np.array_equal(rows, index_of(load_data(f"points:{path}?points=100&seed=5").normals[0]))
    up = load_data(f"points:{path}?points=320")
    assert up.notes == ["cloud.ply: 300 points, fewer than 320; 20 repeated at random"]
    assert index_of(up.normals[0])[:300].tolist() == list(range(300))


def test_folder_classes_from_sub_folders(tmp_path):
    points, normals, _ = _index_cloud(64)
    for cls, name in (("chair", "a.ply"), ("chair", "b.xyz"), ("lamp", "c.pcd")):
        (tmp_path / cls / "train").mkdir(parents=True, exist_ok=True)
        _write(tmp_path / cls / "train" / name, points, normals)
    (tmp_path / "readme.txt").write_text("not a cloud")
    data = load_data(f"points:{tmp_path}?points=64")
    assert data.names == ["chair/train/a.ply", "chair/train/b.xyz", "lamp/train/c.pcd"]
    assert data.class_names == ["chair", "lamp"] and data.labels.tolist() == [0, 0, 1]
    assert data.normals is None and data.notes == ["normals dropped: only 2 of 3 clouds have them"]
    np.testing.assert_allclose(data.points, np.broadcast_to(normalise_to_unit_sphere(points), (3, 64, 3)),
                               atol=1e-6)


CUBE_OFF = """OFF8 12 0
-1 -1 -1\n1 -1 -1\n1 1 -1\n-1 1 -1\n-1 -1 1\n1 -1 1\n1 1 1\n-1 1 1
3 0 2 1\n3 0 3 2\n3 4 5 6\n3 4 6 7\n3 0 1 5\n3 0 5 4
3 2 3 7\n3 2 7 6\n3 1 2 6\n3 1 6 5\n3 0 4 7\n3 0 7 3
"""


def test_off_mesh_is_sampled_on_its_surface_with_outward_normals(tmp_path):
    (tmp_path / "cube.off").write_text(CUBE_OFF)  # ModelNet's header: counts on the OFF line
    data = load_data(f"points:{tmp_path / 'cube.off'}?points=600")
    assert data.points.shape == (1, 600, 3) and data.notes == []
    assert_on_axis_aligned_box(data.points[0].astype(np.float64), data.normals[0].astype(np.float64))
    centred = data.points[0] - data.points[0].mean(0)
    assert (np.sign((centred * data.normals[0]).sum(1)) > 0).mean() > 0.95  # outward


def test_off_without_faces_gives_its_vertices(tmp_path):
    vertices = np.array([[0.0, 0, 0], [4, 0, 0], [0, 2, 0], [1, 1, 3]])
    body = "\n".join(" ".join(map(str, v)) for v in vertices)
    (tmp_path / "dots.off").write_text(f"OFF\n# a comment\n4 0 0\n{body}\n")
    data = load_data(f"points:{tmp_path / 'dots.off'}?points=4")
    np.testing.assert_allclose(data.points[0], normalise_to_unit_sphere(vertices), atol=1e-6)
    assert data.normals is None


def _write_h5(path, **arrays):
    with h5py.File(path, "w") as h5:
        for key, value in arrays.items():
            h5[key] = value
    return path


def test_modelnet_h5_round_trip_with_labels_normals_parts_and_names(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (3, 200, 3)).astype(np.float32)
    normal = rng.standard_normal((3, 200, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    pid = rng.integers(0, 4, (3, 200)).astype(np.uint8)
    path = _write_h5(tmp_path / "ply_data_test0.h5", data=data, label=np.array([[2], [0], [1]], np.uint8),
                     normal=normal, pid=pid)
    (tmp_path / "shape_names.txt").write_text("airplane\nbathtub\nbed\n")
    loaded = load_data(f"modelnet-h5:{path}?points=200")
    np.testing.assert_allclose(loaded.points, normalise_to_unit_sphere(data.astype(np.float64)), atol=1e-6)
    np.testing.assert_allclose(loaded.normals, normal, atol=1e-6)
    assert loaded.part_labels.tolist() == pid.astype(np.int64).tolist()
    assert loaded.labels.tolist() == [2, 0, 1] and loaded.class_names == ["airplane", "bathtub", "bed"]
    assert loaded.part_names == ["part-0", "part-1", "part-2", "part-3"]
    assert loaded.names == ["ply_data_test0-0", "ply_data_test0-1", "ply_data_test0-2"]
    small = load_data(f"modelnet-h5:{path}?points=50").subset([2])
    assert small.points.shape == (1, 50, 3) and small.labels.tolist() == [1]


# ----------------------------------------------------------------- bad input

def test_missing_corrupt_and_empty_files(tmp_path):
    assert bad_input(f"points:{tmp_path}/none.ply") == f"point-cloud path {tmp_path}/none.ply does not exist"
    (tmp_path / "bad.ply").write_text("ply\nformat ascii 1.0\nelement vertex 5\nend_hea garbage\n")
    assert bad_input(f"points:{tmp_path}/bad.ply") == \
        "bad.ply is not a readable .ply file (corrupt or another format)"
    (tmp_path / "empty.ply").write_text("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\n"
                                        "property float y\nproperty float z\nend_header\n")
    assert bad_input(f"points:{tmp_path}/empty.ply") == "empty.ply holds an empty cloud (0 points)"
    (tmp_path / "blank.xyz").write_text("")
    assert bad_input(f"points:{tmp_path}/blank.xyz") == "blank.xyz holds an empty cloud (0 points)"
    (tmp_path / "mesh.obj").write_text("v 0 0 0\n")
    assert bad_input(f"points:{tmp_path}/mesh.obj") == \
        "mesh.obj: not a point-cloud file; readable: .ply, .pcd, .xyz, .off"
    assert bad_input(f"points:{tmp_path}/bad.ply?points=0") == \
        "point file option points=0 must be an integer in [1, 100000]"


def test_a_folder_skips_bad_files_with_notes(tmp_path):
    _write(tmp_path / "good.ply", *_index_cloud(40)[:2])
    (tmp_path / "bad.pcd").write_text("hello\n")
    data = load_data(f"points:{tmp_path}?points=40")
    assert data.names == ["good.ply"]
    assert data.notes == ["skipped: bad.pcd is not a readable .pcd file (corrupt or another format)"]
    (tmp_path / "good.ply").unlink()
    (tmp_path / "zero.xyz").write_text("")
    assert bad_input(f"points:{tmp_path}") == ("no usable cloud among 2; the first: "
                                               "bad.pcd is not a readable .pcd file (corrupt or another format)")


def test_nan_points_are_dropped_with_a_note_and_an_all_nan_cloud_is_refused(tmp_path):
    points = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    points[[3, 7], 1], points[9, 0] = np.nan, np.inf
    data = load_data(f"points:{_write(tmp_path / 'holes.xyz', points)}?points=47")
    assert data.notes == ["holes.xyz: dropped 3 of 50 points with NaN or infinite coordinates"]
    np.testing.assert_allclose(data.points[0], normalise_to_unit_sphere(np.delete(points, [3, 7, 9], 0)),
                               atol=1e-6)
    path = _write(tmp_path / "void.ply", np.full((5, 3), np.nan))
    assert bad_input(f"points:{path}") == "void.ply: every point has NaN or infinite coordinates"


@pytest.mark.parametrize("text, message", [
    ("OFF\n0 0 0\n", "nomesh.off: the mesh has no vertices"),
    ("OFF\n3 1 0\n0 0 0\n1 0\n", "nomesh.off is corrupt: its header promises 3 vertices and 1 faces "
                                 "but it holds only 2 data lines"),
    ("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 9\n", "nomesh.off is corrupt: a vertex has fewer than 3 "
                                                  "coordinates or a face names a vertex that does not exist"),
    ("PLY\n", "nomesh.off is not an OFF file: its first line is not the keyword OFF"),
])
def test_bad_off_files(tmp_path, text, message):
    (tmp_path / "nomesh.off").write_text(text)
    assert bad_input(f"points:{tmp_path / 'nomesh.off'}") == message


def test_a_cloud_over_the_cap_is_downsampled_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(pointfiles, "MAX_POINTS", 200)  # 10M points would be too slow for a test
    path = _write(tmp_path / "huge.ply", np.random.default_rng(0).uniform(-1, 1, (300, 3)))
    data = load_data(f"points:{path}?points=100")
    assert data.points.shape == (1, 100, 3)
    assert data.notes == ["huge.ply: 300 points exceed the 200-point cap; randomly downsampled to 100"]


def test_bad_modelnet_h5_files(tmp_path):
    assert bad_input(f"modelnet-h5:{tmp_path}/none.h5") == f"HDF5 file {tmp_path}/none.h5 does not exist"
    (tmp_path / "text.h5").write_text("not hdf5")
    assert bad_input(f"modelnet-h5:{tmp_path}/text.h5") == "text.h5 is not a readable HDF5 file"
    path = _write_h5(tmp_path / "other.h5", points=np.zeros((2, 5, 3)))
    assert bad_input(f"modelnet-h5:{path}") == "other.h5 has no dataset 'data' (it has: points)"
    path = _write_h5(tmp_path / "labels.h5", data=np.zeros((2, 5, 3)), label=np.zeros(3))
    assert bad_input(f"modelnet-h5:{path}") == \
        "labels.h5: 'label' has shape (3,), expected (2,) to match 'data' (2, 5, 3)"
    path = _write_h5(tmp_path / "empty.h5", data=np.zeros((2, 0, 3)))
    assert bad_input(f"modelnet-h5:{path}") == "empty.h5 holds an empty cloud: 'data' has shape (2, 0, 3)"
