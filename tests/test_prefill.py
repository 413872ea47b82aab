"""The prefill design: DeepFill v2 and EdgeConnect variants that get the classical fill of the hole and learn a
correction that starts at zero. Step 0 equals the classical fill through the whole chain (trainer → export → engine); the fill is
recorded in the checkpoint and recomputed by the engine; costly fills are cached once per sample; off by default,
so the published generator is untouched."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import load_checkpoint
from inpaint_studio.engine.methods.prefill import prefill_spec
from inpaint_studio.networks.registry import create_network
from trainer import prefill as trainer_prefill
from trainer.export import export_run
from trainer.loop import build_config, train
from trainer.prefill import PrefillSource
from trainer.recipes import get_recipe
from trainer.toydata import write_toy_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def photos(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(72, 80), seed=0)
    return tmp_path


def _options(photos, steps: int, run: str, **network) -> dict:
    # the tiny preset's scale (trainer.cli.PRESETS["tiny"])
    return {
        "data": str(photos / "train"), "val_data": str(photos / "train"), "image_size": 64, "batch_size": 2,
        "width": 0.125, "steps": steps, "val_images": 2, "val_every": 0, "sample_every": 0, "log_every": 1,
        "progress": False, "device": "cpu", "threads": 1, "lr": 1e-3, "feature_trunk": "none",
        "network": {"prefill": "navier_stokes", **network}, "run_dir": str(photos / run),
    }


def _hole(shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    mask[12:40, 20:52] = 255
    mask[44:50, 5:70] = 255  # a thin stroke as well
    return mask


def test_untrained_prefill_generator_returns_its_prefill_and_can_learn():
    torch.manual_seed(0)
    net = create_network("deepfill_v2_prefill_generator", cnum=8)
    image, mask, _ = net.example_inputs(32, 40)
    prefill = torch.rand_like(image) * 2 - 1
    coarse, fine = net(image, mask, prefill)
    expected = image * (1 - mask) + prefill * mask
    assert torch.equal(coarse, expected) and torch.equal(fine, expected)
    fine.sub(image).abs().mean().backward()
    assert all(conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0 for conv in net.heads())


def test_untrained_prefill_checkpoint_gives_the_classical_fill_through_the_engine(photos):
    result = train(build_config("deepfill_v2", "", cli_options=_options(photos, 0, "run0")), log=lambda m: None)
    assert result.step == 0
    path = export_run(photos / "run0", photos / "models" / "df-prefill", which="last")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["prefill"] == {"method": "navier_stokes", "options": {}}
    assert meta["components"]["generator"]["network"] == "deepfill_v2_prefill_generator"
    assert "DeepFill v2 with a Navier–Stokes prefill" in path.with_suffix(".md").read_text()
    assert "DeepFill v2 with a Navier–Stokes prefill" in load_checkpoint(path).summary()  # the model picker's line

    image = load_rgb(sorted((photos / "train").iterdir())[0])
    mask = _hole(image.shape)
    filled = create_method("deepfill_v2", checkpoint=path, device="cpu").inpaint(image, mask)
    classical = create_method("navier_stokes").inpaint(image, mask)
    assert np.abs(filled.astype(int) - classical.astype(int)).max() <= 1
    assert np.array_equal(filled[mask == 0], image[mask == 0])


def test_a_tiny_prefill_run_trains_and_its_export_runs_in_the_engine(photos):
    result = train(build_config("deepfill_v2", "", cli_options=_options(photos, 4, "run4")), log=lambda m: None)
    assert result.step == 4 and result.recipe is not None
    heads = result.recipe.nets["generator"].heads()
    assert all(h.weight.abs().sum() > 0 for h in heads)  # the correction has started to learn
    path = export_run(photos / "run4", photos / "models" / "df4", which="last")
    image = load_rgb(sorted((photos / "train").iterdir())[1])
    mask = _hole(image.shape)
    filled = create_method("deepfill_v2", checkpoint=path, device="cpu").inpaint(image, mask)
    assert filled.shape == image.shape and np.array_equal(filled[mask == 0], image[mask == 0])


def test_prefill_is_off_by_default_and_the_published_generator_is_unchanged(photos):
    cfg = build_config("deepfill_v2", "", cli_options={**_options(photos, 1, "r"), "network": {}})
    recipe = get_recipe("deepfill_v2")(cfg, torch.device("cpu"), None)
    recipe.build()
    assert type(recipe.nets["generator"]).__name__ == "DeepFillV2Generator"
    assert recipe.export_meta() == {} and recipe.needs().prefill is None
    assert recipe.export_components()[0].network == "deepfill_v2_generator"


def test_seeding_from_a_plain_run_keeps_its_features_and_restarts_at_the_classical_fill(photos):
    cfg = build_config("deepfill_v2", "", cli_options=_options(photos, 1, "r", reset_heads=True))
    recipe = get_recipe("deepfill_v2")(cfg, torch.device("cpu"), None)
    recipe.build()
    plain = create_network("deepfill_v2_generator", **recipe._gen_config())
    recipe.init_from_state({"generator": plain.state_dict()})
    seeded = recipe.nets["generator"].state_dict()
    assert torch.equal(seeded["stage1.conv1.conv.weight"], plain.state_dict()["stage1.conv1.conv.weight"])
    assert all(h.weight.abs().sum() == 0 for h in recipe.nets["generator"].heads())


def test_a_costly_prefill_is_computed_once_per_sample(tmp_path, monkeypatch):
    calls = []
    real = trainer_prefill.classical_prefill

    def counting(image, mask, spec):
        calls.append(spec["method"])
        return real(image, mask, spec)

    monkeypatch.setattr(trainer_prefill, "classical_prefill", counting)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = _hole((64, 80))[16:48, 16:48]
    source = PrefillSource({"method": "patchmatch", "options": {"patch_size": 2}}, tmp_path / "cache")
    first, second = source(image, mask), source(image, mask)
    assert calls == ["patchmatch"] and np.array_equal(first, second)
    assert len(list((tmp_path / "cache").rglob("*.png"))) == 1
    other = PrefillSource({"method": "patchmatch", "options": {"patch_size": 3}}, tmp_path / "cache")
    other(image, mask)  # other options: another fill, not the cached one
    assert len(calls) == 2
    nav = PrefillSource({"method": "navier_stokes"}, tmp_path / "cache")
    nav(image, mask)
    nav(image, mask)  # cheap: recomputed, never cached
    assert calls[2:] == ["navier_stokes", "navier_stokes"] and len(list((tmp_path / "cache").rglob("*.png"))) == 2


def test_an_unknown_prefill_is_refused_in_plain_words():
    assert prefill_spec("") is None and prefill_spec(None) is None
    assert prefill_spec("patchmatch") == {"method": "patchmatch", "options": {}}
    with pytest.raises(CheckpointError, match="unknown prefill method 'blur'"):
        prefill_spec({"method": "blur"})


def test_deepfill_refuses_transposed_upsampling_it_never_had(photos):
    from trainer.config import ConfigError

    cfg = build_config("deepfill_v2", "", cli_options={**_options(photos, 1, "r"), "network": {"upsample": "transpose"}})
    with pytest.raises(ConfigError, match="nearest ×2 \\+ conv only"):
        get_recipe("deepfill_v2")(cfg, torch.device("cpu"), None).build()


class _StubTrunk(torch.nn.Module):
    """The feature trunk's interface (`forward(x, layers)` → one map per layer) at the cost of one conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor, layers: list[str]) -> list[torch.Tensor]:
        return [torch.relu(self.conv(x)) for _ in layers]


