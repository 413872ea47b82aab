"""The texture-fusion stage: a learned fill's colour mixed with PatchMatch's, PatchMatch's finest detail on top.

Step 0 is the hand blend; the engine runs the stage after the fill when a checkpoint has it (and not when the
`texture` option is off); the trainer's samples resume, its training learns the mix, and the checkpoint it writes
runs in the engine."""

from __future__ import annotations

import json

import imagegen as gen
import numpy as np
import pytest
import torch

from inpaint_studio.core.metrics import detail_energy
from inpaint_studio.engine.methods.deepfill_v2 import DeepFillV2Method
from inpaint_studio.networks.registry import create_network
from inpaint_studio.networks.texture_fusion import gaussian_blur, gaussian_kernel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _inputs(h: int = 48, w: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    learned, patchmatch = torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, h, w, generator=g)
    mask = torch.zeros(1, 1, h, w)
    mask[..., 10:30, 20:50] = 1.0
    return learned, patchmatch, mask


def test_step_zero_is_the_hand_blend():
    learned, pm, mask = _inputs()
    net = create_network("texture_fusion", start_weight=0.6, low_sigma=2.0, detail_sigma=0.7)
    with torch.no_grad():
        out = net(learned, pm, mask)
    low = gaussian_blur(pm, gaussian_kernel(2.0))
    fine = pm - gaussian_blur(pm, gaussian_kernel(0.7))
    expected = (0.6 * learned + 0.4 * low + fine).clamp(0, 1)
    hole = mask.expand_as(out) > 0
    assert torch.allclose(out[hole], expected[hole], atol=1e-5)
    assert torch.equal(out[~hole], learned[~hole])  # outside the hole: the learned fill's pixels, untouched


def test_three_way_step_zero_splits_the_rest_between_the_classical_fills():
    learned, pm, mask = _inputs()
    smooth = torch.rand(learned.shape, generator=torch.Generator().manual_seed(3))
    net = create_network("texture_fusion", start_weight=0.4, low_sigma=2.0, detail_sigma=0.7, smooth=True)
    with torch.no_grad():
        out = net(learned, pm, mask, smooth)
    low = gaussian_blur(pm, gaussian_kernel(2.0))
    fine = pm - gaussian_blur(pm, gaussian_kernel(0.7))
    expected = (0.4 * learned + 0.3 * low + 0.3 * smooth + fine).clamp(0, 1)
    hole = mask.expand_as(out) > 0
    assert torch.allclose(out[hole], expected[hole], atol=1e-5)
    assert torch.equal(out[~hole], learned[~hole])
    with pytest.raises(ValueError, match="smooth"):
        net(learned, pm, mask)  # a three-way stage without its third fill is a bug, not a silent two-way mix
    with pytest.raises(ValueError, match="smooth"):
        create_network("texture_fusion")(learned, pm, mask, smooth)


def test_flat_patchmatch_adds_no_detail_and_a_matching_fill_stays():
    """Where both fills agree on a flat colour the stage changes nothing (no texture to add, nothing to mix)."""
    learned = torch.full((1, 3, 32, 32), 0.3)
    _, _, mask = _inputs(32, 32)
    with torch.no_grad():
        out = create_network("texture_fusion")(learned, learned.clone(), mask)
    assert torch.allclose(out, learned, atol=1e-5)


def test_start_weight_must_be_a_share():
    with pytest.raises(ValueError, match="start_weight"):
        create_network("texture_fusion", start_weight=1.0)


def _method(texture: bool | None = None) -> DeepFillV2Method:
    torch.manual_seed(0)
    modules = {"generator": create_network("deepfill_v2_generator", cnum=8).eval(),
               "texture_fusion": create_network("texture_fusion").eval()}
    return DeepFillV2Method.from_modules(modules, meta={"texture": {"method": "patchmatch", "options": {}}},
                                         texture=texture)


def test_engine_adds_patchmatch_texture_after_the_fill():
    image = gen.textured(80, 96, seed=4)
    mask = gen.box_mask(80, 96, 20, 24, 56, 72)
    plain, textured = _method(texture=False).inpaint(image, mask), _method().inpaint(image, mask)
    assert _method().finishes_fill and not _method(texture=False).finishes_fill
    for out in (plain, textured):
        assert np.array_equal(out[mask == 0], image[mask == 0])
    # the random generator's fill is smooth; with the stage the hole carries texture from the photo
    assert detail_energy(textured, mask) > 2.0 * detail_energy(plain, mask)


