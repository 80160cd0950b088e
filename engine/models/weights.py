"""Reading weights safely and fitting them to an architecture, with one-line reasons.

Safetensors or `torch.load(weights_only=True)`; a checkpoint that holds pickled Python
objects (which could run code) is refused unless the user passed `--trust-pickle`.
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch
from torch import nn

from engine.errors import BadInput, choices

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")


def read_state_dict(path: str | Path, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """Tensors by name from a .safetensors / .pt / .pth file."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"weights file {path} does not exist")
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    loaded = _torch_load(path, trust_pickle)
    return _unwrap(loaded, path)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError  # noqa: PLC0415
    from safetensors.torch import load_file  # noqa: PLC0415

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInput(f"{path} is not a readable safetensors file ({_first_line(exc)})") from None


def _torch_load(path: Path, trust_pickle: bool):
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc):  # an object to import; damaged bytes say otherwise
            raise BadInput(f"{path} holds pickled Python objects that could run code when loaded; "
                           "refused (pass --trust-pickle only if you trust its source)") from None
        detail = str(exc).rpartition("WeightsUnpickler error:")[2] or str(exc)
        raise BadInput(f"{path} is not a readable weights file ({_first_line(detail)})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path} is not a readable weights file ({_first_line(exc)})") from None


def _unwrap(loaded, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(loaded, nn.Module):
        return loaded.state_dict()
    if isinstance(loaded, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(loaded.get(key), (dict, nn.Module)):
                return _unwrap(loaded[key], path)
        tensors = {k: v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return {k.removeprefix("module."): v for k, v in tensors.items()}
    raise BadInput(f"{path} holds no tensors by name (found {type(loaded).__name__})")


def _first_line(exc: BaseException | str) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def fit_state_dict(module: nn.Module, state: dict[str, torch.Tensor], source: str, arch: str) -> None:
    """Load `state` into `module` strictly; say which keys differ when it does not fit."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    reshaped = [f"{k} (file {_shape(state[k])}, model {_shape(expected[k])})"
                for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or reshaped:
        parts = [f"{label}: {choices(keys, 4)}" for label, keys in
                 (("missing keys", missing), ("unexpected keys", unexpected),
                  ("shape differs for", reshaped)) if keys]
        raise BadInput(f"weights in {source} do not fit {arch}; " + "; ".join(parts))
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise BadInput(f"weights in {source} hold NaN or Inf values in {choices(bad, 4)}")
    module.load_state_dict(state, strict=True)


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(str(s) for s in tensor.shape) or "scalar"
