"""Dataset-bias diagnosis of a multi-attribute CNN (spec: concepts-bias-trees §5)."""
from engine.methods.base import Method
from engine.methods.dataset_bias.api import compute
from engine.methods.dataset_bias.config import DatasetBiasConfig
from engine.methods.dataset_bias.result import KIND, DatasetBiasResult

METHOD = Method("dataset-bias", KIND, "which attributes the model infers from the same features "
                "(shared contribution maps at the top conv layer), ranked against the relations people "
                "state, with a paste/mask check of the top pair (needs PartWorld faces)",
                DatasetBiasConfig, DatasetBiasResult, compute)
