"""A mined graph read back from its result folder, checked against the model it is used with.

graph-inference and part-localization (spec: explanatory-graph §1.6, §1.7) run the saved
graph on new images: the same σ_unit, the same nodes and edges, inference top-down.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from engine.errors import BadInput
from engine.layers import layer_names
from engine.methods.explanatory_graph._em import infer_graph
from engine.methods.explanatory_graph.api import prepare_features
from engine.methods.explanatory_graph.result import KIND, graph_layers
from engine.results import ResultRecord, load_result
from engine.settings import from_dict


@dataclass
class SavedGraph:
    record: ResultRecord
    layers: list        # bottom to top
    graph: dict         # layer → GraphLayer
    config: object      # the ExplanatoryGraphConfig it was mined with


def open_graph(folder: str, model) -> SavedGraph:
    """The graph in `folder`; BadInput if it is none, or was mined on other maps than `model` gives."""
    from engine.methods.explanatory_graph.config import ExplanatoryGraphConfig  # noqa: PLC0415

    if not folder:
        raise BadInput("no graph given: --set graph=RESULT_DIR of an explanatory-graph run")
    record = load_result(folder)
    if record.kind != KIND:
        raise BadInput(f"{folder} holds a {record.kind} result, not an explanatory graph")
    graph = graph_layers(record)
    missing = [layer for layer in graph if layer not in dict(model.module.named_modules())]
    if missing:
        raise BadInput(f"the graph in {folder} was mined on layers {', '.join(missing)}, which "
                       f"{model.spec} lacks (its layers: {', '.join(layer_names(model.module)[:12])})")
    return SavedGraph(record, list(record.meta["layers"]), graph,
                      from_dict(ExplanatoryGraphConfig, record.config))


def infer_saved(saved: SavedGraph, model, images, batch_size: int, progress):
    """(records, features) of the saved graph on `images`, σ_unit and flips as at mining."""
    config = replace(saved.config, batch_size=batch_size)
    sigma = {layer: node.unit_std for layer, node in saved.graph.items()}
    f = prepare_features(model, images, saved.layers, config, progress.child(0.0, 0.5), sigma)
    records = infer_graph(saved.graph, f.stores, saved.layers, config, progress.child(0.5, 1.0), model.device,
                          f.mirrored, f.width)
    return records, f