def test_a_checkpoint_without_the_stage_fills_as_before():
    torch.manual_seed(0)
    g = create_network("deepfill_v2_generator", cnum=8).eval()
    method = DeepFillV2Method.from_modules({"generator": g}, meta={"texture": {"method": "patchmatch"}})
    assert method.texture is None and not method.finishes_fill


def _samples_from(truths: list[np.ndarray], masks: list[np.ndarray], learned: list[np.ndarray],
                  pms: list[np.ndarray]):
    from trainer.fusion import FusionSet

    return FusionSet(np.stack(truths), np.stack(masks), np.stack(learned), np.stack(pms))


def test_training_learns_to_trust_the_fill_that_is_right():
    """Truth = PatchMatch's fill: the fusion must learn to lean on it, below its step-0 error."""
    from trainer.fusion import train_fusion

    rng = np.random.default_rng(0)
    truths, masks, learned, pms = [], [], [], []
    for k in range(12):
        truth = gen.textured(64, 64, seed=k)
        mask = gen.box_mask(64, 64, 16, 16, 48, 48)
        blur = np.full_like(truth, truth[mask > 0].mean(axis=0).astype(np.uint8))
        noisy = np.clip(blur.astype(int) + rng.integers(-40, 40, 3), 0, 255).astype(np.uint8)
        truths.append(truth), masks.append(mask), learned.append(noisy), pms.append(truth)
    data = _samples_from(truths, masks, learned, pms)
    run = train_fusion(data, data, steps=120, batch=4, lr=3e-3, eval_every=60, crop=64, log=lambda _: None)
    first, best = run.history[0]["l1_hole"], min(h["l1_hole"] for h in run.history)
    assert best < 0.7 * first
    assert run.history[0]["learned_l1_hole"] > run.history[0]["l1_hole"] > run.history[0]["patchmatch_l1_hole"]


def test_written_checkpoint_runs_with_its_texture_stage(tmp_path):
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from trainer.fusion import FusionRun, write_fusion_checkpoint

    torch.manual_seed(0)
    g = create_network("deepfill_v2_generator", cnum=8)
    base = save_checkpoint(tmp_path / "base", "deepfill_v2", {"generator": g},
                           {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 8}}},
                           {"variant": "DeepFill v2 (test)", "sample_check": {"l1_hole": 1.0}})
    run = FusionRun(create_network("texture_fusion", start_weight=0.5), {"start_weight": 0.5},
                    [{"step": 0.0, "l1_hole": 20.0}], 1.0)
    path = write_fusion_checkpoint(base, run, tmp_path / "textured", fills="deepfill_v2", samples=["a", "b"])
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["texture"]["method"] == "patchmatch"
    assert meta["variant"] == "DeepFill v2 (test); with PatchMatch texture"
    assert "sample_check" not in meta  # the fill changed: measured again, not carried over
    assert meta["metrics"] == {"l1_hole": 20.0}  # the fusion's validation, not the base's training metrics
    assert set(meta["components"]) == {"generator", "texture_fusion"}
    card = path.with_suffix(".md").read_text()
    assert card.startswith("# textured\n") and "PatchMatch texture" in card and "| 0 | 20.00 |" in card
    method = DeepFillV2Method(checkpoint=path, device="cpu")
    method.load()
    assert method.finishes_fill
    image, mask = gen.textured(64, 64, seed=2), gen.box_mask(64, 64, 16, 16, 44, 44)
    out = method.inpaint(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    off = DeepFillV2Method(checkpoint=path, device="cpu", texture=False)
    off.load()
    assert not off.finishes_fill and not np.array_equal(off.inpaint(image, mask), out)


def test_three_way_checkpoint_names_its_smooth_fill(tmp_path):
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from trainer.fusion import FusionRun, write_fusion_checkpoint

    torch.manual_seed(0)
    g = create_network("deepfill_v2_generator", cnum=8)
    base = save_checkpoint(tmp_path / "base", "deepfill_v2", {"generator": g},
                           {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 8}}},
                           {"variant": "DeepFill v2 (test)"})
    config = {"start_weight": 0.4, "smooth": True}
    run = FusionRun(create_network("texture_fusion", **config), config, [{"step": 0.0, "l1_hole": 20.0}], 1.0)
    with pytest.raises(ValueError, match="smooth"):
        write_fusion_checkpoint(base, run, tmp_path / "x", fills="deepfill_v2", samples=["a", "b"])
    path = write_fusion_checkpoint(base, run, tmp_path / "textured", fills="deepfill_v2", samples=["a", "b"],
                                   smooth="navier_stokes")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["texture"]["smooth"] == {"method": "navier_stokes", "options": {}}
    assert "Navier–Stokes" in meta["variant"] and "Navier–Stokes fill" in path.with_suffix(".md").read_text()
    method = DeepFillV2Method(checkpoint=path, device="cpu")
    method.load()
    image, mask = gen.textured(64, 64, seed=2), gen.box_mask(64, 64, 16, 16, 44, 44)
    assert np.array_equal(method.inpaint(image, mask)[mask == 0], image[mask == 0])


