"""Building and loading networks from a spec string (DESIGN.md, "Model specs").

`demo:NAME` (shipped), `dir:MODEL_DIR` (what `train` wrote), `torchvision:ARCH` with a
weights file, `torchscript:FILE`, `hf:DIR` (a Hugging Face sequence classifier on disk).
Every loader returns a `LoadedModel` in eval mode. A text model comes with its tokenizer
(`encode(texts) -> (tokens, mask, words)`); its module follows `text_models`' interface.
A point model (`pointnets`) takes clouds (B, N, 3) at its own N, `module(points, plan=None)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engine.errors import BadInput, choices
from engine.layers import layer_names
from engine.models import interpretable_archs, model_dir, partworld_cnn, pointnets, text_models
from engine.models.tokenizer import WordTokenizer
from engine.models.weights import fit_state_dict, read_state_dict
from engine.specs import parse_spec

MODEL_KINDS = ("demo", "dir", "torchvision", "torchscript", "hf")
ARCHITECTURES = {partworld_cnn.ARCH: partworld_cnn.build, partworld_cnn.ATTRIBUTES_ARCH: partworld_cnn.build,
                 **interpretable_archs.ARCHITECTURES,
                 **text_models.ARCHITECTURES, **pointnets.ARCHITECTURES}
TEXT_ARCHITECTURES = tuple(text_models.ARCHITECTURES)
POINT_ARCHITECTURES = tuple(pointnets.ARCHITECTURES)
MULTI_LABEL_ARCHITECTURES = (partworld_cnn.ATTRIBUTES_ARCH,)  # one logit an attribute, not a softmax
RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO_MODELS = {name: RESOURCES / "demo" / name
               for name in ("partworld-cnn", "partworld-cnn-seed2", "text-cnn", "text-lstm", "text-transformer",
                             *interpretable_archs.PARTWORLD_ARCHS, "partworld-icnn-fc", *POINT_ARCHITECTURES,
                             "partworld-attributes", "partworld-attributes-biased")}
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
    tokenizer: object | None = None  # text models: encode(texts) -> (tokens, mask, words)

    @property
    def input_kind(self) -> str:
        """"text" for a model that reads tokens (it has a tokenizer), "points" for a point
        model, else "image"."""
        return input_kind_of(self.arch) if self.tokenizer is None else "text"

    @property
    def layers(self) -> list[str]:
        return layer_names(self.module)

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def prepare(self, images) -> torch.Tensor:
        """Images (N,3,H,W) in [0,1], or clouds (N,P,3) → the tensor the network expects, on its device."""
        if isinstance(images, np.ndarray) and not images.flags.writeable:
            images = images.copy()  # a Ray task's array is read-only, which torch warns about
        x = torch.as_tensor(images, dtype=torch.float32, device=self.device)
        if self.normalize is not None:
            mean, std = (torch.tensor(v, device=self.device).view(1, -1, 1, 1) for v in self.normalize)
            x = (x - mean) / std
        return x

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, list[list[str]]]:
        """Sentences → (tokens (N,T), mask (N,T)) on the model's device, and each one's words."""
        if self.tokenizer is None:
            raise BadInput(f"{self.spec} takes images, not text")
        tokens, mask, words = self.tokenizer.encode(list(texts))
        return tokens.to(self.device), mask.to(self.device), words


def input_kind_of(arch: str) -> str:
    """What one of our architectures reads: "text", "points" or "image"."""
    if arch in TEXT_ARCHITECTURES:
        return "text"
    return "points" if arch in POINT_ARCHITECTURES else "image"


def build_arch(arch: str, **kwargs) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise BadInput(f"unknown architecture {arch!r}; valid: {choices(ARCHITECTURES, 40)}")
    return ARCHITECTURES[arch](**kwargs)


def load_model(spec: str, weights: str | None = None, trust_pickle: bool = False,
               device: str = "cpu") -> LoadedModel:
    parsed = parse_spec(spec, MODEL_KINDS, "model")
    loader = {"demo": _load_demo, "dir": _load_dir, "torchvision": _load_torchvision,
              "torchscript": _load_torchscript, "hf": _load_hf}[parsed.kind]
    loaded = loader(parsed.target, spec=spec, weights=weights, trust_pickle=trust_pickle)
    loaded.module.to(device).eval()
    return loaded


def _load_demo(name: str, spec: str, **_) -> LoadedModel:
    if name not in DEMO_MODELS:
        raise BadInput(f"unknown demo model {name!r}; valid: {choices(DEMO_MODELS, 40)}")
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
    tokenizer = _word_tokenizer(description, folder)
    return LoadedModel(module, spec, description["arch"], description.get("class_names", []),
                       tuple(size) if size else None, None, description, tokenizer)


def _word_tokenizer(description: dict, folder: str) -> WordTokenizer | None:
    if input_kind_of(description["arch"]) != "text":
        return None
    vocab, path = description.get("vocab"), Path(folder) / model_dir.MODEL_JSON
    if not isinstance(vocab, list) or len(vocab) < 2:
        raise BadInput(f"{path} names text architecture {description['arch']} but holds no 'vocab' list")
    rows = description.get("arch_args", {}).get("vocab_size", len(vocab))
    if len(vocab) != rows:  # a longer list would index past the embedding table
        raise BadInput(f"{path}: 'vocab' has {len(vocab)} words but the embedding {rows} rows")
    return WordTokenizer.from_description(description)


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


def _load_hf(folder: str, spec: str, **_) -> LoadedModel:
    from engine.models.hf_text import load_hf  # noqa: PLC0415 (imports transformers: slow)

    module, tokenizer, class_names = load_hf(folder)
    return LoadedModel(module, spec, "hf", class_names, tokenizer=tokenizer)
