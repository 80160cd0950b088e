"""The math of interpretable filters (private to `engine.models.interpretable`).

spec: interpretable-cnn §2.3-2.5. Templates and masks, the part position μ̂, the exact
−MI objective of the paper with its practical gradient (Eq. 4), and the surrogate loss
whose autograd gradient is the gradient the released code injects (§2.5 step 4).
Maps are (B, C, H, W) post-ReLU tensors; per-filter quantities are (B, C) or (C,).

Two β conventions, each as its source states it:
- the paper's template (§2.3): τ·max(1 − β‖[i,j] − μ‖₁ / n, −1), β = 4, in map cells / n;
- the code's mask (§2.3 "Code differences"): max(1 − β_f (|Δh| + |Δw|), −1) on a grid
  normalised to [−1, 1], with a per-filter β_f. The two agree for β_f = β·(n − 1)/(2n).
"""
from __future__ import annotations

import math

import torch

MU_MODES = ("argmax", "centroid")


def filter_beta_from_paper(beta: float, n: int) -> float:
    """The code's β_f (normalised grid) giving the paper's template of β on an n×n map."""
    return beta * (n - 1) / (2 * n)


def _axis(size: int, like: torch.Tensor) -> torch.Tensor:
    return torch.linspace(-1.0, 1.0, size, dtype=like.dtype, device=like.device)


def diamond_masks(rows: torch.Tensor, cols: torch.Tensor, beta: torch.Tensor,
                  size: tuple[int, int], floor: float = -1.0) -> torch.Tensor:
    """Masks max(1 − β_c·‖u − μ̂‖₁, floor) on the [−1, 1] grid: 1 at μ̂, an L1 diamond,
    zero at normalised distance 1/β_c (spec §2.3, code form). rows/cols (B, C) → (B, C, H, W).

    floor −1 is the training mask, 0 the visualisation one (spec §2.11 "Masks")."""
    ys, xs = _axis(size[0], beta), _axis(size[1], beta)
    dy = (ys[None, None, :, None] - ys[rows][..., None, None]).abs()
    dx = (xs[None, None, None, :] - xs[cols][..., None, None]).abs()
    return (1.0 - beta.view(1, -1, 1, 1) * (dy + dx)).clamp(min=floor)


def paper_templates(n: int, beta: float = 4.0, tau: float | None = None) -> torch.Tensor:
    """The n² positive templates T_μ of spec §2.3, μ in row-major order: (n², n, n), float64.

    t⁺_ij = τ·max(1 − β‖[i,j] − μ‖₁ / n, −1), default τ = 0.5/n²."""
    tau = 0.5 / n ** 2 if tau is None else tau
    cells = torch.arange(n, dtype=torch.float64)
    d = ((cells[:, None, None, None] - cells[None, None, :, None]).abs()
         + (cells[None, :, None, None] - cells[None, None, None, :]).abs())  # [μr, μc, i, j]
    return (tau * (1.0 - beta * d / n).clamp(min=-1.0)).reshape(n * n, n, n)


def negative_template(n: int, tau: float | None = None) -> torch.Tensor:
    """T⁻ = −τ everywhere (spec §2.3); never used in the forward pass."""
    tau = 0.5 / n ** 2 if tau is None else tau
    return torch.full((n, n), -tau, dtype=torch.float64)


def template_priors(n: int, alpha: float | None = None) -> torch.Tensor:
    """p(T_μ) = α/n² for the n² positives, then p(T⁻) = 1 − α; default α = n²/(1 + n²)."""
    alpha = n ** 2 / (1 + n ** 2) if alpha is None else alpha
    return torch.cat([torch.full((n * n,), alpha / n ** 2, dtype=torch.float64),
                      torch.tensor([1.0 - alpha], dtype=torch.float64)])


def peak_positions(x: torch.Tensor, mode: str = "argmax") -> tuple[torch.Tensor, torch.Tensor]:
    """μ̂ per image and filter as (rows, cols), each (B, C) long.

    "argmax": the paper's μ̂ = argmax x (spec §2.3). "centroid": the code's training
    choice, the activation-weighted centroid rounded to a cell (spec §2.3 code differences)."""
    if mode == "argmax":
        flat = x.flatten(2).argmax(2)
        return flat // x.shape[3], flat % x.shape[3]
    if mode != "centroid":
        raise ValueError(f"unknown μ mode {mode!r}; valid: {', '.join(MU_MODES)}")
    row_c, col_c, _ = _centroids(x)
    return row_c.long(), col_c.long()


