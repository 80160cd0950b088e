"""The shipped demo models: check them, and train one only when its weights are missing."""
from __future__ import annotations

from engine.jobs import Progress
from engine.models import DEMO_MODELS, load_model
from engine.models.training import TrainConfig, train

# name → (architecture, training data spec); resources/README.md gives the same commands
DEMO_RECIPES = {"partworld-cnn": ("partworld-cnn", "demo:partworld?n=3000&seed=0")}


def ensure_demo_models(progress: Progress, retrain: bool = False,
                       config: TrainConfig | None = None) -> dict[str, str]:
    """name → "ok" or "trained"; a damaged shipped file is reported, not silently replaced."""
    report = {}
    for name, (arch, data_spec) in DEMO_RECIPES.items():
        folder = DEMO_MODELS[name]
        if retrain or not (folder / "weights.safetensors").is_file():
            train(arch, data_spec, str(folder), config or TrainConfig(), progress)
            report[name] = "trained"
        load_model(f"demo:{name}")  # raises BadInput naming what is wrong
        report.setdefault(name, "ok")
    return report
