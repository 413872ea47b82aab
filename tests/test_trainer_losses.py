"""Each training loss on cases small enough to compute by hand."""

from __future__ import annotations

import math

import pytest
import torch

from trainer import losses


def t(values, shape=None):
    x = torch.tensor(values, dtype=torch.float32)
    return x.view(shape) if shape else x


def test_l1_weights_hole_and_valid_pixels_separately():
    pred = t([1.0, 1.0, 1.0, 1.0], (1, 1, 2, 2))
    target = t([0.0, 0.0, 0.0, 3.0], (1, 1, 2, 2))  # |d| = 1, 1, 1, 2
    mask = t([1.0, 0.0, 0.0, 1.0], (1, 1, 2, 2))  # holes at |d| = 1 and 2
    assert losses.l1_loss(pred, target).item() == pytest.approx(5 / 4)
    # hole weight 6, valid weight 1: (6·1 + 1 + 1 + 6·2) / 4
    assert losses.l1_loss(pred, target, mask, hole_weight=6, valid_weight=1).item() == pytest.approx(20 / 4)


def test_mask_normalised_l1_divides_by_hole_fraction():
    pred, target = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    mask = t([1.0, 0.0, 0.0, 0.0], (1, 1, 2, 2))
    assert losses.mask_normalised_l1(pred, target, mask).item() == pytest.approx(1.0 / 0.25)


def test_tv_of_a_step_edge():
    x = t([0.0, 1.0, 0.0, 1.0], (1, 1, 2, 2))  # two rows [0 1]: horizontal diffs 1, vertical 0
    assert losses.tv_loss(x).item() == pytest.approx(1.0)
    assert losses.tv_loss(torch.full((1, 1, 3, 3), 0.7)).item() == 0.0


def test_hinge_losses():
    real, fake = t([2.0, 0.5]), t([-2.0, 0.0])
    # relu(1-2)=0, relu(1-0.5)=0.5 → 0.25; relu(1-2)=0, relu(1+0)=1 → 0.5
    assert losses.hinge_d_loss(real, fake).item() == pytest.approx(0.75)
    assert losses.hinge_g_loss(fake).item() == pytest.approx(1.0)


def test_nonsaturating_losses_match_bce_on_logits():
    real, fake = t([0.0, 2.0]), t([0.0, -1.0])
    d = -(math.log(0.5) + math.log(1 / (1 + math.exp(-2)))) / 2 - (math.log(0.5) + math.log(1 - 1 / (1 + math.exp(1)))) / 2
    assert losses.nonsaturating_d_loss(real, fake).item() == pytest.approx(d, rel=1e-5)
    assert losses.nonsaturating_g_loss(t([0.0])).item() == pytest.approx(math.log(2), rel=1e-6)


def test_wgan_losses():
    assert losses.wgan_d_loss(t([3.0, 1.0]), t([0.0, 1.0])).item() == pytest.approx(0.5 - 2.0)
    assert losses.wgan_g_loss(t([0.0, 1.0])).item() == pytest.approx(-0.5)


def test_gradient_penalty_of_linear_critics():
    real, fake = torch.rand(4, 1, 2, 2), torch.rand(4, 1, 2, 2)
    # D(x) = Σ w·x with ‖w‖ = 1 has gradient norm exactly 1 everywhere → penalty 0
    w = torch.tensor([0.5, 0.5, 0.5, 0.5]).view(1, 1, 2, 2)
    assert losses.gradient_penalty(lambda x: (x * w).flatten(1).sum(1), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    # ‖w‖ = 3 → (3 − 1)² = 4
    assert losses.gradient_penalty(lambda x: (x * 3 * w).flatten(1).sum(1), real, fake).item() == pytest.approx(4.0)
    # the mask restricts the gradient to one pixel: ‖(1.5,0,0,0)‖ = 1.5 → 0.25
    mask = torch.zeros(4, 1, 2, 2)
    mask[..., 0, 0] = 1
    assert losses.gradient_penalty(lambda x: (x * 3 * w).flatten(1).sum(1), real, fake, mask).item() == pytest.approx(0.25)


def test_feature_matching_sums_layer_l1():
    real = [torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]
    fake = [torch.full((1, 2, 2, 2), 0.5), torch.full((1, 1, 1, 1), 2.0)]
    assert losses.feature_matching_loss(real, fake).item() == pytest.approx(2.5)


def test_perceptual_loss_weights_layers():
    a = [torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 1, 1)]
    b = [torch.ones(1, 1, 2, 2), torch.full((1, 1, 1, 1), 3.0)]
    assert losses.perceptual_loss(a, b, [2.0, 0.5]).item() == pytest.approx(2.0 * 1 + 0.5 * 3)


def test_gram_and_style_loss():
    # one image, C=2, H·W=2: f = [[1, 1], [0, 2]] → f fᵀ = [[2, 2], [2, 4]], / (C·H·W = 4)
    x = t([1.0, 1.0, 0.0, 2.0], (1, 2, 1, 2))
    assert torch.allclose(losses.gram_matrix(x), t([0.5, 0.5, 0.5, 1.0], (1, 2, 2)))
    assert losses.style_loss([x], [x]).item() == 0.0
    assert losses.style_loss([x], [torch.zeros_like(x)]).item() == pytest.approx((0.5 + 0.5 + 0.5 + 1.0) / 4)


