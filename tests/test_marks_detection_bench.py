"""benchmarks/marks_detection.py: recall, precision and false finds count what a network marks, and a tiny run
over the shipped checkpoint's marks network prints a row per family."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint_studio.core.imageio import load_rgb, save_image
from inpaint_studio.core.paths import SAMPLES_DIR
from tests.benchmark_modules import benchmark_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    with benchmark_module("marks_detection") as module:
        yield module


class _Constant(torch.nn.Module):
    """Marks every pixel (logit +20) or none (−20)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x[:, :1], self.value)


def test_counts_follow_what_the_network_marks(bench) -> None:
    photo = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (160, 128), interpolation=cv2.INTER_AREA)
    photos = [("g", "a.png", photo), ("g", "b.png", photo[:, ::-1].copy())]
    result = bench.measure({"all": _Constant(20.0), "none": _Constant(-20.0)}, photos, ("hairline",), 0.85)
    all_rows = np.array(result["rows"][("all", "hairline", "g")])
    none_rows = np.array(result["rows"][("none", "hairline", "g")])
    assert (all_rows[:, 0] == 1).all() and (all_rows[:, 1] < 0.5).all() and (all_rows[:, 2] > 0.5).all()
    assert (none_rows[:, 0] == 0).all() and (none_rows[:, 2] == 0).all()
    assert result["clean"][("all", "g")] == [1.0, 1.0] and result["clean"][("none", "g")] == [0.0, 0.0]
    text = bench.report(result, ["all", "none"], ["g"], ("hairline",))
    assert "| all | hairline | 1.00 /" in text and "| none | clean photos: share marked | 0.00 % (max 0.00) |" in text


def test_a_tiny_run_over_the_shipped_marks_network(bench, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "a.png", load_rgb(SAMPLES_DIR / "chelsea.png"))
    assert bench.main([str(ROOT / "models" / "vcnet-small.safetensors"), "--photos", str(folder),
                       "--families", "hairline,foxing"]) == 0
    out = capsys.readouterr().out
    assert "1 photos" in out and "| vcnet-small | hairline |" in out and "| vcnet-small | foxing | — / — /" in out
