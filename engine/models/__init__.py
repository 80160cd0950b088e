"""Building and loading networks from a spec string (DESIGN.md, "Model specs").

`demo:NAME` (shipped), `dir:MODEL_DIR` (what `train` wrote), `torchvision:ARCH` with a
weights file, `torchscript:FILE`. Every loader returns a `LoadedModel` in eval mode.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from engine.errors import BadInput, choices
from engine.layers import layer_names
from engine.models import model_dir, partworld_cnn
from engine.models.weights import fit_state_dict, read_state_dict
from engine.specs import parse_spec

MODEL_KINDS = ("demo", "dir", "torchvision", "torchscript")
ARCHITECTURES = {partworld_cnn.ARCH: partworld_cnn.build}
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO_MODELS = {"partworld-cnn": RESOURCES / "demo" / "partworld-cnn"}
IMAGENET_NORM = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@dataclass
class LoadedModel:
    """A network ready for analysis: eval mode, its class names, how inputs are prepared."""

    module: nn.Module
    spec: str
    arch: str
    class_names: list[str] = field(default_factory=list)
    input_size: tuple[int, int] | None = None
    normalize: tuple | None = None  # (mean, std) per channel, applied by `prepare`
    description: dict = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        return layer_names(self.module)

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def prepare(self, images) -> torch.Tensor:
        """Images (N,3,H,W) in [0,1] → the tensor the network expects, on its device."""
        x = torch.as_tensor(images, dtype=torch.float32, device=self.device)
        if self.normalize is not None:
            mean, std = (torch.tensor(v, device=self.device).view(1, -1, 1, 1) for v in self.normalize)
            x = (x - mean) / std
        return x


def build_arch(arch: str, **kwargs) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise BadInput(f"unknown architecture {arch!r}; valid: {choices(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**kwargs)


def load_model(spec: str, weights: str | None = None, trust_pickle: bool = False,
               device: str = "cpu") -> LoadedModel:
    parsed = parse_spec(spec, MODEL_KINDS, "model")
    loader = {"demo": _load_demo, "dir": _load_dir, "torchvision": _load_torchvision,
              "torchscript": _load_torchscript}[parsed.kind]
    loaded = loader(parsed.target, spec=spec, weights=weights, trust_pickle=trust_pickle)
    loaded.module.to(device).eval()
    return loaded


def _load_demo(name: str, spec: str, **_) -> LoadedModel:
    if name not in DEMO_MODELS:
        raise BadInput(f"unknown demo model {name!r}; valid: {choices(DEMO_MODELS)}")
    folder = DEMO_MODELS[name]
    if not (folder / model_dir.WEIGHTS).is_file():
        raise BadInput(f"demo model {name} is not built yet; run `deepscope demo`")
    return _load_dir(str(folder), spec=spec)


def _load_dir(folder: str, spec: str, **_) -> LoadedModel:
    description = model_dir.read_description(folder)
    module = build_arch(description["arch"], **description.get("arch_args", {}))
    state = read_state_dict(Path(folder) / model_dir.WEIGHTS)
    fit_state_dict(module, state, str(Path(folder) / model_dir.WEIGHTS), description["arch"])
    size = description.get("input_size")
    return LoadedModel(module, spec, description["arch"], description.get("class_names", []),
                       tuple(size) if size else None, None, description)


def _load_torchvision(arch: str, spec: str, weights: str | None, trust_pickle: bool) -> LoadedModel:
    import torchvision  # noqa: PLC0415 (slow import, only when asked for)

    valid = torchvision.models.list_models(module=torchvision.models)
    if arch not in valid:
        raise BadInput(f"unknown torchvision architecture {arch!r}; valid: {choices(valid)}")
    if not weights:
        raise BadInput(f"torchvision:{arch} needs --weights FILE (nothing is downloaded)")
    state = read_state_dict(weights, trust_pickle)
    head = next((v for k, v in state.items() if k.endswith(("fc.weight", "classifier.weight",
                                                               "classifier.6.weight", "head.weight"))), None)
    kwargs = {"num_classes": int(head.shape[0])} if head is not None else {}
    module = torchvision.models.get_model(arch, weights=None, **kwargs)
    fit_state_dict(module, state, weights, f"torchvision:{arch}")
    return LoadedModel(module, spec, arch, [], None, IMAGENET_NORM)


def _load_torchscript(path: str, spec: str, **_) -> LoadedModel:
    if not Path(path).is_file():
        raise BadInput(f"TorchScript file {path} does not exist")
    try:
        module = torch.jit.load(path, map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        raise BadInput(f"{path} is not a TorchScript archive ({str(exc).splitlines()[0][:160]})") from None
    return LoadedModel(module, spec, "torchscript")