def test_id_mrf_is_zero_for_identical_features_and_grows_with_mismatch():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(1, 8, 4, 4, generator=g)
    assert losses.id_mrf_loss([target], [target]).item() == pytest.approx(0.0, abs=1e-3)
    # every generated patch the same vector: one target matched, the others poorly → clearly positive
    collapsed = target[:, :, :1, :1].expand_as(target).contiguous()
    assert losses.id_mrf_loss([collapsed], [target]).item() > 1.0
    # a permutation of the same patches reproduces every target: still (near) zero — MRF ignores position
    shuffled = target.flatten(2)[:, :, torch.randperm(16, generator=g)].view_as(target)
    assert losses.id_mrf_loss([shuffled], [target]).item() == pytest.approx(0.0, abs=1e-3)


def test_tau_weighted_bce_by_hand():
    # 4 pixels, one hole → τ = 3/4 (fraction clean). p = 0.5 everywhere:
    # hole term τ·log 2 once, clean term (1 − τ)·log 2 three times, averaged over 4.
    target = t([1.0, 0.0, 0.0, 0.0], (1, 1, 2, 2))
    p = torch.full((1, 1, 2, 2), 0.5)
    expected = (0.75 * math.log(2) + 3 * 0.25 * math.log(2)) / 4
    assert losses.tau_weighted_bce(p, target).item() == pytest.approx(expected, rel=1e-6)
    # a perfect prediction costs (almost) nothing; predicting the opposite costs a lot
    assert losses.tau_weighted_bce(target, target).item() < 1e-4
    assert losses.tau_weighted_bce(1 - target, target).item() > 3.0


def test_capped_tau_lets_clean_photos_and_sparse_masks_teach_false_alarms():
    clean = torch.zeros(1, 1, 16, 16)
    alarm = torch.full((1, 1, 16, 16), 0.9)
    # The paper's τ: a clean photo's loss is identically zero, whatever the network says.
    assert losses.tau_weighted_bce(alarm, clean).item() == 0.0
    capped = losses.tau_weighted_bce(alarm, clean, tau_max=0.9).item()
    assert capped == pytest.approx(0.1 * -math.log(0.1), rel=1e-5)
    # A 1-px line on 16×16: τ = 15/16 uncapped, 0.9 capped — a false alarm weighs (1 − τ) = 1/16 → 0.1.
    line = torch.zeros(1, 1, 16, 16)
    line[..., 8] = 1.0
    on_line_only = line.clone().clamp(0.01, 0.99)
    everywhere = torch.full_like(line, 0.99)
    extra = [losses.tau_weighted_bce(everywhere, line, tau_max=t) - losses.tau_weighted_bce(on_line_only, line, tau_max=t)
             for t in (1.0, 0.9)]
    assert extra[1] > extra[0] * 1.5


def test_soft_dice_scores_against_the_damage_size():
    line = torch.zeros(2, 1, 32, 32)
    line[..., 10] = 1.0
    assert losses.soft_dice(line, line).item() < 1e-6
    assert losses.soft_dice(1 - line, line).item() > 0.99
    # The same 32-px line found, plus a false-alarm blob: the bigger the blob, the closer to a total miss.
    small, big = line.clone(), line.clone()
    small[..., 0:4, 20:24] = 1.0
    big[..., 0:16, 16:32] = 1.0
    assert 0.1 < losses.soft_dice(small, line).item() < 0.25 < 0.7 < losses.soft_dice(big, line).item()
    # an empty mask: any alarm costs, silence costs nothing
    empty = torch.zeros(1, 1, 8, 8)
    assert losses.soft_dice(empty, empty).item() == 0.0 and losses.soft_dice(empty + 0.5, empty).item() > 0.9


def test_spatial_discount_is_the_papers_box_formula_and_extends_to_free_form():
    mask = torch.zeros(1, 1, 12, 14)
    mask[..., 2:9, 3:12] = 1  # a 7×9 box hole
    weight = losses.spatial_discount(mask, gamma=0.9)
    h, w = 7, 9
    box = t([[max(0.9 ** min(i, h - 1 - i), 0.9 ** min(j, w - 1 - j)) for j in range(w)] for i in range(h)])
    torch.testing.assert_close(weight[0, 0, 2:9, 3:12], box)
    assert weight[mask == 0].abs().max() == 0  # nothing outside the hole
    # Free-form: an L-shaped hole's pixels are discounted by their distance to the nearest known pixel.
    ell = torch.zeros(1, 1, 9, 9)
    ell[..., 1:8, 1:4] = 1
    ell[..., 5:8, 1:8] = 1
    d = losses.spatial_discount(ell, gamma=0.5)
    assert d[0, 0, 1, 2] == 1.0 and d[0, 0, 2, 2] == 0.5 and d[0, 0, 6, 2] == 0.5 and d[0, 0, 6, 6] == 0.5


def test_spatially_discounted_l1_and_known_region_l1():
    pred, target = torch.ones(1, 3, 6, 6), torch.zeros(1, 3, 6, 6)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., 1:5, 1:5] = 1  # 4×4 hole: 12 border pixels (weight 1) and 4 inner ones (weight γ)
    expected = (12 * 1.0 + 4 * 0.9) / 16
    assert losses.spatially_discounted_l1(pred, target, mask, 0.9).item() == pytest.approx(expected)
    pred2 = torch.where(mask.bool().expand(1, 3, 6, 6), torch.zeros(1, 3, 6, 6), torch.full((1, 3, 6, 6), 2.0))
    assert losses.spatially_discounted_l1(pred2, target, mask).item() == 0.0
    assert losses.known_region_l1(pred2, target, mask).item() == pytest.approx(2.0)  # mean over known pixels
