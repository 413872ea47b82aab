"""PatchMatch: reproducible from its seed, cancellable, any image size and hole shape, and photo-like detail."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from inpaint_studio.core.errors import Cancelled, MaskError
from inpaint_studio.core.hd import HDConfig, HDStrategy
from inpaint_studio.core.imageio import load_rgb
from inpaint_studio.core.metrics import detail_ratio
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.manager import ModelManager


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_rgb(SAMPLES_DIR / "chelsea.png")


def _hole(shape: tuple[int, ...], y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = 255
    return mask


def test_the_same_seed_gives_the_same_fill_and_another_seed_another(photo):
    mask = _hole(photo.shape, 100, 120, 180, 220)
    a = create_method("patchmatch", seed=7).inpaint(photo, mask)
    b = create_method("patchmatch", seed=7).inpaint(photo, mask)
    c = create_method("patchmatch", seed=8).inpaint(photo, mask)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pixels_outside_the_hole_never_change_and_the_hole_is_filled(photo):
    mask = _hole(photo.shape, 100, 120, 180, 220)
    out = create_method("patchmatch").inpaint(photo, mask)
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    assert np.abs(out[mask > 0].astype(int) - photo[mask > 0]).mean() < 40  # a fill, not black or noise


def test_patchmatch_keeps_the_photos_detail_where_diffusion_blurs(photo):
    mask = _hole(photo.shape, 100, 120, 180, 220)
    patch = create_method("patchmatch").inpaint(photo, mask)
    telea = create_method("telea").inpaint(photo, mask)
    assert detail_ratio(patch, photo, mask) > 0.8
    assert detail_ratio(telea, photo, mask) < 0.5


def test_a_one_pixel_photo_all_hole_is_refused_with_a_plain_message():
    """Nothing known is left to fill from: the pipeline says so, whether called directly or by the manager."""
    with pytest.raises(MaskError, match="whole image"):
        create_method("patchmatch").inpaint(np.zeros((1, 1, 3), np.uint8), np.full((1, 1), 255, np.uint8))


@pytest.mark.parametrize("h,w", [(2, 1), (3, 5), (8, 8), (1, 40), (131, 257)])
def test_odd_and_tiny_sizes(h, w):
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[h // 2, w // 2] = 255
    out = create_method("patchmatch").inpaint(image, mask)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[mask == 0], image[mask == 0])


def test_one_pixel_hole_takes_a_neighbours_colour():
    image = np.full((32, 32, 3), 90, np.uint8)
    image[16, 16] = (255, 0, 0)  # the spot to remove
    mask = _hole(image.shape, 16, 16, 17, 17)
    out = create_method("patchmatch").inpaint(image, mask)
    assert tuple(out[16, 16]) == (90, 90, 90)


def test_a_hole_touching_the_border(photo):
    mask = _hole(photo.shape, 0, 0, 60, photo.shape[1])  # the whole top band, corners included
    out = create_method("patchmatch").inpaint(photo, mask)
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    assert out[:60].std() > 5  # texture was copied in, not a flat colour


def test_a_hole_covering_nearly_everything():
    image = np.zeros((40, 40, 3), np.uint8)
    image[39, 39] = (10, 200, 30)
    mask = np.full((40, 40), 255, np.uint8)
    mask[39, 39] = 0
    out = create_method("patchmatch").inpaint(image, mask)
    assert out.shape == image.shape
    assert tuple(out[39, 39]) == (10, 200, 30)
    assert (out == (10, 200, 30)).all(axis=2).mean() > 0.9  # the only known colour fills the hole


def test_cancel_stops_a_running_fill_in_its_child_process(photo):
    big = np.ascontiguousarray(np.tile(photo, (3, 3, 1)))
    mask = _hole(big.shape, 50, 50, big.shape[0] - 50, big.shape[1] - 50)
    calls = []
    started = threading.Event()

    def cancel() -> bool:
        calls.append(1)
        if len(calls) > 3:  # the child has been polled a few times: it is running
            started.set()
            return True
        return False

    method = create_method("patchmatch", patch_size=5)
    with pytest.raises(Cancelled):
        method.inpaint(big, mask, cancel=cancel)
    assert started.is_set()  # it was stopped while running, not before it began


def test_under_the_crop_strategy_of_a_large_photo(photo):
    big = np.ascontiguousarray(np.tile(photo, (4, 4, 1)))  # 1200 × 1804
    mask = _hole(big.shape, 500, 700, 560, 780)
    manager = ModelManager(hd_config=HDConfig(strategy=HDStrategy.CROP))
    manager.activate("patchmatch")
    out = manager.run(big, mask)
    assert np.array_equal(out[mask == 0], big[mask == 0])
    assert not np.array_equal(out[mask > 0], big[mask > 0])


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="patch_size"):
        create_method("patchmatch", patch_size=0)
    with pytest.raises(ValueError, match="seed"):
        create_method("patchmatch", seed=-1)


def test_cli_inpaint_and_batch_with_patchmatch(tmp_path, photo):
    from PIL import Image

    from inpaint_studio import cli

    mask = _hole(photo.shape, 100, 120, 160, 200)
    Image.fromarray(photo).save(tmp_path / "cat.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    args = ["--mask", str(tmp_path / "mask.png"), "--model", "patchmatch", "--option", "seed=4"]
    assert cli.main(["inpaint", str(tmp_path / "cat.png"), *args, "-o", str(tmp_path / "out.png")]) == 0
    expected = create_method("patchmatch", seed=4).inpaint(photo, mask)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png").convert("RGB")), expected)
    (tmp_path / "in").mkdir()
    Image.fromarray(photo).save(tmp_path / "in" / "cat.png")
    assert cli.main(["batch", "--images", str(tmp_path / "in"), "--masks", str(tmp_path / "mask.png"),
                     "--model", "patchmatch", "--option", "seed=4", "-o", str(tmp_path / "out")]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "cat.png").convert("RGB")), expected)
