"""`tune` measures every detector × fill combination of a VCNet checkpoint on synthetic damage,
picks the highest mean PSNR gain, and records it where the engine then follows it."""

from __future__ import annotations

import json

import imagegen as gen
import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.engine.methods.vcnet import VCNetMethod
from inpaint_studio.networks.registry import create_network
from trainer.blind_choice import ComboScore, blind_block, choose, measure_combos, record_block, run


def _nets(logit: float) -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    mpn = create_network("vcnet_mpn", base_channels=8, bottleneck_dilations=[2])
    rin = create_network("vcnet_rin", base_channels=8, neck_channels=16, middle_dilations=[2])
    with torch.no_grad():  # an MPN that finds nothing: only the classical detector can help
        mpn.conv1.weight.zero_()
        mpn.conv1.bias.fill_(logit)
    return {"mpn": mpn, "rin": rin}


def _photos(n: int = 2, size: int = 64) -> list[tuple[str, np.ndarray]]:
    return [(f"p{i}.png", gen.textured(size, size, seed=20 + i)) for i in range(n)]


def test_choose_takes_the_highest_mean_gain_and_the_simpler_on_a_tie():
    a = ComboScore("mpn", "rin", {"scratch": {"gain": 1.0}, "ink": {"gain": 3.0}})
    b = ComboScore("mpn+classical", "telea", {"scratch": {"gain": 4.0}, "ink": {"gain": 2.0}})
    c = ComboScore("mpn+classical", "rin", {"scratch": {"gain": 4.0}, "ink": {"gain": 2.0}})
    assert choose([a, b, c]) is b
    assert choose([a, ComboScore("mpn", "telea", {"x": {"gain": 2.0}})]).fill == "rin"
    # within 0.1 dB is noise on a dozen photos: the earlier (the network's own threshold) stays
    near = ComboScore("mpn+classical", "telea", {"scratch": {"gain": 4.1}, "ink": {"gain": 2.0}}, threshold=0.9)
    assert choose([b, near]) is b
    far = ComboScore("mpn+classical", "telea", {"scratch": {"gain": 4.3}, "ink": {"gain": 2.0}}, threshold=0.9)
    assert choose([b, far]) is far


def test_measured_combinations_are_real_restorations():
    nets = _nets(-30.0)

    def make(detector: str, fill: str, threshold: float) -> VCNetMethod:
        return VCNetMethod.from_modules(nets, detector=detector, fill=fill, threshold=threshold)

    scores = measure_combos(make, _photos())
    assert [(s.detector, s.fill, s.threshold) for s in scores] == [
        ("mpn", "rin", 0.5), ("mpn", "telea", 0.5), ("mpn+classical", "rin", 0.5), ("mpn+classical", "telea", 0.5)]
    for s in scores[:2]:  # the MPN finds nothing: nothing is repaired, no gain, IoU 0, no false alarm
        assert all(d["gain"] == pytest.approx(0.0) and d.get("iou", 0.0) == 0.0 for d in s.per_kind.values())
        assert s.per_kind["clean"] == {"false_alarms": 0.0, "psnr": 60.0, "input_psnr": 60.0, "gain": 0.0}
    united = scores[3].per_kind
    assert united["scratch"]["iou"] > 0.2 and united["scratch"]["gain"] > 1.0  # the classical half repairs ...
    assert united["clean"]["false_alarms"] > 0 and united["clean"]["gain"] < 0  # ... and repaints clean texture
    best = choose(scores)
    assert best.mean_gain == max(s.mean_gain for s in scores)


def test_a_setting_that_repaints_clean_photos_pays_for_it():
    class Stripes:  # flags and greys out a band of every photo, damaged or not
        def predict_mask(self, image):
            mask = np.zeros(image.shape[:2], np.uint8)
            mask[10:20] = 255
            return type("Prediction", (), {"mask": mask})()

        def inpaint(self, image):
            out = image.copy()
            out[10:20] = 128
            return out

    (score,) = measure_combos(lambda *a: Stripes(), _photos(), combos=[("mpn", "telea", 0.5)])
    clean = score.per_kind["clean"]
    assert clean["false_alarms"] == pytest.approx(10 / 64) and clean["gain"] < -20  # counted like any kind
    assert score.mean_gain == pytest.approx(np.mean([d["gain"] for d in score.per_kind.values()]))


def test_recorded_choice_is_followed_by_the_engine(tmp_path):
    nets = _nets(-30.0)
    components = {"mpn": {"network": "vcnet_mpn", "config": {"base_channels": 8, "bottleneck_dilations": [2]}},
                  "rin": {"network": "vcnet_rin", "config": {"base_channels": 8, "neck_channels": 16,
                                                             "middle_dilations": [2]}}}
    path = save_checkpoint(tmp_path / "vc", "vcnet", nets, components)
    block = run(path, _photos(2), 0, record=True, log=lambda m: None)
    assert block["detector"] in ("mpn", "mpn+classical") and block["fill"] in ("rin", "telea")
    # 4 pairs at 0.5, then the other thresholds for the best pair
    measured = block["measured"]
    assert len(measured) == 4 + 4 and {m["threshold"] for m in measured[4:]} == {0.7, 0.85, 0.9, 0.95}
    assert block["threshold"] in {m["threshold"] for m in measured}
    assert json.loads(path.with_suffix(".json").read_text())["blind"]["detector"] == block["detector"]
    method = create_method("vcnet", checkpoint=path, device="cpu")
    method.load()
    assert (method.detector, method.fill, method.threshold) == (block["detector"], block["fill"], block["threshold"])


def test_record_refuses_a_checkpoint_of_another_method(tmp_path):
    net = create_network("deepfill_v2_generator", cnum=4)
    path = save_checkpoint(tmp_path / "df", "deepfill_v2", {"generator": net},
                           {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}})
    with pytest.raises(CheckpointError, match="not vcnet"):
        record_block(path, blind_block(ComboScore("mpn", "rin", {}), [], {}))


def test_mask_size_is_measured_on_contamination_and_recorded(tmp_path):
    from trainer.blind_choice import measure_mask_sizes, run_mask_size

    nets = _nets(0.0)
    sizes_seen: list[int] = []

    def make(size: int) -> VCNetMethod:
        sizes_seen.append(size)  # (threshold: the default)
        return VCNetMethod.from_modules(nets, detector="mpn", mask_size=size)

    scores = measure_mask_sizes(make, _photos(2, size=96), (32, 64, 96, 128))
    assert list(scores) == [32, 64, 96] == sizes_seen  # 128 is above the photos' side: the same as 96
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    components = {"mpn": {"network": "vcnet_mpn", "config": {"base_channels": 8, "bottleneck_dilations": [2]}},
                  "rin": {"network": "vcnet_rin", "config": {"base_channels": 8, "neck_channels": 16,
                                                             "middle_dilations": [2]}}}
    path = save_checkpoint(tmp_path / "vc", "vcnet", nets, components)
    best = run_mask_size(path, _photos(2, size=200), 0, True, log=lambda m: None)
    inference = json.loads(path.with_suffix(".json").read_text())["inference"]
    assert inference["mask_size"] == best and set(inference["mask_size_measured"]["contamination_iou"]) == {
        "192"}