def test_samples_resume_and_add_a_method(tmp_path):
    from inpaint_studio.core.imageio import save_image
    from trainer.fusion_data import make_samples, read_sample, sample_path

    photos = []
    for k in range(2):
        photos.append(tmp_path / f"p{k}.png")
        save_image(photos[-1], gen.textured(80, 90, seed=k))
    out = tmp_path / "samples"
    assert make_samples(photos, ["telea"], out, 3, size=48) == 3
    first = read_sample(sample_path(out, 1))
    assert set(first) == {"truth", "mask", "patchmatch", "fill_telea"} and first["truth"].shape == (48, 48, 3)
    assert make_samples(photos, ["telea"], out, 3, size=48) == 0  # nothing missing: nothing redone
    assert make_samples(photos, ["telea", "navier_stokes"], out, 3, size=48) == 3
    again = read_sample(sample_path(out, 1))
    assert np.array_equal(again["fill_telea"], first["fill_telea"]) and "fill_navier_stokes" in again
    hole = again["mask"] > 0
    assert hole.any() and np.array_equal(again["patchmatch"][~hole], again["truth"][~hole])


def _textured_edgeconnect():
    """A tiny random EdgeConnect with a texture stage whose texture comes from `edge_guided` when edges are drawn."""
    from inpaint_studio.engine.methods.edgeconnect import EdgeConnectMethod

    torch.manual_seed(0)
    modules = {"edge_generator": create_network("edgeconnect_edge_generator", base_channels=8, num_blocks=1).eval(),
               "inpaint_generator": create_network("edgeconnect_inpaint_generator", base_channels=8,
                                                   num_blocks=1).eval(),
               "texture_fusion": create_network("texture_fusion").eval()}
    meta = {"texture": {"method": "patchmatch", "options": {}, "with_edges": "edge_guided"}}
    return EdgeConnectMethod.from_modules(modules, meta=meta)


def test_drawn_edges_take_texture_from_the_edge_guided_fill(monkeypatch):
    """EdgeConnect's stage: with edges drawn the texture comes from the fill that copies each side of a line
    only from that side; without, from PatchMatch."""
    from inpaint_studio.engine.methods import learned

    calls: list[str] = []
    real_create = learned.create_method

    def spy_create(name, **options):
        calls.append(name)
        return real_create(name, **options)

    monkeypatch.setattr(learned, "create_method", spy_create)
    monkeypatch.setattr(learned, "classical_prefill", lambda image, hole, spec: calls.append(spec["method"]) or image)
    method = _textured_edgeconnect()
    image, mask = gen.textured(64, 64, seed=6), gen.box_mask(64, 64, 16, 16, 48, 48)
    edges = np.zeros((64, 64), np.uint8)
    edges[:, 32] = 255
    method.inpaint(image, mask)
    assert calls == ["patchmatch"]
    calls.clear()
    method.inpaint(image, mask, edges)
    assert calls == ["edge_guided"]


