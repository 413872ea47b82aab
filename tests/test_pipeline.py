"""The fill pipeline is the one owner of a run: the image and mask are checked, the mask thresholded and the
fill pasted back exactly once per run (spies on the core functions, wherever they are called from), for a
classical fill, a learned one and a blind run; progress rises crop by crop."""

from __future__ import annotations

import sys
from collections import Counter

import imagegen as gen
import numpy as np
import pytest
import torch

from inpaint_studio.core import masks
from inpaint_studio.core.hd import HDConfig
from inpaint_studio.engine import pipeline
from inpaint_studio.engine.manager import ModelManager
from inpaint_studio.engine.methods.deepfill_v2 import DeepFillV2Method
from inpaint_studio.networks.registry import create_network

SPIED = {"validate_image": pipeline, "check_mask": masks, "binary": masks, "composite": masks}


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Counts calls of the pipeline's guards, patched in every module of the project that holds them."""
    counts: Counter = Counter()
    for name, home in SPIED.items():
        real = getattr(home, name)

        def spy(*args, _name=name, _real=real, **kw):
            counts[_name] += 1
            return _real(*args, **kw)

        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("inpaint_studio") and getattr(module, name, None) is real:
                monkeypatch.setattr(module, name, spy)
    return counts


def _case(h: int = 64, w: int = 80) -> tuple[np.ndarray, np.ndarray]:
    image = gen.textured(h, w, seed=3)
    mask = np.zeros((h, w), np.uint8)
    mask[20:40, 30:55] = 200  # soft values above the rule's 127 are hole
    mask[5:8, 5:8] = 60  # faint: known
    return image, mask


def _assert_once(calls: Counter, *, masked: bool) -> None:
    assert calls["validate_image"] == 1
    assert calls["check_mask"] == (1 if masked else 0)
    assert calls["binary"] == 1
    assert calls["composite"] == 1


def test_a_classical_fill_is_checked_thresholded_and_pasted_back_once(calls):
    image, mask = _case()
    manager = ModelManager()
    manager.activate("navier_stokes")
    out = manager.run(image, mask)
    _assert_once(calls, masked=True)
    known = mask <= 127
    assert np.array_equal(out[known], image[known]) and not np.array_equal(out[~known], image[~known])


def test_a_learned_fill_is_checked_thresholded_and_pasted_back_once(calls):
    torch.manual_seed(0)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    method = DeepFillV2Method.from_modules({"generator": net})
    image, mask = _case()
    out = method.inpaint(image, mask)
    _assert_once(calls, masked=True)
    known = mask <= 127
    assert np.array_equal(out[known], image[known])


def test_a_blind_run_thresholds_and_pastes_back_its_found_hole_once(calls):
    image = gen.textured(96, 128, seed=5)
    image[40, 10:110] = 255  # a white scratch for the classical detector
    image[41, 10:110] = 255
    manager = ModelManager()
    manager.activate("classical_restore")
    out = manager.run(image, None)
    _assert_once(calls, masked=False)
    assert (out[40:42, 20:100] != 255).any()


def test_an_empty_mask_is_answered_before_any_fill_or_paste(calls):
    image, _ = _case()
    manager = ModelManager()
    manager.activate("telea")
    out = manager.run(image, np.full(image.shape[:2], 100, np.uint8))  # all faint: nothing to fill
    assert np.array_equal(out, image) and out is not image
    assert calls["composite"] == 0


def test_progress_rises_crop_by_crop_through_the_manager():
    h, w = 600, 900
    image = gen.textured(h, w, seed=1)
    mask = np.zeros((h, w), np.uint8)
    for x in (50, 400, 800):
        mask[100:130, x : x + 30] = 255
    seen: list[tuple[float, str]] = []
    manager = ModelManager(hd_config=HDConfig(strategy="crop", crop_margin=16))
    manager.activate("telea")
    manager.run(image, mask, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {round(f, 3) for f in fractions if 0.0 < f < 1.0} == {0.333, 0.667}  # not 0 % then 100 %
    # each crop's own fill reports inside the crop's share
    assert [m for _, m in seen] == ["crop 1/3", "telea", "done", "crop 2/3", "telea", "done",
                                    "crop 3/3", "telea", "done", "done"]


def test_progress_of_a_blind_run_rises_from_finding_to_filling():
    image = gen.textured(96, 128, seed=5)
    image[40:42, 10:110] = 255
    seen: list[tuple[float, str]] = []
    manager = ModelManager()
    manager.activate("classical_restore")
    manager.run(image, None, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[0] == (0.0, "detecting damage") and 0.0 < dict((m, f) for f, m in seen)["filling"] < 1.0


def test_stains_given_with_a_mask_are_untinted_before_the_fill_and_a_wrong_map_is_refused():
    """`stains` (the Auto mask's amber part): its trusted tint is removed outside the hole too; the hole is
    filled as before; a map of another size is one plain message."""
    image, mask = _case(96, 120)
    clean = np.clip(image.astype(np.int16) // 2 + 100, 0, 255).astype(np.uint8)  # mid-grey: a tint shows
    strength = np.zeros(clean.shape[:2], np.float32)
    strength[50:90, 60:110] = 0.6
    stained = np.clip(np.rint(clean * (1 + strength[..., None] * (np.array([0.8, 0.6, 0.35]) - 1))), 0, 255)
    stained = stained.astype(np.uint8)
    manager = ModelManager()
    manager.activate("telea")
    out = manager.run(stained, mask, stains=np.rint(strength * 255).astype(np.uint8))
    inside = (slice(52, 88), slice(62, 108))
    before = np.abs(stained[inside].astype(int) - clean[inside]).mean()
    assert np.abs(out[inside].astype(int) - clean[inside]).mean() < before / 4
    plain = manager.run(stained, mask)
    hole = mask > 127
    assert not np.array_equal(plain[hole], stained[hole])  # the hole is filled either way
    untouched = (strength == 0) & ~hole
    assert np.array_equal(out[untouched], stained[untouched]) and np.array_equal(plain[~hole], stained[~hole])
    with pytest.raises(masks.MaskError, match="stain map must be uint8 120×96"):
        manager.run(stained, mask, stains=np.zeros((10, 10), np.uint8))
