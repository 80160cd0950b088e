"""Training as a job (issue 5 §1): the request the GUI's engine thread runs like an analysis.

The work is `engine.models.training.train`, exactly as `deepscope train` runs it: its
`Progress.step` per batch is the cancellation point, and the folder is written only at the
end, so a cancelled or failed training leaves none. A job writes a new model folder only:
an existing one with files in it is refused, never overwritten from the GUI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import settings
from engine.errors import BadInput
from engine.jobs import Progress
from engine.session import Session, new_id


@dataclass
class TrainRequest:
    arch: str
    data: str
    out: str
    settings: dict = field(default_factory=dict)  # TrainConfig key → str, checked by the engine

    @property
    def model_spec(self) -> str:
        """The spec that loads what this training writes."""
        return f"dir:{self.out}"

    def describe(self) -> str:
        return f"train {self.arch} · {self.data} → {self.out}"


@dataclass
class TrainedModel:
    """What a finished training job hands back: the new model and how it did on held-out data."""

    spec: str
    val_accuracy: float
    seconds: float

    def summary(self) -> str:
        return f"{self.spec}: held-out accuracy {self.val_accuracy:.4f}, trained in {self.seconds} s"


def trainable_archs() -> list[str]:
    """The architectures `train` builds (the registry of engine.models)."""
    from engine.models import ARCHITECTURES  # noqa: PLC0415 (imports torch)

    return list(ARCHITECTURES)


def default_data(arch: str) -> str:
    """The data its demo model was trained on (every text arch has one), else PartWorld's."""
    from engine.demo import DEMO_RECIPES  # noqa: PLC0415

    recipes = {recipe_arch: data for recipe_arch, data, _ in DEMO_RECIPES.values()}
    return recipes.get(arch, "demo:partworld?n=1500&seed=0")


def default_out(session: Session, arch: str) -> Path:
    """A fresh folder for the model inside the session: `models/<time>-<arch>-<hex>`."""
    return session.folder / "models" / new_id(arch)


def check_new_folder(out: str) -> None:
    folder = Path(out)
    if not out.strip():
        raise BadInput("no output folder given: training writes the model into a new folder")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BadInput(f"output folder {out} already exists and is not empty; train into a new folder")


def execute_training(request: TrainRequest, progress: Progress) -> TrainedModel:
    """Train as the request says; BadInput for bad settings, arch, data or folder."""
    from engine.models.training import TrainConfig, train  # noqa: PLC0415 (imports torch)

    config = settings.from_strings(TrainConfig, request.settings)
    check_new_folder(request.out)
    description = train(request.arch, request.data, request.out, config, progress)
    record = description["training"]
    return TrainedModel(request.model_spec, record["val_accuracy"], record["seconds"])
