"""ModelManager: lazy loading, safe switching, validation, HD strategy and the final composite."""

from __future__ import annotations

import threading

import imagegen as gen
import numpy as np
import pytest

from inpaint_studio.core.errors import (
    Cancelled,
    CheckpointError,
    InpaintStudioError,
    MaskError,
    ModelUnavailableError,
    UnknownModelError,
)
from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.engine import base
from inpaint_studio.engine.base import Capabilities, InpaintMethod, MaskPrediction, register_method
from inpaint_studio.engine.manager import ModelManager


class FakeMethod(InpaintMethod):
    """Fills with a constant and scribbles outside the hole too (the manager must undo that)."""

    name = "fake_ok"
    capabilities = Capabilities(learned=True, accepts_edges=True)

    def __init__(self, value: int = 77, device: str = "auto") -> None:
        self.value, self.device = value, device
        self._loaded = False
        self.loads = self.unloads = 0
        self.seen_shapes: list[tuple[int, ...]] = []
        self.seen_edges: list[np.ndarray | None] = []

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        self.loads += 1
        self._loaded = True

    def unload(self) -> None:
        self.unloads += 1
        self._loaded = False

    def fill_hole(self, image, mask, edges, progress, cancel):
        assert self._loaded, "fill before load"
        self.seen_shapes.append(image.shape)
        self.seen_edges.append(edges)
        out = np.full_like(image, self.value)  # outside pixels wrong on purpose
        return out


class BrokenMethod(FakeMethod):
    name = "fake_broken"

    def load(self) -> None:
        raise CheckpointError("fake_broken.safetensors is truncated")


class BlindMethod(FakeMethod):
    """Finds its own damage: pixels that are pure white."""

    name = "fake_blind"
    capabilities = Capabilities(needs_mask=False, blind=True, predicts_mask=True)

    def predict_mask(self, image, progress=None, cancel=None):
        mask = np.where((image == 255).all(axis=2), 255, 0).astype(np.uint8)
        return MaskPrediction(mask.astype(np.float32) / 255, mask)

    def blind_hole(self, image, progress, cancel):
        return self.predict_mask(image).mask


@pytest.fixture(autouse=True)
def fake_registry(monkeypatch):
    # A private copy so the fakes never leak into other tests' method lists; built-ins registered first.
    base.method_names()
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    register_method(FakeMethod)
    register_method(BrokenMethod)
    register_method(BlindMethod)


