"""Training losses of the recipes. Tensors are NCHW floats; masks are N×1×H×W with 1 = hole.

Discriminator outputs are raw scores (logits); the non-saturating loss applies the sigmoid itself
(`softplus` form) so it stays stable under AMP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

# --- reconstruction ------------------------------------------------------------------------------


def l1_loss(
    pred: Tensor, target: Tensor, mask: Tensor | None = None, hole_weight: float = 1.0, valid_weight: float = 1.0
) -> Tensor:
    """Mean absolute error, each pixel weighted by `hole_weight` inside the hole, `valid_weight` outside."""
    diff = (pred - target).abs()
    if mask is None:
        return diff.mean()
    weight = hole_weight * mask + valid_weight * (1.0 - mask)
    return (diff * weight).mean()


def spatial_discount(mask: Tensor, gamma: float = 0.9, max_steps: int = 128) -> Tensor:
    """DeepFill v1's spatial discounting weights: γ^d inside the hole, d = how far (in chessboard steps) a
    hole pixel lies from the hole's border (0 on the border row), 0 outside. Hole pixels far from any known
    pixel are ambiguous, so their reconstruction counts less. The paper's formula is for a box hole
    (max(γ^min(i, h−i), γ^min(j, w−j))); counting 3×3 erosions gives its symmetric form for a box
    (γ^min(i, h−1−i, j, w−1−j)) and extends it to free-form holes. Beyond `max_steps` the weight stays γ^max_steps (negligible)."""
    hole = (mask > 0.5).to(mask.dtype)
    depth = torch.zeros_like(hole)
    inner = hole
    for _ in range(max_steps):
        # erode: a pixel stays when its 3×3 neighbourhood is all hole (outside the image counts as hole)
        inner = -F.max_pool2d(-F.pad(inner, (1, 1, 1, 1), value=1.0), 3, 1)
        if not bool(inner.any()):
            break
        depth = depth + inner
    return torch.pow(gamma, depth) * hole


def spatially_discounted_l1(pred: Tensor, target: Tensor, mask: Tensor, gamma: float = 0.9) -> Tensor:
    """|pred − target| weighted by `spatial_discount`, averaged over the hole pixels (and channels)."""
    weight = spatial_discount(mask, gamma).detach()
    area = mask.sum().clamp_min(1.0) * pred.shape[1]
    return ((pred - target).abs() * weight).sum() / area


def known_region_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """DeepFill v1's auto-encoder term: L1 over the known pixels, divided by their fraction."""
    valid = 1.0 - mask
    return ((pred - target).abs() * valid).mean() / valid.mean().clamp_min(1e-8)


def mask_normalised_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """EdgeConnect's L1: the plain mean divided by the hole fraction, so small holes are not drowned out."""
    return (pred - target).abs().mean() / mask.mean().clamp_min(1e-8)