def test_three_way_stage_mixes_in_a_smooth_fill_on_the_right_side_of_drawn_lines(monkeypatch):
    """A three-way stage also gets Navier–Stokes' fill of the hole; with edges drawn, the edge-guided fill's
    diffusion instead (a smooth fill that crosses the lines would blur them)."""
    from inpaint_studio.engine.methods import learned
    from inpaint_studio.engine.methods.edgeconnect import EdgeConnectMethod

    calls: list[tuple[str, str]] = []
    real_create = learned.create_method

    def spy_create(name, **options):
        calls.append((name, options.get("fill", "")))
        return real_create(name, **options)

    monkeypatch.setattr(learned, "create_method", spy_create)
    real_prefill = learned.classical_prefill
    monkeypatch.setattr(learned, "classical_prefill",
                        lambda image, hole, spec: calls.append((spec["method"], "")) or real_prefill(image, hole, spec))
    torch.manual_seed(0)
    modules = {"edge_generator": create_network("edgeconnect_edge_generator", base_channels=8, num_blocks=1).eval(),
               "inpaint_generator": create_network("edgeconnect_inpaint_generator", base_channels=8,
                                                   num_blocks=1).eval(),
               "texture_fusion": create_network("texture_fusion", smooth=True).eval()}
    meta = {"texture": {"method": "patchmatch", "options": {}, "with_edges": "edge_guided",
                        "smooth": {"method": "navier_stokes", "options": {}}}}
    method = EdgeConnectMethod.from_modules(modules, meta=meta)
    image, mask = gen.textured(64, 64, seed=6), gen.box_mask(64, 64, 16, 16, 48, 48)
    edges = np.zeros((64, 64), np.uint8)
    edges[:, 32] = 255
    out = method.inpaint(image, mask)
    assert calls == [("patchmatch", ""), ("navier_stokes", "")]
    assert np.array_equal(out[mask == 0], image[mask == 0])
    calls.clear()
    method.inpaint(image, mask, edges)
    assert calls == [("edge_guided", ""), ("edge_guided", "navier_stokes")]


def test_texture_fill_runs_on_a_window_around_a_small_hole(monkeypatch):
    """PatchMatch's cost grows with the photo: a small hole in a large photo gets its texture from a window around
    it (context as large as the hole, at least TEXTURE_MARGIN px), a large hole from the whole photo."""
    from inpaint_studio.engine.methods import learned

    seen: list[tuple[int, ...]] = []
    real = learned.classical_prefill
    monkeypatch.setattr(learned, "classical_prefill",
                        lambda image, hole, spec: seen.append(image.shape) or real(image, hole, spec))
    image = gen.textured(400, 480, seed=7)
    small = gen.box_mask(400, 480, 180, 200, 200, 230)
    out = _method().inpaint(image, small)
    assert seen[-1] == (20 + 2 * learned.TEXTURE_MARGIN, 30 + 2 * learned.TEXTURE_MARGIN, 3)
    assert np.array_equal(out[small == 0], image[small == 0]) and (out[small > 0] != image[small > 0]).any()
    _method().inpaint(image, gen.box_mask(400, 480, 50, 60, 350, 420))
    assert seen[-1] == image.shape


def test_a_new_base_keeps_the_texture_stage(tmp_path):
    """The GPU campaign ships a better learned fill: the textured checkpoint is rewritten around it."""
    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint
    from trainer.fusion import FusionRun, carry_texture_stage, write_fusion_checkpoint

    spec = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 8}}}
    torch.manual_seed(0)
    old = save_checkpoint(tmp_path / "old", "deepfill_v2", {"generator": create_network("deepfill_v2_generator", cnum=8)}, spec)
    new_g = create_network("deepfill_v2_generator", cnum=8)
    new = save_checkpoint(tmp_path / "new", "deepfill_v2", {"generator": new_g}, spec)
    fusion = create_network("texture_fusion", start_weight=0.3)
    run = FusionRun(fusion, {"start_weight": 0.3}, [{"step": 0.0, "l1_hole": 9.0}], 2.0)
    textured = write_fusion_checkpoint(old, run, tmp_path / "textured", fills="deepfill_v2", samples=["a", "b"],
                                       half=False, texture_options={"band_split_above": 0})
    carried = load_checkpoint(carry_texture_stage(textured, new))
    assert carried.path == textured
    for key, value in new_g.state_dict().items():
        assert torch.equal(carried.state_dict("generator")[key], value)
    for key, value in fusion.state_dict().items():
        assert torch.equal(carried.state_dict("texture_fusion")[key], value)
    assert carried.meta["texture_training"]["carried_from"] == "old.safetensors"
    assert carried.meta["texture"] == {"method": "patchmatch", "options": {"band_split_above": 0}}
    with pytest.raises(ValueError, match="no texture stage"):
        carry_texture_stage(new, old)


