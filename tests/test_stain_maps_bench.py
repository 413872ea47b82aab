"""benchmarks/stain_maps.py: the settings reach the method, clean photos are counted as changed or not, and a
tiny run over the shipped checkpoint prints one table row per setting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from inpaint_studio.core.imageio import load_rgb, save_image
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.core.tint import fit_tint
from tests.benchmark_modules import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("stain_maps") as module:
        yield module


class _Oracle:
    """Finds exactly the darkening against the clean photo it knows, but only at thresholds below 0.9."""

    def __init__(self, clean: np.ndarray) -> None:
        self.clean, self.meta = clean, {}

    def stains_and_tint(self, image, cancel):
        if self.meta["blind"]["stains"]["threshold"] >= 0.9:
            return np.zeros(image.shape[:2], np.float32), None
        luma = np.array([0.299, 0.587, 0.114], np.float32)
        dark = 1 - (image.astype(np.float32) @ luma + 1) / (self.clean.astype(np.float32) @ luma + 1)
        found = np.where(dark > 0.02, dark, 0).astype(np.float32)
        return (found, fit_tint(image, found)) if found.any() else (found, None)


def test_settings_reach_the_method_and_clean_photos_count(bench) -> None:
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (192, 192), interpolation=cv2.INTER_AREA)
    results = bench.measure(_Oracle(clean), [clean], ("coffee",), [0.5, 0.95], [0])
    assert results[(0.5, 0, "clean")] == [(0.0, False)]  # nothing darker: nothing found, nothing changed
    gain, changed = results[(0.5, 0, "coffee")][0]
    assert changed and gain > 1.0  # the tint of a found blot removed
    assert results[(0.95, 0, "coffee")] == [(0.0, False)]  # the threshold reached the method
    text = bench.table(results, ("coffee",))
    assert text.count("\n") == 3 and "| 0.5 | 0 | 0 (+0.00 dB) |" in text


def test_a_tiny_run_over_the_shipped_checkpoint(bench, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "a.png", load_rgb(SAMPLES_DIR / "chelsea.png"))
    assert bench.main(["--photos", str(folder), "--size", "96", "--thresholds", "0.9", "--small-areas", "0,400",
                       "--families", "coffee"]) == 0
    out = capsys.readouterr().out
    assert "1 photos of the --photos" in out and out.count("| 0.9 |") == 2


class _Correcting:
    """A correcting stain network's method: takes the darkening it knows off, in full when it is at least
    `min_change` grey levels (its 90th percentile here: the whole blot's)."""

    corrects_stains = True

    def __init__(self, clean: np.ndarray) -> None:
        self.clean, self.meta = clean, {}

    def stain_change(self, image):
        change = self.clean.astype(np.float32) - image.astype(np.float32)
        size = np.abs(change).max(-1)
        least = self.meta["blind"]["stains"]["min_change"]
        if not size.any() or np.percentile(size[size > 0], 90) < least:
            return np.zeros_like(change)
        return change


def test_a_correcting_network_varies_its_region_rule(bench) -> None:
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (192, 192), interpolation=cv2.INTER_AREA)
    results = bench.measure_correction(_Correcting(clean), [clean], ("coffee",), [0, 500])
    assert results[(0, 0.0, "clean")] == [(0.0, False)]
    gain, changed = results[(0, 0.0, "coffee")][0]
    assert changed and gain > 10  # the blot taken off exactly
    assert results[(500, 0.0, "coffee")] == [(0.0, False)]  # the rule reached the method
    assert "| min change (grey levels) | — |" in bench.table(results, ("coffee",), "min change (grey levels) | —")
