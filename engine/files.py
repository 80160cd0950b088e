"""Files written atomically and JSON read with one-line reasons: shared by every saver."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Callable

from engine.errors import BadInput


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """`write(tmp)` into a sibling temp file, then rename over `path`: never half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: str | os.PathLike, value) -> Path:
    return write_atomically(path, lambda tmp: tmp.write_text(json.dumps(value, indent=2, allow_nan=False)))


def read_json(path: str | os.PathLike, missing: str):
    """The JSON value in `path`; `BadInput(missing)` when absent, a one-line reason when damaged."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(missing)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is damaged ({getattr(exc, 'msg', exc)})") from None