def _centroids(x: torch.Tensor):
    """Rounded activation-weighted centroid (cells) and the weight sum floored at 1e-9."""
    total = x.sum((2, 3)).clamp(min=1e-9)  # an all-zero map falls back to cell 0, as the code
    rows = torch.arange(x.shape[2], dtype=x.dtype, device=x.device)
    cols = torch.arange(x.shape[3], dtype=x.dtype, device=x.device)
    row_c = ((x.sum(3) * rows).sum(2) / total).round().clamp(0, x.shape[2] - 1)
    col_c = ((x.sum(2) * cols).sum(2) / total).round().clamp(0, x.shape[3] - 1)
    return row_c, col_c, total


def spatial_spread(x: torch.Tensor) -> torch.Tensor:
    """σ (B, C): activation-weighted spatial std around the rounded centroid, in map cells
    (spec §2.5 step 6; cells, not the normalised grid, as the PyTorch port's getMu)."""
    row_c, col_c, total = _centroids(x)
    rows = torch.arange(x.shape[2], dtype=x.dtype, device=x.device)
    cols = torch.arange(x.shape[3], dtype=x.dtype, device=x.device)
    d2 = ((rows[None, None, :, None] - row_c[..., None, None]) ** 2
          + (cols[None, None, None, :] - col_c[..., None, None]) ** 2)
    return ((d2 * x).sum((2, 3)) / total).sqrt()


# ---- the paper's objective (spec §2.4) --------------------------------------------------

def _log_conditionals(maps: torch.Tensor, templates: torch.Tensor, priors: torch.Tensor):
    """log p(x|T) (N, T) over the N maps of one filter, and log p(x) (N,)."""
    scores = maps.flatten(1) @ templates.flatten(1).T  # tr(x·T) = Σ_ij x_ij t_ij (§2.4, #2)
    log_cond = scores - torch.logsumexp(scores, 0, keepdim=True)  # Z_T sums over the images
    log_px = torch.logsumexp(log_cond + priors.log(), 1)
    return log_cond, log_px


def neg_mutual_information(maps: torch.Tensor, templates: torch.Tensor,
                           priors: torch.Tensor) -> torch.Tensor:
    """Loss_f = −MI(X; T) of spec §2.4 for one filter's N maps (N, n, n), exactly.

    templates (T, n, n) with the negative last, priors (T,). Differentiable in `maps`."""
    log_cond, log_px = _log_conditionals(maps, templates, priors)
    inner = (log_cond.exp() * (log_cond - log_px[:, None])).sum(0)
    return -(priors * inner).sum()


def practical_gradient(maps: torch.Tensor, target: torch.Tensor, templates: torch.Tensor,
                       priors: torch.Tensor) -> torch.Tensor:
    """Eq. 4 of spec §2.4: the gradient kept for the target template T̂ of each map only.

    target (N,) indexes `templates` (T_μ̂ for the filter's category, T⁻ otherwise). The
    spec prints the term without a sign; we take the sign of ∂(−MI)/∂x, so that descent
    raises x under T̂'s positive cells (checked against the exact gradient in the tests):
    −p(T̂)·t̂_ij·e^{tr(x·T̂)}/Z_T̂·{tr(x·T̂) − log Z_T̂ − log p(x)}, Z_T̂ and p(x) exact here."""
    log_cond, log_px = _log_conditionals(maps, templates, priors)
    picked = log_cond.gather(1, target[:, None])[:, 0]  # log p(x|T̂) = tr − log Z_T̂
    weight = priors[target] * picked.exp() * (picked - log_px)
    return -weight[:, None, None] * templates[target]


# ---- the gradient the released code injects (spec §2.5) ---------------------------------

def finite_max(values: torch.Tensor) -> torch.Tensor:
    """±inf → the largest (smallest) finite value, NaN → 0 (spec §2.5 steps 1 and 4)."""
    finite = values[torch.isfinite(values)]
    top = float(finite.max()) if finite.numel() else 1e4  # the port's fallback when none is finite
    bottom = float(finite.min()) if finite.numel() else -top
    return torch.nan_to_num(values, nan=0.0, posinf=top, neginf=bottom)


