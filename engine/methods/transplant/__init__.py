"""Network transplanting: a new category's module joined to a generic task module through an
adapter learnt by distillation, without labels (spec: concepts-bias-trees §6)."""
from engine.methods.base import Method
from engine.methods.transplant.api import compute
from engine.methods.transplant.config import TransplantConfig
from engine.methods.transplant.result import KIND, TransplantResult

METHOD = Method("transplant", KIND, "transplant a new category's module into a generic task module (foreground "
                "segmentation over --model's stem) through an adapter learnt without labels, by distilling the "
                "category's teacher (outputs and back-propagated gradients); against the adapter fine-tuned "
                "from 0, 10 and 100 labelled images", TransplantConfig, TransplantResult, compute)
