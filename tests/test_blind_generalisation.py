"""benchmarks/blind_generalisation.py: photo groups by source package, and a tiny end-to-end run whose table
holds every family with its seen/unseen mark and the clean-photo false alarms."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR
from tests.benchmark_modules import benchmark_module


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("blind_generalisation") as module:
        yield module


def test_photos_are_grouped_by_source_package(bench, tmp_path: Path) -> None:
    for name in ("gcompris-qt-data__b.png", "gcompris-qt-data__a.png", "mate-backgrounds__x.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    groups = bench.photo_groups(tmp_path, limit=1)
    assert [p.name for p in groups["gcompris-qt-data (val)"]] == ["gcompris-qt-data__a.png"]
    assert [p.name for p in groups["other packages (val, wallpapers)"]] == ["mate-backgrounds__x.png"]
    held_out = bench.photo_groups(tmp_path, limit=1, split="unseen")  # one group, twice the photos
    assert [p.name for p in held_out["held-out source (unseen split)"]] == ["gcompris-qt-data__a.png", "gcompris-qt-data__b.png"]


def test_tiny_run_reports_seen_and_unseen(bench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    val = tmp_path / "photos" / "val"
    val.mkdir(parents=True)
    for i, (package, sample) in enumerate((("gcompris-qt-data", "chelsea.png"), ("lxqt-themes", "coffee.png"))):
        image = cv2.resize(load_rgb(SAMPLES_DIR / sample), (80, 64), interpolation=cv2.INTER_AREA)
        Image.fromarray(image).save(val / f"{package}__{i}.png")
    monkeypatch.setattr(bench, "user_cache_dir", lambda: tmp_path)
    out = tmp_path / "report.md"
    assert bench.main(["--size", "64", "--limit", "1", "--methods", "classical_restore",
                       "--families", "scratch,coffee", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| scratch | scratch | seen |" in text and "| coffee | stain | unseen |" in text
    assert "| classical_restore |" in text and "false alarms" in text
    row = next(line for line in text.splitlines() if line.startswith("| coffee |"))
    assert np.isfinite(float(row.split("|")[4]))  # the input PSNR


def test_unknown_family_is_refused(bench) -> None:
    with pytest.raises(SystemExit, match="unknown damage family nope"):
        bench.main(["--families", "nope"])
