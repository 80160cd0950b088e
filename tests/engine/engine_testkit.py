"""Helpers the engine tests share (fixtures live in conftest.py)."""
from __future__ import annotations

import numpy as np
import torch

from engine.data.types import ImageDataset
from engine.models.model_dir import save_model_dir
from engine.models.partworld_cnn import PartWorldCNN

TINY_WIDTHS = (4, 4, 4, 4, 4)
TINY_DATA = "demo:partworld?n=6&seed=3&size=32"
TINY_POINTS = "demo:shapeworld?n=2&seed=3&points=64"
TINY_FACES = "demo:partworld?family=faces&n=6&seed=3&size=32"  # for the attribute model
CLASS_NAMES = ["car", "house", "animal", "flower", "robot"]


def tiny_cnn(seed: int = 0, widths=TINY_WIDTHS) -> PartWorldCNN:
    torch.manual_seed(seed)
    return PartWorldCNN(num_classes=5, widths=widths).eval()


def tiny_description(widths=TINY_WIDTHS) -> dict:
    return {"arch": "partworld-cnn", "arch_args": {"num_classes": 5, "widths": list(widths)},
            "class_names": CLASS_NAMES, "input_size": [32, 32]}


def write_model_dir(folder, module=None, widths=TINY_WIDTHS):
    """A `dir:` model folder as `deepscope train` writes it."""
    module = module if module is not None else tiny_cnn(widths=widths)
    return save_model_dir(module, tiny_description(widths), folder)


def write_icnn_dir(folder, widths=TINY_WIDTHS):
    """A `dir:` folder of an untrained tiny interpretable CNN (5 categories), its buffers finite
    as training leaves them (the loader refuses NaN)."""
    from engine.models.interpretable import InterpretablePartWorldCNN  # noqa: PLC0415
    from engine.models.interpretable_training import finalise  # noqa: PLC0415

    torch.manual_seed(0)
    module = InterpretablePartWorldCNN(num_classes=5, widths=widths, categories=5).eval()
    for layer in module.masked_layers():
        layer.set_density([0.2] * 5)
    finalise(module)
    description = tiny_description(widths)
    description.update(arch="partworld-icnn", arch_args={**description["arch_args"], "categories": 5})
    return save_model_dir(module, description, folder)


def write_point_model_dir(folder, arch: str = "pointnet2-ssg", num_points: int = 64):
    """A `dir:` folder of an untrained point classifier of the 11 ShapeWorld classes."""
    from engine.data.shapeworld import CLASS_NAMES as SHAPES  # noqa: PLC0415
    from engine.models import build_arch  # noqa: PLC0415

    torch.manual_seed(0)
    args = {"num_classes": len(SHAPES), "num_points": num_points}
    module = build_arch(arch, **args).eval()
    return save_model_dir(module, {"arch": arch, "arch_args": args, "class_names": list(SHAPES)}, folder)


def write_attributes_dir(folder, widths=TINY_WIDTHS):
    """A `dir:` folder of an untrained tiny partworld-attributes CNN: one logit a face attribute."""
    from engine.data.partworld import FACE_ATTRIBUTES  # noqa: PLC0415

    torch.manual_seed(0)
    module = PartWorldCNN(num_classes=len(FACE_ATTRIBUTES), widths=widths).eval()
    description = tiny_description(widths)
    description.update(arch="partworld-attributes", class_names=list(FACE_ATTRIBUTES),
                       arch_args={**description["arch_args"], "num_classes": len(FACE_ATTRIBUTES)})
    return save_model_dir(module, description, folder)


def images_dataset(images: np.ndarray, labels=None) -> ImageDataset:
    """An ImageDataset from bare (N,3,H,W) arrays."""
    labels = np.full(len(images), -1, np.int64) if labels is None else np.asarray(labels, np.int64)
    return ImageDataset(np.asarray(images, np.float32), labels, [])


def hooks_left(module: torch.nn.Module) -> dict[str, int]:
    """Module name → hooks of any kind still registered on it; {} when none are left."""
    out = {}
    for name, m in module.named_modules():
        count = (len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                 + len(m._backward_pre_hooks))
        if count:
            out[name or "(root)"] = count
    return out


def assert_same_arrays(a: dict, b: dict) -> None:
    """Same names, dtypes, shapes and bits (NaN equal to NaN)."""
    assert sorted(a) == sorted(b)
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name