def _case(h: int = 48, w: int = 64):
    image = gen.textured(h, w, seed=4)
    mask = gen.box_mask(h, w, h // 4, w // 4, h // 2, w // 2)
    return image, mask


def test_activate_is_lazy_and_run_loads_once():
    manager = ModelManager(device="cpu")
    method = manager.activate("fake_ok")
    assert not method.loaded and method.device == "cpu"
    image, mask = _case()
    manager.run(image, mask)
    manager.run(image, mask)
    assert method.loads == 1 and method.loaded


def test_result_is_exactly_the_input_outside_the_mask():
    manager = ModelManager()
    manager.activate("fake_ok", value=5)
    image, mask = _case()
    out = manager.run(image, mask)
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert (out[mask > 0] == 5).all()


def test_soft_mask_is_thresholded_once_for_every_stage():
    """Faint mask pixels (1..127) are known pixels: neither filled nor pasted back, under any strategy."""
    image, mask = _case(64, 96)
    soft = mask.copy()
    soft[:8, :8] = 100  # faint, outside the real hole
    for strategy in (HDStrategy.ORIGINAL, HDStrategy.CROP):
        manager = ModelManager(hd_config=HDConfig(strategy=strategy, crop_margin=4))
        manager.activate("fake_ok", value=5)
        out = manager.run(image, soft)
        assert np.array_equal(out[:8, :8], image[:8, :8])
        assert (out[mask > 127] == 5).all()


def test_switching_unloads_the_previous_model():
    manager = ModelManager()
    first = manager.activate("fake_ok", load=True)
    second = manager.activate("fake_ok", load=True, value=9)
    assert not first.loaded and second.loaded and manager.method is second


def test_failing_eager_load_keeps_previous_model_active():
    manager = ModelManager()
    first = manager.activate("fake_ok", load=True)
    with pytest.raises(CheckpointError):
        manager.activate("fake_broken", load=True)
    assert manager.active_name == "fake_ok" and manager.method is first and first.loaded
    image, mask = _case()
    assert (manager.run(image, mask)[mask > 0] == 77).all()


def test_failing_lazy_load_falls_back_to_previous_model():
    manager = ModelManager()
    first = manager.activate("fake_ok", load=True)
    manager.activate("fake_broken")
    assert first.loaded  # not freed until the new one has loaded
    image, mask = _case()
    with pytest.raises(CheckpointError):
        manager.run(image, mask)
    assert manager.active_name == "fake_ok" and manager.method is first
    assert (manager.run(image, mask)[mask > 0] == 77).all()


def test_lazy_switch_frees_previous_once_new_model_loads():
    manager = ModelManager()
    first = manager.activate("fake_ok", load=True)
    second = manager.activate("fake_ok", value=1)
    image, mask = _case()
    manager.run(image, mask)
    assert second.loaded and not first.loaded


def test_unknown_model_changes_nothing():
    manager = ModelManager()
    manager.activate("telea")
    with pytest.raises(UnknownModelError):
        manager.activate("no_such_model")
    assert manager.active_name == "telea"


def test_bad_option_is_a_clear_error():
    with pytest.raises(InpaintStudioError, match="telea"):
        ModelManager().activate("telea", colour="blue")


def test_cancel_raises_cancelled_and_nothing_runs():
    manager = ModelManager()
    method = manager.activate("fake_ok")
    image, mask = _case()
    with pytest.raises(Cancelled):
        manager.run(image, mask, cancel=lambda: True)
    assert method.seen_shapes == []


def test_resize_strategy_feeds_the_method_a_smaller_image():
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.RESIZE, resize_limit=128))
    method = manager.activate("fake_ok")
    image, mask = _case(300, 400)
    out = manager.run(image, mask)
    assert max(method.seen_shapes[0][:2]) == 128
    assert np.array_equal(out[mask == 0], image[mask == 0])


def test_crop_strategy_fills_each_region_separately():
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.CROP, crop_margin=8))
    method = manager.activate("fake_ok")
    image = gen.textured(200, 300, seed=5)
    mask = gen.box_mask(200, 300, 10, 10, 20, 20) | gen.box_mask(200, 300, 170, 270, 180, 280)
    out = manager.run(image, mask)
    assert len(method.seen_shapes) == 2 and all(s[0] < 50 and s[1] < 50 for s in method.seen_shapes)
    assert (out[mask > 0] == 77).all() and np.array_equal(out[mask == 0], image[mask == 0])


def test_per_call_hd_config_overrides_the_default():
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.RESIZE, resize_limit=64))
    method = manager.activate("fake_ok")
    image, mask = _case(100, 200)
    manager.run(image, mask, hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    assert method.seen_shapes == [image.shape]


def test_edges_passed_through_when_accepted_and_dropped_otherwise():
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.ORIGINAL))
    method = manager.activate("fake_ok")
    image, mask = _case()
    edges = np.zeros(mask.shape, np.uint8)
    edges[5, :] = 255
    manager.run(image, mask, edges)
    assert np.array_equal(method.seen_edges[0], edges)
    with pytest.raises(MaskError):
        manager.run(image, mask, edges[:10])
    manager.activate("telea")
    manager.run(image, mask, edges[:10])  # telea ignores edges entirely


