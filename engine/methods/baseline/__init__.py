"""Captum baselines (saliency, Integrated Gradients, Grad-CAM, occlusion) on our inputs."""
from engine.methods.base import Method
from engine.methods.baseline.api import compute
from engine.methods.baseline.config import BaselineConfig
from engine.methods.baseline.result import KIND, BaselineResult

METHOD = Method("baseline", KIND, "Captum attributions: saliency, IG, Grad-CAM, occlusion",
                BaselineConfig, BaselineResult, compute)