def test_next_to_a_drawn_line_the_edge_guided_step_is_kept():
    """A mix would blur the crisp step the edge-guided fill draws along a line: within EDGE_BAND px of it the
    result is the edge-guided fill itself."""
    import cv2

    from inpaint_studio.engine.base import create_method
    from inpaint_studio.engine.methods.learned import EDGE_BAND

    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :32] = (200, 60, 40)
    image[:, 32:] = (30, 80, 190)
    image = np.clip(image.astype(int) + gen.textured(64, 64, seed=1) // 8, 0, 255).astype(np.uint8)
    mask = gen.box_mask(64, 64, 16, 16, 48, 48)
    edges = np.zeros((64, 64), np.uint8)
    edges[:, 32] = 255
    out = _textured_edgeconnect().inpaint(image, mask, edges)
    guided = create_method("edge_guided").inpaint(image, mask, edges)
    band = cv2.dilate(((edges > 0) & (mask > 0)).astype(np.uint8), np.ones((2 * EDGE_BAND + 1,) * 2, np.uint8)) > 0
    assert np.array_equal(out[band], guided[band])
    assert not np.array_equal(out[(mask > 0) & ~band], guided[(mask > 0) & ~band])  # elsewhere: the mix


def test_bad_input_is_one_plain_line_before_any_work(tmp_path, capsys):
    """A wrong --base, a missing photo folder or an unknown fill name stop `fusion` / `fusion-data` with one line
    (exit 2) before samples are drawn or a network trains; nothing is written."""
    from trainer.cli import main

    out = tmp_path / "out"
    code = main(["fusion", "--base", str(tmp_path / "none"), "--fills", "deepfill_v2", "--samples", str(tmp_path),
                 "--val-samples", str(tmp_path), "--to", str(out / "x")])
    assert code == 2 and capsys.readouterr().err.startswith("error: ")
    code = main(["fusion-data", "--out", str(out), "--photos", str(tmp_path / "missing"), "--methods", "telea"])
    assert code == 2 and "not a folder" in capsys.readouterr().err
    code = main(["fusion-data", "--out", str(out), "--photos", str(tmp_path), "--methods", "no_such_model"])
    assert code == 2 and "unknown model" in capsys.readouterr().err
    assert not out.exists()


def test_building_the_trainer_cli_does_not_import_torch():
    """`python -m trainer --help` stays fast: the fusion commands import their torch code only when run."""
    import subprocess
    import sys

    code = "import sys, trainer.cli; trainer.cli.build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_three_way_stage_carries_over_to_a_new_base(tmp_path):
    """When a better learned fill ships (the campaign), the texture stage is rewritten around it: its smooth
    fill, texture options and weights stay."""
    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint
    from trainer.fusion import FusionRun, carry_texture_stage, write_fusion_checkpoint

    def base(name: str, seed: int):
        torch.manual_seed(seed)
        return save_checkpoint(tmp_path / name, "deepfill_v2",
                               {"generator": create_network("deepfill_v2_generator", cnum=4)},
                               {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}})

    config = {"start_weight": 0.4, "smooth": True}
    net = create_network("texture_fusion", **config)
    with torch.no_grad():
        net.head.bias.add_(0.3)  # weights of its own, to be kept
    textured = write_fusion_checkpoint(base("old", 0), FusionRun(net, config, [{"step": 5.0, "l1_hole": 9.0}], 2.0),
                                       tmp_path / "textured", fills="deepfill_v2", samples=["a", "b"],
                                       texture_options={"band_split_above": 0}, smooth="navier_stokes")
    new = base("new", 1)
    carried = load_checkpoint(carry_texture_stage(textured, new))
    assert carried.meta["texture"]["smooth"]["method"] == "navier_stokes"
    assert carried.meta["texture"]["options"] == {"band_split_above": 0}
    assert carried.components["texture_fusion"]["config"]["smooth"] is True
    assert torch.allclose(carried.state_dict("texture_fusion")["head.bias"].float(), net.head.bias.half().float())
    new_weights = load_checkpoint(new).state_dict("generator")
    # the new base's generator, stored at the textured checkpoint's precision (float16)
    assert all(torch.equal(v.float(), new_weights[k].half().float()) for k, v in carried.state_dict("generator").items())
