"""Probabilistic context normalization: the context transfer T moves the known region's statistics into the
hole, β mixes, and known features pass through untouched."""

from __future__ import annotations

import pytest
import torch

from inpaint_studio.networks.layers.pcn import PCN, context_transfer, masked_mean_std


def _hole(h: int = 8, w: int = 8) -> torch.Tensor:
    hole = torch.zeros(1, 1, h, w)
    hole[..., 2:6, 3:7] = 1.0  # 16 hole pixels, 48 known
    return hole


def _force_beta(pcn: PCN, value: float) -> None:
    """Make the SE gate output `value` for every channel (0 or 1, via a saturated sigmoid)."""
    with torch.no_grad():
        pcn.sqex.linear2.weight.zero_()
        pcn.sqex.linear2.bias.fill_(40.0 if value > 0.5 else -40.0)


def test_context_transfer_gives_the_hole_the_known_mean_and_std():
    torch.manual_seed(0)
    hole = _hole()
    a, s = 0.7, 0.25
    # Known region: +s / −s alternating → mean a, (population) std s exactly.
    signs = torch.tensor([1.0, -1.0]).repeat(32).view(1, 1, 8, 8)
    x = (a + s * signs).repeat(1, 2, 1, 1)
    x = torch.where(hole.bool(), torch.randn(1, 2, 8, 8) * 3.0 - 5.0, x)
    t = context_transfer(x, hole)
    in_hole = t[:, :, hole[0, 0].bool()]
    assert torch.allclose(in_hole.mean(dim=-1), torch.full((1, 2), a), atol=1e-4)
    assert torch.allclose(in_hole.std(dim=-1, unbiased=False), torch.full((1, 2), s), atol=1e-3)


def test_constant_known_region_fills_the_hole_with_that_constant_when_beta_is_one():
    hole = _hole()
    x = torch.full((1, 4, 8, 8), 2.5)
    x = torch.where(hole.bool(), torch.linspace(-3, 3, 64).view(1, 1, 8, 8).expand(1, 4, 8, 8), x)
    pcn = PCN(4, reduction=2)
    _force_beta(pcn, 1.0)
    out = pcn(x, hole)
    assert torch.allclose(out[:, :, hole[0, 0].bool()], torch.tensor(2.5), atol=1e-2)
    known = ~hole[0, 0].bool()
    assert torch.equal(out[:, :, known], x[:, :, known])


def test_beta_zero_returns_the_input_and_known_pixels_always_pass_through():
    torch.manual_seed(1)
    hole = _hole()
    x = torch.randn(2, 16, 8, 8)
    pcn = PCN(16)
    _force_beta(pcn, 0.0)
    assert torch.allclose(pcn(x, hole), x, atol=1e-6)
    fresh = PCN(16)  # random β: only hole pixels may change
    out = fresh(x, hole)
    known = ~hole[0, 0].bool()
    assert torch.equal(out[:, :, known], x[:, :, known])
    assert not torch.allclose(out[:, :, hole[0, 0].bool()], x[:, :, hole[0, 0].bool()])


def test_soft_hole_statistics_match_their_definition():
    torch.manual_seed(3)
    x = torch.randn(2, 5, 9, 11) * 2 + 1
    hole = torch.rand(2, 1, 9, 11)
    for w in (hole, 1 - hole):
        total = w.sum(dim=(2, 3), keepdim=True)
        mean = (w * x).sum(dim=(2, 3), keepdim=True) / (total + 1e-5)
        var = (w * (x - mean) ** 2).sum(dim=(2, 3), keepdim=True) / (total + 1e-5)
        got_mean, got_std = masked_mean_std(x, w)
        assert torch.allclose(got_mean, mean, atol=1e-5) and torch.allclose(got_std, torch.sqrt(var + 1e-5), atol=1e-5)
    hm, hs = masked_mean_std(x, hole)
    km, ks = masked_mean_std(x, 1 - hole)
    assert torch.allclose(context_transfer(x, hole), (x - hm) / hs * ks + km, atol=1e-4)


def test_statistics_are_per_sample():
    hole = _hole().expand(2, 1, 8, 8)
    x = torch.stack([torch.full((3, 8, 8), 1.0), torch.full((3, 8, 8), -4.0)])
    x = torch.where(hole.bool(), torch.zeros_like(x), x)
    mean, std = masked_mean_std(x, 1 - hole)
    assert torch.allclose(mean.flatten(), torch.tensor([1.0] * 3 + [-4.0] * 3), atol=1e-4)
    assert (std < 0.01).all()


def test_reproduction_mode_matches_the_formula_computed_by_hand():
    """The reproduction's PCN: β = X·sigmoid(SE(X)); statistics weighted by H over the batch's hole area."""
    torch.manual_seed(2)
    hole = _hole()
    x = torch.randn(1, 2, 8, 8)
    pcn = PCN(2, reduction=2, mode="reproduction")
    with torch.no_grad():  # SE gate = sigmoid(0) = 0.5 everywhere
        for lin in (pcn.sqex.linear1, pcn.sqex.linear2):
            lin.weight.zero_()
            lin.bias.zero_()
    out = pcn(x, hole)

    eps, m = 1e-5, hole
    area = m.sum()
    p = x * m
    p_mean = p.sum(dim=(2, 3), keepdim=True) / (area + eps)
    p_std = torch.sqrt(((p - p_mean) ** 2).sum(dim=(2, 3), keepdim=True) / (area + eps) + eps)
    # Known-region statistics weighted by H vanish for a binary H: mean 0, std sqrt(eps).
    t = (p - p_mean) / p_std * torch.sqrt(torch.tensor(eps))
    beta = 0.5 * x
    expected = beta * t * m + (1 - beta) * x * m + x * (1 - m)
    assert torch.allclose(out, expected, atol=1e-6)


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        PCN(8, mode="bogus")  # type: ignore[arg-type]
