"""Context Encoder, GLCIC and PGGAN as engine methods on random small networks: only hole pixels change, the
fixed-size ones run on windows of their training size (one per tile, the learned hole always painted), and
without weights each names the commands that import or train them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import ModelUnavailableError
from inpaint_studio.engine.base import create_method, get_spec
from inpaint_studio.engine.manager import ModelManager
from inpaint_studio.engine.methods import context_encoder as ce_method
from inpaint_studio.engine.methods import glcic as gl_method
from inpaint_studio.engine.methods.windowed import plan_tiles
from inpaint_studio.networks import context_encoder as ce
from inpaint_studio.networks import glcic as gl
from inpaint_studio.networks import pggan as pg


def _scene(h: int = 90, w: int = 117) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[10:80, 20:100] = 255  # larger than a 64 px window
    mask[85:88, 2:9] = 255
    return img, mask


def _calls(net: torch.nn.Module) -> list[torch.Tensor]:
    seen: list[torch.Tensor] = []
    net.register_forward_hook(lambda module, args, out: seen.append(args[0].detach().clone()))
    return seen


@pytest.mark.parametrize(("name", "recipe", "published"), [
    ("context_encoder", "context_encoder", "netG_streetview.pth"), ("glcic", "glcic", "model_cn"),
    ("pggan", "pggan", None),
])
def test_without_weights_each_names_the_import_and_train_commands(name, recipe, published):
    method = create_method(name)
    assert not method.is_available()
    info = method.weights_info()
    assert info.startswith("weights missing — import or train")
    assert f"`python -m trainer train {recipe} --preset small`" in info
    assert f"`python -m trainer export RUN_DIR --name {name}-mine`" in info and f"`--model {name}-mine`" in info
    assert (f"`inpaint-studio models import {published}`" in info) == (published is not None)
    with pytest.raises(ModelUnavailableError, match="weights missing — import or train"):
        ModelManager(device="cpu").activate(name, load=True)


def test_context_encoder_fills_a_hole_larger_than_its_window_in_centred_tiles():
    torch.manual_seed(0)
    net = ce.ContextEncoderGenerator(input_size=64, nef=8, ngf=8, bottleneck=32)
    seen = _calls(net)
    method = create_method("context_encoder").from_modules({"generator": net})
    img, mask = _scene()
    out = method.inpaint(img, mask)
    assert np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).mean() > 0.9
    a, b = net.hole_box()
    assert (a, b) == (18, 46)  # 64² window: the centre 32² less a 2 px band
    overlap = round(ce_method.OVERLAP_FRACTION * (b - a))  # tiles grown by this much are at most the hole
    assert len(seen) == len(plan_tiles(mask, b - a - 2 * overlap)[0])
    grey = ce.generator_input(torch.zeros(1, 3, 1, 1), torch.ones(1, 1, 1, 1))[0, :, 0, 0]
    painted_outside = 0
    for x in seen:  # the learned hole is painted in the port's mean colour, every time ...
        assert x.shape == (1, 3, 64, 64)
        assert torch.allclose(x[0, :, a:b, a:b], grey.view(3, 1, 1).expand(3, b - a, b - a))
        is_grey = (x[0] - grey.view(3, 1, 1)).abs().amax(0) < 1e-4
        is_grey[a:b, a:b] = False
        painted_outside += int(is_grey.sum())
    assert painted_outside == 0  # ... and nothing else: the rest of the hole in a window is Telea context


def test_glcic_window_follows_the_training_crop_and_the_option():
    torch.manual_seed(0)
    net = gl.CompletionNetwork(cnum=8)
    seen = _calls(net)
    method = create_method("glcic").from_modules({"completion": net}, meta={"training": {"image_size": 48}})
    assert method.window == 48
    img, mask = _scene()
    out = method.inpaint(img, mask)
    assert np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).mean() > 0.9
    assert {tuple(x.shape) for x in seen} == {(1, 4, 48, 48)}
    # The small region fits the 48² window with its margin (one pass), the large one is cut into tiles
    # whose grown size is the learned hole (0.6 of the window).
    tile = round(0.6 * 48)
    assert len(seen) == len(plan_tiles(mask, tile - 2 * round(gl_method.OVERLAP_FRACTION * tile))[0])
    # No recorded mean colour: the hole is painted with the known pixels' mean, the 4th channel is the mask.
    first = seen[0][0]
    hole = first[3] > 0.5
    assert hole.any() and torch.allclose(first[:3, hole].std(dim=1), torch.zeros(3), atol=1e-6)
    method = get_spec("glcic").factory.from_modules({"completion": net}, window=96)
    assert method.window == 96
    seen.clear()
    method.inpaint(img, mask)
    assert {tuple(x.shape) for x in seen} == {(1, 4, 96, 96)}


def test_glcic_fills_a_region_in_one_pass_when_it_fits_the_limit_and_can_skip_the_poisson_blend():
    torch.manual_seed(0)
    net = gl.CompletionNetwork(cnum=8)
    seen = _calls(net)
    meta = {"training": {"image_size": 48}}
    img, mask = _scene()
    whole = get_spec("glcic").factory.from_modules({"completion": net}, meta=meta, whole_limit=256, poisson=False)
    raw = whole.inpaint(img, mask)
    # The 70×80 region with its 10 px margin (0.2 of the window), to a multiple of 4: one 92×100 pass; the
    # 3×7 one in at least the 48² window. The fully convolutional network needs no tiles.
    assert [tuple(x.shape) for x in seen] == [(1, 4, 92, 100), (1, 4, 48, 48)]
    assert np.array_equal(raw[mask == 0], img[mask == 0])
    seen.clear()
    blended = get_spec("glcic").factory.from_modules({"completion": net}, meta=meta, whole_limit=256).inpaint(img, mask)
    assert len(seen) == 2 and np.array_equal(blended[mask == 0], img[mask == 0])
    assert not np.array_equal(blended[mask > 0], raw[mask > 0])  # the default Poisson-blends the same fill
    with pytest.raises(ValueError, match="whole_limit"):
        create_method("glcic", whole_limit=-1)


@pytest.mark.parametrize("upsample", pg.UPSAMPLING)
def test_pggan_runs_at_any_size_and_changes_only_the_hole(upsample):
    torch.manual_seed(0)
    net = pg.PGGANGenerator(cnum=8, num_blocks=1, upsample=upsample)
    method = create_method("pggan").from_modules({"generator": net})
    img, mask = _scene(37, 53)
    mask[:] = 0
    mask[5:20, 9:30] = 255
    out = method.inpaint(img, mask)
    assert out.shape == img.shape and np.array_equal(out[mask == 0], img[mask == 0])
    assert (out[mask > 0] != img[mask > 0]).any()


@pytest.mark.parametrize("upsample", pg.UPSAMPLING)
def test_pggan_takes_photos_of_a_few_pixels(upsample):
    net = pg.PGGANGenerator(cnum=8, num_blocks=2, dilations=(2, 4), upsample=upsample)
    assert net(torch.zeros(1, 4, 3, 5)).shape == (1, 3, 3, 5)  # padded inside past the dilations, cropped back


def test_pggan_resize_upsampling_has_no_transposed_convolution_and_an_unknown_kind_is_refused():
    net = pg.PGGANGenerator(cnum=8, num_blocks=1, upsample="resize")
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    assert sum(isinstance(m, torch.nn.ConvTranspose2d) for m in pg.PGGANGenerator(cnum=8, num_blocks=1).modules()) == 2
    with pytest.raises(ValueError, match="upsample must be one of"):
        pg.PGGANGenerator(cnum=8, num_blocks=1, upsample="pixelshuffle")


def test_pggan_instance_norm_cannot_see_a_photos_colour_and_norm_none_can():
    # Why our small variant drops instance norm: with it, every map is normalised over the whole photo, so a
    # photo and the same photo made brighter give the same output — a fill's colour must be guessed.
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 40) * 0.5 - 0.5
    free = torch.zeros(1, 1, 32, 40)
    brighter = x + 0.4
    outputs = {}
    for norm in pg.NORMS:
        torch.manual_seed(1)
        net = pg.PGGANGenerator(cnum=8, num_blocks=1, upsample="resize", norm=norm).eval()
        with torch.no_grad():
            outputs[norm] = [net(pg.generator_input(v, free)) for v in (x, brighter)]
    assert torch.allclose(*outputs["instance"], atol=1e-4)
    assert (outputs["none"][0] - outputs["none"][1]).abs().mean() > 1e-3
    plain = pg.PGGANGenerator(cnum=8, num_blocks=1, norm="none")
    assert not any(isinstance(m, torch.nn.InstanceNorm2d) for m in plain.modules())
    # The convolutions keep their names (Identity holds the norm's index), so a seed run's weights line up.
    assert set(plain.state_dict()) < set(pg.PGGANGenerator(cnum=8, num_blocks=1).state_dict())
    with pytest.raises(ValueError, match="norm must be one of"):
        pg.PGGANGenerator(cnum=8, num_blocks=1, norm="batch")


def test_context_encoder_context_holes_are_telea_filled_and_the_centre_left_to_the_network():
    window = np.zeros((64, 64, 3), np.uint8)
    window[:] = (20, 40, 200)  # a blue photo ...
    hole = np.zeros((64, 64), np.uint8)
    hole[10:54, 24:30] = 255  # ... with a red stroke to remove, through the centre and beyond it
    window[hole > 0] = (255, 0, 0)
    a, b = 18, 46
    out = ce_method.prefill_context(window, hole, a, b)
    outside = hole > 0
    outside[a:b, a:b] = False
    assert np.abs(out[outside].astype(int) - (20, 40, 200)).max() <= 2  # from the context, never the stroke
    assert np.array_equal(out[a:b, a:b], window[a:b, a:b])  # the centre is the network's (painted later)
    assert np.array_equal(out[hole == 0], window[hole == 0])
    only_centre = np.zeros_like(hole)
    only_centre[30:40, 30:40] = 255
    assert ce_method.prefill_context(window, only_centre, a, b) is window


@pytest.mark.parametrize(("module", "generator", "discriminator"), [
    (ce, ce.ContextEncoderGenerator, ce.ContextEncoderDiscriminator),
    (gl, gl.CompletionNetwork, gl.ContextDiscriminator),
    (pg, pg.PGGANGenerator, pg.PGGANDiscriminator),
], ids=["context_encoder", "glcic", "pggan"])
def test_small_configs_run_and_are_much_smaller_than_the_papers(module, generator, discriminator):
    (full_g, _), (small_g, small_d) = module.CONFIGS[next(iter(module.CONFIGS))], module.CONFIGS["small"]
    torch.manual_seed(0)
    nets = [generator(**small_g).eval(), discriminator(**small_d).eval()]
    for net in nets:
        with torch.no_grad():
            outs = net(*net.example_inputs(64, 80, batch=2))
        outs = outs if isinstance(outs, tuple) else (outs,)
        assert [tuple(o.shape) for o in outs] == net.output_shapes(64, 80, batch=2)
        assert all(torch.isfinite(o).all() for o in outs)
    with torch.device("meta"):
        paper = sum(p.numel() for p in generator(**full_g).parameters())
    assert sum(p.numel() for p in nets[0].parameters()) < paper / 10
