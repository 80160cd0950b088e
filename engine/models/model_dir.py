"""A model folder as `train` writes it: `model.json` + `weights.safetensors`."""
from __future__ import annotations

from pathlib import Path

from safetensors.torch import save_file
from torch import nn

from engine.errors import BadInput
from engine.files import read_json, write_atomically, write_json

MODEL_JSON = "model.json"
WEIGHTS = "weights.safetensors"


def save_model_dir(module: nn.Module, description: dict, folder: str | Path) -> Path:
    """Write weights, then the description that names them (each file replaced atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    write_atomically(folder / WEIGHTS, lambda tmp: save_file(state, str(tmp)))
    write_json(folder / MODEL_JSON, description)
    return folder


def read_description(folder: str | Path) -> dict:
    path = Path(folder) / MODEL_JSON
    description = read_json(path, f"{folder} is not a model folder (no {MODEL_JSON}; "
                                  "`deepscope train` writes one)")
    if not isinstance(description, dict) or "arch" not in description:
        raise BadInput(f"{path} does not name its architecture ('arch')")
    return description
