"""A model folder as `train` writes it: `model.json` + `weights.safetensors`."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from safetensors.torch import save_file
from torch import nn

from engine.errors import BadInput

MODEL_JSON = "model.json"
WEIGHTS = "weights.safetensors"


def save_model_dir(module: nn.Module, description: dict, folder: str | Path) -> Path:
    """Write weights, then the description that names them (each file replaced atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    _atomic(folder / WEIGHTS, lambda tmp: save_file(state, str(tmp)))
    _atomic(folder / MODEL_JSON, lambda tmp: tmp.write_text(json.dumps(description, indent=2)))
    return folder


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_description(folder: str | Path) -> dict:
    path = Path(folder) / MODEL_JSON
    if not path.is_file():
        raise BadInput(f"{folder} is not a model folder (no {MODEL_JSON}; `deepscope train` writes one)")
    try:
        description = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is damaged ({exc})") from None
    if "arch" not in description:
        raise BadInput(f"{path} does not name its architecture ('arch')")
    return description