def test_the_perceptual_and_style_terms_train_the_prefill_generator_when_weighted(photos):
    cfg = build_config("deepfill_v2", "", cli_options={
        **_options(photos, 1, "r"), "weights": {"perceptual": 0.1, "style": 10.0}})
    recipe = get_recipe("deepfill_v2")(cfg, torch.device("cpu"), _StubTrunk())
    recipe.build()
    assert recipe.vgg_terms() == ["perceptual", "style"]
    image = torch.rand(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:20, 8:24] = 1
    losses = recipe.train_step({"image": image, "mask": mask, "prefill": image * (1 - mask) + 0.5 * mask})
    assert losses["perceptual"] > 0 and losses["style"] > 0 and all(torch.isfinite(v) for v in losses.values())
    plain = build_config("deepfill_v2", "", cli_options=_options(photos, 1, "r"))
    assert get_recipe("deepfill_v2")(plain, torch.device("cpu"), None).vgg_terms() == []  # the paper's loss


def test_an_untrained_edgeconnect_prefill_checkpoint_gives_the_classical_fill(photos):
    options = {**_options(photos, 0, "ec0"), "network": {"prefill": "navier_stokes", "num_blocks": 1}}
    train(build_config("edgeconnect", "inpaint", cli_options=options), log=lambda m: None)
    path = export_run(photos / "ec0", photos / "models" / "ec-prefill", which="last")
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["prefill"]["method"] == "navier_stokes"
    assert meta["components"]["inpaint_generator"]["config"]["prefill"] is True
    assert "prefill" not in meta["components"]["edge_generator"]["config"]
    assert "EdgeConnect with a Navier–Stokes prefill" in path.with_suffix(".md").read_text()
    image = load_rgb(sorted((photos / "train").iterdir())[2])
    mask = _hole(image.shape)
    classical = create_method("navier_stokes").inpaint(image, mask)
    method = create_method("edgeconnect", checkpoint=path, device="cpu")
    drawn = np.zeros(mask.shape, np.uint8)
    drawn[30, :] = 255
    for edges in (None, drawn):  # predicted or drawn edges: the untrained correction adds nothing either way
        filled = method.inpaint(image, mask, edges)
        assert np.abs(filled.astype(int) - classical.astype(int)).max() <= 1


def test_a_recipe_without_a_prefill_variant_refuses_the_option(photos):
    from trainer.config import ConfigError

    cfg = build_config("vcnet", "rin", cli_options={**_options(photos, 1, "v")})
    with pytest.raises(ConfigError, match="no prefill variant"):
        train(cfg, log=lambda m: None)
    bad = build_config("deepfill_v2", "", cli_options={**_options(photos, 1, "d"), "network": {"prefill": "blur"}})
    with pytest.raises(ConfigError, match="unknown prefill method 'blur'"):
        train(bad, log=lambda m: None)