def flipped_log_z(x: torch.Tensor, mask: torch.Tensor,
                  temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(log Z⁺, log Z⁻) per filter (C,) from one batch, the code's normaliser (§2.5 step 1):

    Z⁺ from masks of another image and another channel (the batch- and channel-flip,
    `zqs1022/interpretableCNN#8`), Z⁻ from −mean x; a·log mean_b exp(·/a). logsumexp keeps
    them finite where the code's exp overflows [ours]; equal where the code's are finite."""
    a, batch = temperature, x.shape[0]
    mismatched = (x * mask.flip(0, 1)).mean((2, 3))
    log_z_pos = a * (torch.logsumexp(mismatched / a, 0) - math.log(batch))
    log_z_neg = a * (torch.logsumexp(-x.mean((2, 3)) / a, 0) - math.log(batch))
    return finite_max(log_z_pos), finite_max(log_z_neg)


def _normalised(g: torch.Tensor, members: torch.Tensor) -> torch.Tensor:
    """g / mean of g over each filter's members (B, C), zero outside them; guarded as §2.5."""
    g = finite_max(torch.where(members, g, torch.zeros_like(g)))
    count = members.sum(0).clamp(min=1)
    mean = g.sum(0) / count
    out = torch.where(members, g / mean, torch.zeros_like(g))
    return finite_max(out)


def injection_strengths(x: torch.Tensor, mask: torch.Tensor, positives: torch.Tensor,
                        log_z: tuple[torch.Tensor, torch.Tensor], temperature: float):
    """(ĝ⁺, ĝ⁻), each (B, C): the normalised per-map factors of spec §2.5 step 4.

    ĝ⁺ = e^{s/a}(s − log Z⁺ + a) on the filter's positives, s = mean(x∘M);
    ĝ⁻ = e^{−s⁻/a}(−s⁻ − log Z⁻ + a) on its negatives, s⁻ = mean x; each divided by its
    mean over the filter's members. Computed without gradient (they are stop-gradients)."""
    a = temperature
    with torch.no_grad():
        s = (x * mask).mean((2, 3))
        s_neg = x.mean((2, 3))
        g_pos = torch.exp(s / a) * (s - log_z[0] + a)
        g_neg = torch.exp(-s_neg / a) * (-s_neg - log_z[1] + a)
        return _normalised(g_pos, positives), _normalised(g_neg, ~positives)


def surrogate_loss(x: torch.Tensor, mask: torch.Tensor, g_pos: torch.Tensor, g_neg: torch.Tensor,
                   w_pos: torch.Tensor, w_neg: torch.Tensor, kappa: float) -> torch.Tensor:
    """L_f = κ[−Σ_P w⁺ sg(ĝ⁺) Σ_u x sg(M) + Σ_N w⁻ sg(ĝ⁻) Σ_u x] (spec §2.5 "Interpretation").

    Its gradient on x is the injection of §2.5 step 4: −κw⁺ĝ⁺M on positives, +κw⁻ĝ⁻ on
    negatives (ĝ is zero off its members). Summed over the batch, as matconvnet does."""
    mask = mask.detach()
    pulled = (x * mask).sum((2, 3)) * g_pos.detach() * w_pos
    pushed = x.sum((2, 3)) * g_neg.detach() * w_neg
    return kappa * (pushed - pulled).sum()


def class_weights(density: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(w⁺, w⁻) per category (K,), spec §2.5 step 3; density ρ_k = fraction of positives."""
    k = density.numel()
    if k == 1:
        return torch.ones_like(density), torch.ones_like(density)
    if k > 10:
        return torch.full_like(density, 0.5 * k), torch.full_like(density, 0.5 / (1 - 1 / k))
    rho = density.clamp(1e-6, 1 - 1e-6)  # [ours] a category absent from the data weighs finitely
    return 0.5 / rho, 0.5 / (1 - rho)


def beta_targets(strength: torch.Tensor, sigma: torch.Tensor, positives: torch.Tensor,
                 bounds: tuple[float, float], scale: float = 3.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(target β (C,), updatable (C,) bool) of spec §2.5 step 6, guarded as §2.11:

    target = clip(scale / (Σ_P s·σ / Σ_P s), bounds). A filter whose weight sum Σ_P s is 0
    (silent, or no positives in the batch: the 0/0 of ada-shen/ICNN#14) is not updated; nor
    is one whose s change sign so that the weighted spread comes out negative [ours]. The
    strengths s = mean(x∘M) are all negative for a diffuse map; their weighted mean of σ
    is still a mean, so such filters update, as in the code. σ̄ = 0 (one hot cell) → bound."""
    s = torch.where(positives, strength, torch.zeros_like(strength))
    weight = s.sum(0)
    usable = weight.abs() > 1e-12
    spread = (s * sigma).sum(0) / torch.where(usable, weight, torch.ones_like(weight))
    target = torch.nan_to_num(scale / spread, nan=bounds[1], posinf=bounds[1], neginf=bounds[0])
    updatable = usable & torch.isfinite(spread) & (spread >= 0)
    return target.clamp(*bounds), updatable