def tv_loss(x: Tensor) -> Tensor:
    """Anisotropic total variation: mean absolute difference between horizontal and vertical neighbours."""
    return (x[..., :, 1:] - x[..., :, :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


# --- adversarial ---------------------------------------------------------------------------------


def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """SN-PatchGAN discriminator: E[relu(1 − D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


def nonsaturating_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """BCE on logits: −log σ(D(x)) − log(1 − σ(D(G(z)))), written with softplus."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def nonsaturating_g_loss(fake: Tensor) -> Tensor:
    """−log σ(D(G(z))): the generator maximises the log-probability of being judged real."""
    return F.softplus(-fake).mean()


def wgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


def wgan_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, mask: Tensor | None = None
) -> Tensor:
    """WGAN-GP: E[(‖∇D(x̂)‖₂ − 1)²] at random interpolates x̂. With `mask`, the gradient is taken only over
    the hole (DeepFill v1 / VCNet's mask-weighted penalty)."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(mixed)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    if mask is not None:
        grad = grad * mask
    norm = grad.flatten(1).norm(2, dim=1)
    return ((norm - 1.0) ** 2).mean()


def feature_matching_loss(real_features: Sequence[Tensor], fake_features: Sequence[Tensor]) -> Tensor:
    """Sum over discriminator layers of the L1 distance between fake and (fixed) real activations."""
    return sum(
        (F.l1_loss(f, r.detach()) for r, f in zip(real_features, fake_features, strict=True)),
        start=real_features[0].new_zeros(()),
    )


# --- VGG-feature losses --------------------------------------------------------------------------


def perceptual_loss(
    pred_features: Sequence[Tensor], target_features: Sequence[Tensor], weights: Sequence[float] | None = None
) -> Tensor:
    """Weighted sum of per-layer L1 distances between feature maps."""
    weights = weights if weights is not None else [1.0] * len(pred_features)
    total = pred_features[0].new_zeros(())
    for w, p, t in zip(weights, pred_features, target_features, strict=True):
        total = total + w * F.l1_loss(p, t.detach())
    return total


def gram_matrix(x: Tensor) -> Tensor:
    """C×C feature correlations normalised by C·H·W (EdgeConnect's convention)."""
    n, c, h, w = x.shape
    f = x.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_loss(pred_features: Sequence[Tensor], target_features: Sequence[Tensor]) -> Tensor:
    total = pred_features[0].new_zeros(())
    for p, t in zip(pred_features, target_features, strict=True):
        total = total + F.l1_loss(gram_matrix(p), gram_matrix(t.detach()))
    return total


def id_mrf_loss(
    pred_features: Sequence[Tensor],
    target_features: Sequence[Tensor],
    weights: Sequence[float] | None = None,
    bandwidth: float = 0.5,
    eps: float = 1e-5,
) -> Tensor:
    """Implicit-diversity MRF loss (Wang et al. 2018) on 1×1 feature patches.

    For every target patch the most similar generated patch is found through a relative, contextual
    similarity: cosine distances are divided by each generated patch's nearest distance, turned into
    affinities exp((1 − d̃)/h) and normalised over the targets. The loss is −log of the mean best match;
    it is 0 when every target feature is reproduced exactly and grows as textures go missing."""
    weights = weights if weights is not None else [1.0] * len(pred_features)
    total = pred_features[0].new_zeros(())
    for w, p, t in zip(weights, pred_features, target_features, strict=True):
        total = total + w * _mrf_layer(p.float(), t.detach().float(), bandwidth, eps)
    return total


def _mrf_layer(pred: Tensor, target: Tensor, bandwidth: float, eps: float) -> Tensor:
    n, c = pred.shape[:2]
    mean = target.mean(dim=(0, 2, 3), keepdim=True)
    p = F.normalize((pred - mean).reshape(n, c, -1), dim=1)  # N×C×P
    t = F.normalize((target - mean).reshape(n, c, -1), dim=1)  # N×C×T
    cosine = p.transpose(1, 2) @ t  # N×P×T
    dist = (1.0 - cosine) / 2.0
    relative = dist / (dist.min(dim=2, keepdim=True).values + eps)
    affinity = torch.exp((1.0 - relative) / bandwidth)
    contextual = affinity / affinity.sum(dim=2, keepdim=True)
    best = contextual.max(dim=1).values.mean(dim=1)  # per image: mean over targets of their best match
    return -torch.log(best + eps).mean()


# --- mask prediction ---------------------------------------------------------------------------


def tau_weighted_bce(probability: Tensor, target: Tensor, eps: float = 1e-6, tau_max: float = 1.0) -> Tensor:
    """VCNet's mask loss: −[τ·M·log M̂ + (1 − τ)·(1 − M)·log(1 − M̂)], averaged over pixels, with
    τ = fraction of clean pixels of each image, so the (rarer) hole class weighs more.

    `tau_max` < 1 caps τ (the paper: no cap). Uncapped, a photo with 1 % scratch pixels weighs a missed hole
    pixel 99× a false alarm — any pixel with a 1 % chance of being damage is best called damage — and a clean
    photo (empty mask, τ = 1) teaches nothing at all: its loss is identically zero."""
    tau = 1.0 - target.flatten(1).mean(dim=1).view(-1, *([1] * (target.dim() - 1)))
    tau = tau.clamp(max=tau_max)
    p = probability.clamp(eps, 1.0 - eps)
    loss = -(tau * target * torch.log(p) + (1.0 - tau) * (1.0 - target) * torch.log(1.0 - p))
    return loss.mean()


def soft_dice(probability: Tensor, target: Tensor, smooth: float = 1.0) -> Tensor:
    """1 − soft Dice per image, averaged: 1 − (2·Σ M̂M + s) / (Σ M̂ + Σ M + s). Scored against the damage's
    own size, so a false alarm the size of an object costs a thin-scratch photo as much as missing the scratch
    (pixel-averaged cross-entropy barely notices either); `smooth` keeps an empty mask defined."""
    p, m = probability.flatten(1), target.flatten(1)
    return (1.0 - (2.0 * (p * m).sum(1) + smooth) / (p.sum(1) + m.sum(1) + smooth)).mean()
