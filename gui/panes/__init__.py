"""One module a view; the registry says which pane shows which result kind."""
from gui.panes.activation_maps import ActivationMapsPane
from gui.panes.concept_bars import ConceptBarsPane
from gui.panes.consistency import ConsistencyPane
from gui.panes.decision_tree import DecisionTreePane
from gui.panes.dataset_bias import DatasetBiasPane
from gui.panes.entropy_heatmaps import EntropyHeatmapsPane
from gui.panes.figure_view import FigurePane
from gui.panes.graph_browser import GraphBrowserPane
from gui.panes.part_metrics import PartMetricsPane
from gui.panes.point_cloud import PointCloudPane
from gui.panes.training_dashboard import TrainingDashboardPane
from gui.panes.transplant import TransplantPane

PANES = {"activation_maps": ActivationMapsPane, "entropy_heatmaps": EntropyHeatmapsPane,
         "graph_browser": GraphBrowserPane, "training_dashboard": TrainingDashboardPane,
         "part_metrics": PartMetricsPane, "consistency": ConsistencyPane,
         "point_cloud": PointCloudPane, "concept_bars": ConceptBarsPane, "decision_tree": DecisionTreePane,
         "dataset_bias": DatasetBiasPane, "transplant": TransplantPane,
         "figure": FigurePane}


def pane_for_kind(kind: str) -> str:
    """The name of the pane that shows results of `kind` (the figure view as fallback)."""
    for name, pane in PANES.items():
        if kind in pane.kinds:
            return name
    return "figure"
