"""Attribution baselines from Captum: saliency, Integrated Gradients, Grad-CAM, occlusion.

Never rewritten here: this module only adapts Captum's classes to DeepScope's inputs
(images in [0,1], a `LoadedModel`) and reduces every map to one value a pixel.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # captum.attr imports pyplot (ENVIRONMENT.md rule 5)

import torch  # noqa: E402
from captum.attr import (IntegratedGradients, LayerAttribution, LayerGradCam,  # noqa: E402
                         Occlusion, Saliency)
from torch import nn  # noqa: E402

BASELINES = ("saliency", "integrated_gradients", "grad_cam", "occlusion")


class OnImages(nn.Module):
    """The model as a function of images in [0,1], so a black image is the IG baseline."""

    def __init__(self, loaded) -> None:
        super().__init__()
        self.loaded = loaded
        self.module = loaded.module

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.module(self.loaded.prepare(images))


def attribute(name: str, net: OnImages, images: torch.Tensor, target: torch.Tensor,
              layer: nn.Module, settings) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(B,H,W) attribution of `target` for each image, and IG's convergence delta (else None)."""
    if name == "saliency":
        grads = Saliency(net).attribute(images.clone().requires_grad_(), target=target, abs=True)
        return grads.amax(1), None  # Captum's own visualisation takes the channel maximum
    if name == "integrated_gradients":
        attr, delta = IntegratedGradients(net).attribute(
            images, baselines=torch.zeros_like(images), target=target, n_steps=settings.ig_steps,
            internal_batch_size=settings.internal_batch_size, return_convergence_delta=True)
        return attr.sum(1), delta
    if name == "grad_cam":
        cam = LayerGradCam(net, layer).attribute(images, target=target, relu_attributions=True)
        return LayerAttribution.interpolate(cam, images.shape[2:], "bilinear")[:, 0], None
    if name == "occlusion":
        w, s = settings.occlusion_window, settings.occlusion_stride
        attr = Occlusion(net).attribute(images, target=target, sliding_window_shapes=(3, w, w),
                                        strides=(3, s, s), baselines=0.0,
                                        perturbations_per_eval=settings.internal_batch_size)
        return attr.mean(1), None  # each channel carries its window's whole effect: sum triples it
    raise ValueError(f"unknown baseline {name!r}")
