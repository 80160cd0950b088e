"""User data: image folders (odd files decided and noted) and raw arrays (`npy:`)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.data import load_data
from engine.errors import BadInput


def bad_input(spec: str, **kwargs) -> str:
    with pytest.raises(BadInput) as info:
        load_data(spec, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.fixture
def odd_folder(tmp_path):
    """A text file, a grayscale PNG and an RGBA PNG (8×8 each)."""
    (tmp_path / "notes.txt").write_text("not an image")
    Image.fromarray(np.full((8, 8), 51, np.uint8), mode="L").save(tmp_path / "gray.png")
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255                    # red ...
    rgba[..., 3] = 255                    # ... and opaque,
    rgba[0, 0] = (0, 0, 255, 0)           # except a fully transparent (blue) pixel
    rgba[0, 1] = (0, 0, 0, 128)           # and a half transparent black one
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "rgba.png")
    (tmp_path / ".hidden.png").write_bytes(b"ignored: hidden files are not read")
    return tmp_path


def test_folder_loads_images_as_rgb_and_notes_every_decision(odd_folder):
    data = load_data(f"folder:{odd_folder}", size=(8, 8))
    assert data.images.shape == (2, 3, 8, 8) and data.images.dtype == np.float32
    assert data.names == ["gray.png", "rgba.png"]
    assert data.labels.tolist() == [-1, -1] and data.class_names == []
    assert data.notes == ["converted gray.png from L to RGB",
                          "skipped notes.txt: not an image",
                          "converted rgba.png from RGBA to RGB"]
    np.testing.assert_allclose(data.images[0], 51 / 255, rtol=0, atol=1e-7)  # grey on all channels


def test_rgba_is_composited_on_white(odd_folder):
    rgba = load_data(f"folder:{odd_folder}", size=(8, 8)).images[1]
    assert rgba[:, 0, 0].tolist() == [1.0, 1.0, 1.0]              # transparent → white
    np.testing.assert_allclose(rgba[:, 0, 1], 127 / 255, atol=1 / 255)  # half black over white
    assert rgba[:, 4, 4].tolist() == [1.0, 0.0, 0.0]              # opaque red stays red


def test_folder_images_are_resized_to_the_model_input(odd_folder):
    data = load_data(f"folder:{odd_folder}", size=(16, 12))
    assert data.images.shape == (2, 3, 16, 12)
    np.testing.assert_allclose(data.images[0], 51 / 255, atol=1e-7)


def test_class_subfolders_give_labels(tmp_path):
    for cls, value in (("cat", 10), ("dog", 200)):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.full((4, 4, 3), value, np.uint8)).save(tmp_path / cls / "a.png")
    data = load_data(f"folder:{tmp_path}", size=(4, 4))
    assert data.class_names == ["cat", "dog"] and data.labels.tolist() == [0, 1]
    assert data.names == ["cat/a.png", "dog/a.png"] and data.notes == []
    assert data.images[1].max() == data.images[1].min() == np.float32(200 / 255)


def test_folder_without_images(tmp_path):
    assert bad_input(f"folder:{tmp_path}") == f"image folder {tmp_path} holds no readable image (0 other files)"
    (tmp_path / "a.txt").write_text("x")
    assert bad_input(f"folder:{tmp_path}").endswith("holds no readable image (1 other files)")


def test_missing_folder_and_options_on_folder(tmp_path):
    assert bad_input(f"folder:{tmp_path}/nope") == f"image folder {tmp_path}/nope does not exist"
    assert "takes no options after '?'" in bad_input(f"folder:{tmp_path}?n=3")


def test_npy_nhwc_in_0_255_is_scaled_and_made_channels_first(tmp_path):
    rng = np.random.default_rng(0)
    nhwc = rng.integers(0, 256, (3, 5, 6, 3)).astype(np.uint8)
    np.save(tmp_path / "x.npy", nhwc)
    data = load_data(f"npy:{tmp_path / 'x.npy'}")
    assert data.images.shape == (3, 3, 5, 6) and data.images.dtype == np.float32
    np.testing.assert_allclose(data.images, nhwc.transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    assert data.labels.tolist() == [-1, -1, -1] and data.class_names == []
    assert data.names == ["x-0", "x-1", "x-2"]


def test_npz_with_x_and_y(tmp_path):
    x = np.random.default_rng(1).random((4, 3, 2, 2)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.array([2, 0, 1, 2]))
    data = load_data(f"npy:{tmp_path / 'd.npz'}")
    assert np.array_equal(data.images, x)  # already in [0,1] and channels first: untouched
    assert data.labels.tolist() == [2, 0, 1, 2] and data.class_names == ["0", "1", "2"]


def test_grayscale_stack_becomes_rgb(tmp_path):
    np.save(tmp_path / "g.npy", np.full((2, 4, 4), 0.25, np.float32))
    data = load_data(f"npy:{tmp_path / 'g.npy'}")
    assert data.images.shape == (2, 3, 4, 4) and np.all(data.images == 0.25)


def test_nan_pixels(tmp_path):
    x = np.zeros((2, 3, 4, 4), np.float32)
    x[1, 2, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", x)
    assert bad_input(f"npy:{tmp_path / 'nan.npy'}") == f"{tmp_path / 'nan.npy'} holds NaN or Inf pixel values"


@pytest.mark.parametrize("shape", [(2, 4, 4, 4), (5, 7), (2, 3, 4, 4, 1)])
def test_wrong_shape(tmp_path, shape):
    np.save(tmp_path / "w.npy", np.zeros(shape, np.float32))
    message = bad_input(f"npy:{tmp_path / 'w.npy'}")
    assert message.startswith(f"{tmp_path / 'w.npy'}: images must") and str(shape) in message


def test_values_outside_0_255(tmp_path):
    np.save(tmp_path / "v.npy", np.full((1, 3, 2, 2), 300.0))
    assert "pixel values span 300..300; expected [0,1] or [0,255]" in bad_input(f"npy:{tmp_path / 'v.npy'}")


def test_label_count_must_match(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 3, 2, 2)), y=np.array([0, 1]))
    assert bad_input(f"npy:{tmp_path / 'd.npz'}") == f"{tmp_path / 'd.npz'}: 3 images but 2 labels"


def test_npz_without_x_and_pickled_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((1, 3, 2, 2)))
    assert bad_input(f"npy:{tmp_path / 'd.npz'}") == f"{tmp_path / 'd.npz'} has no array 'x' (it has: images)"
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object))
    assert "without pickled objects" in bad_input(f"npy:{tmp_path / 'o.npy'}")
    assert bad_input(f"npy:{tmp_path / 'none.npy'}") == f"array file {tmp_path / 'none.npy'} does not exist"


def test_unknown_data_kind_and_demo():
    assert bad_input("csv:x.csv") == ("unknown data spec 'csv:x.csv'; valid kinds: demo:, folder:, npy:, "
                                      "text:, points:, modelnet-h5:")
    assert bad_input("demo:imagenet") == "unknown demo data 'imagenet'; valid: partworld, shapeworld, keywordtext"
    assert "options after '?' must be key=value" in bad_input("demo:partworld?n")
