"""No shipped learned fill is visibly broken: on the bundled photos it beats a flat mean-colour fill and shows
no checkerboard (engine/floor.py). The check itself is shown to catch a checkerboard and a flat-or-worse fill."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inpaint_studio.core.paths import SHIPPED_MODELS_DIR
from inpaint_studio.engine import base
from inpaint_studio.engine.floor import FloorResult, floor_check

pytestmark = pytest.mark.shipped_models


def _shipped_fills() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SHIPPED_MODELS_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("format") == "inpaint-studio-checkpoint":
            out.append((path.stem, doc["method"]))
    return out


@pytest.mark.parametrize("stem,method", _shipped_fills(), ids=[s for s, _ in _shipped_fills()])
def test_every_shipped_checkpoint_clears_the_floor(stem, method):
    result = floor_check(method, SHIPPED_MODELS_DIR / f"{stem}.safetensors")
    assert result.passed, f"{stem}: {result.describe()}"


class _Checkerboard(base.InpaintMethod):
    """Telea plus a ±12 grey-level 4-px checkerboard in the hole: what an upsampled transposed conv leaves."""

    name = "test_checkerboard"

    def fill_hole(self, image, mask, edges, progress, cancel):
        out = base.create_method("telea").fill_hole(image, mask, None, None, None).astype(int)
        yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
        grid = ((yy // 4 + xx // 4) % 2 * 2 - 1)[..., None] * 12
        return np.where(mask[..., None] > 127, np.clip(out + grid, 0, 255), out).astype(np.uint8)


class _BrokenOnThin(base.InpaintMethod):
    """Telea, but thin holes (under 12 % of the photo) painted 60 grey levels too bright: fine on average."""

    name = "test_broken_on_thin"

    def fill_hole(self, image, mask, edges, progress, cancel):
        out = base.create_method("telea").fill_hole(image, mask, None, None, None).astype(int)
        if (mask > 127).mean() < 0.12:
            out = np.where(mask[..., None] > 127, np.clip(out + 60, 0, 255), out)
        return out.astype(np.uint8)


class _Black(base.InpaintMethod):
    name = "test_black"

    def fill_hole(self, image, mask, edges, progress, cancel):
        return np.zeros_like(image)


@pytest.fixture
def broken(monkeypatch):
    base._ensure_builtin_methods()
    for cls in (_Checkerboard, _Black, _BrokenOnThin):
        monkeypatch.setitem(base._REGISTRY, cls.name, base.MethodSpec(cls.name, "", cls.capabilities, cls))


def test_the_floor_catches_a_checkerboard_and_a_fill_worse_than_flat(broken):
    telea = floor_check("telea")
    assert telea.passed and telea.periodic < 1.2
    checker = floor_check("test_checkerboard")
    assert checker.l1_hole < checker.flat_l1_hole  # L1 alone would let it through
    assert not checker.passed and checker.periodic > 2
    black = floor_check("test_black")
    assert not black.passed and black.l1_hole > black.flat_l1_hole
    thin = floor_check("test_broken_on_thin")
    assert thin.l1_hole < thin.flat_l1_hole  # the average alone would let it through ...
    assert not thin.passed and thin.worst_shape == "thin" and thin.worst_ratio > 1.1  # ... its thin fills do not


def test_describe_says_why():
    assert FloorResult(30.0, 25.0, 3.0).describe().startswith("hole L1 30.00 vs a flat fill's 25.00")
