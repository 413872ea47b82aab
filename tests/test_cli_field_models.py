"""`inpaint-studio inpaint --model NAME` fills a photo with each field method's shipped checkpoint (Context
Encoder, GLCIC, PGGAN, DeepFill v1): the file is written, only the hole changes, and most of it is filled."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method

pytestmark = [pytest.mark.shipped_models, pytest.mark.usefixtures("one_torch_thread")]


@pytest.mark.parametrize("name", ["context_encoder", "glcic", "pggan", "deepfill_v1"])
def test_inpaint_fills_a_photo_with_each_field_methods_shipped_checkpoint(name, tmp_path):
    if not create_method(name).is_available():
        pytest.skip(f"no {name} checkpoint ships")
    photo = load_rgb(SAMPLES_DIR / "chelsea.png")[:160, :200]
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[50:100, 60:130] = 255
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    argv = ["inpaint", str(tmp_path / "photo.png"), "--mask", str(tmp_path / "mask.png"), "--model", name, "-o", str(out)]
    assert cli.main(argv) == 0
    filled = load_rgb(out)
    hole = mask > 0
    assert filled.shape == photo.shape
    assert np.array_equal(filled[~hole], photo[~hole])
    assert (filled[hole] != photo[hole]).any(axis=-1).mean() > 0.5