@pytest.mark.parametrize(
    ("image", "mask", "error"),
    [
        (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.uint8), InpaintStudioError),
        (np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8), InpaintStudioError),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9), np.uint8), MaskError),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool), MaskError),
        (np.zeros((8, 8, 3), np.uint8), None, MaskError),
    ],
)
def test_bad_inputs_are_rejected(image, mask, error):
    manager = ModelManager()
    manager.activate("telea")
    with pytest.raises(error):
        manager.run(image, mask)


def test_empty_mask_returns_a_copy_without_loading():
    manager = ModelManager()
    method = manager.activate("fake_ok")
    image = gen.textured(16, 16)
    out = manager.run(image, np.zeros((16, 16), np.uint8))
    assert np.array_equal(out, image) and out is not image and method.loads == 0


def test_no_model_and_missing_capabilities_are_clear_errors():
    manager = ModelManager()
    image, mask = _case()
    with pytest.raises(ModelUnavailableError):
        manager.run(image, mask)
    manager.activate("telea")
    with pytest.raises(ModelUnavailableError, match="telea"):
        manager.predict_mask(image)
    with pytest.raises(ModelUnavailableError, match="telea"):
        manager.predict_edges(image, mask)


def test_unavailable_model_reports_how_to_get_weights(monkeypatch):
    monkeypatch.setattr(FakeMethod, "is_available", lambda self: False)
    manager = ModelManager()
    manager.activate("fake_ok")
    image, mask = _case()
    with pytest.raises(ModelUnavailableError, match="models import"):
        manager.run(image, mask)


class OverlapRecorder(FakeMethod):
    """Records whether two fills ever ran at once: each holds the method for a moment, long enough for a
    second thread to enter if nothing serialises them."""

    name = "fake_overlap"
    inside = 0
    most_inside = 0
    _count = threading.Lock()

    def fill_hole(self, image, mask, edges, progress, cancel):
        with self._count:
            OverlapRecorder.inside += 1
            OverlapRecorder.most_inside = max(OverlapRecorder.most_inside, OverlapRecorder.inside)
        try:
            threading.Event().wait(0.05)
            return super().fill_hole(image, mask, edges, progress, cancel)
        finally:
            with self._count:
                OverlapRecorder.inside -= 1


def test_concurrent_runs_from_several_threads_are_serialised():
    register_method(OverlapRecorder)
    manager = ModelManager()
    manager.activate("fake_overlap")
    image, mask = _case()
    start = threading.Barrier(4)
    results: list[np.ndarray] = []

    def run() -> None:
        start.wait()
        results.append(manager.run(image, mask))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert OverlapRecorder.most_inside == 1  # 4 without the manager's lock


def test_blind_model_runs_without_a_mask_and_predicts_one():
    manager = ModelManager()
    manager.activate("fake_blind", value=3)
    image, damage = _case()
    dirty = image.copy()
    dirty[damage > 0] = 255
    assert np.array_equal(manager.predict_mask(dirty).mask, damage)
    out = manager.run(dirty, None)
    assert (out[damage > 0] == 3).all() and np.array_equal(out[damage == 0], image[damage == 0])


def test_device_resolution(monkeypatch):
    import torch

    from inpaint_studio.engine.device import available_devices, resolve_device

    assert "cpu" in available_devices()
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in available_devices()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "cuda" not in available_devices()
    with pytest.raises(ModelUnavailableError, match="cuda"):
        resolve_device("cuda")
    with pytest.raises(ModelUnavailableError, match="tpu"):
        resolve_device("tpu")


def test_a_mask_that_leaves_nothing_known_is_refused_before_the_method_runs():
    manager = ModelManager()
    method = manager.activate("fake_ok")
    image = gen.textured(16, 16)
    with pytest.raises(MaskError, match="covers the whole image"):
        manager.run(image, np.full((16, 16), 255, np.uint8))
    assert method.seen_shapes == []
    almost = np.full((16, 16), 255, np.uint8)
    almost[0, 0] = 0  # one known pixel is enough to fill from
    assert manager.run(image, almost)[0, 0].tolist() == image[0, 0].tolist()
