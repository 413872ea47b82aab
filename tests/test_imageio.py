"""Image loading and saving: orientation, colour modes, alpha/EXIF/ICC round trips, atomic saves, errors."""

from __future__ import annotations

import os
import sys

import imagegen as gen
import numpy as np
import pytest
from PIL import Image, ImageFile

from inpaint_studio.core import imageio
from inpaint_studio.core.errors import ImageLoadError, ImageSaveError
from inpaint_studio.core.imageio import decode_image, load_image, load_rgb, save_image
from inpaint_studio.core.paths import SAMPLES_DIR

# Upright layout for each EXIF orientation value, given the stored pixels.
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1, :],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


def _max_diff(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int(np.abs(a.astype(int) - b.astype(int)).max())


def _exif_tags(exif: bytes) -> dict:
    parsed = Image.Exif()
    parsed.load(exif)
    return dict(parsed)


# --- orientation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    stored = gen.gradient(24, 40)
    path = gen.jpeg_with_orientation(tmp_path / "o.jpg", stored, orientation)
    loaded = load_image(path)
    expected = UPRIGHT[orientation](stored)
    # JPEG noise is a few levels; a wrong layout differs by ~100 somewhere.
    assert _max_diff(loaded.rgb, expected) <= 8
    assert loaded.rgb.flags["C_CONTIGUOUS"]
    tags = _exif_tags(loaded.exif)
    assert tags[gen.ORIENTATION] == 1  # pixels are upright now
    assert tags[0x010F] == "TestCam"  # the rest of the EXIF is kept


def test_saved_exif_does_not_rotate_again(tmp_path):
    stored = gen.gradient(24, 40)
    first = load_image(gen.jpeg_with_orientation(tmp_path / "o.jpg", stored, 6))
    out = save_image(tmp_path / "out.png", first.rgb, exif=first.exif)
    again = load_image(out)
    assert np.array_equal(again.rgb, first.rgb)
    assert _exif_tags(again.exif)[0x010F] == "TestCam"


# --- colour modes ----------------------------------------------------------------------------------


def test_png_with_wrong_extension_loads_by_content(tmp_path):
    rgb = gen.textured(20, 30)
    path = gen.write(tmp_path / "really_a_png.jpg", gen.encode(rgb, "PNG"))
    loaded = load_image(path)
    assert loaded.format == "PNG"
    assert np.array_equal(loaded.rgb, rgb)
    assert loaded.path == path


def test_grey_becomes_three_equal_channels(tmp_path):
    grey = gen.textured(16, 16)[:, :, 0]
    path = gen.write(tmp_path / "g.png", gen.encode(grey, "PNG"))
    rgb = load_rgb(path)
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8
    for c in range(3):
        assert np.array_equal(rgb[:, :, c], grey)


def test_16bit_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 1000, 32768, 65535]], np.uint16)
    loaded = load_image(gen.png16_grey(tmp_path / "deep.png", values))
    # Clipping would make everything above 255 white; scaling maps 65535 → 255, 32768 → 128.
    assert loaded.rgb[0, :, 0].tolist() == [0, 1, 4, 128, 255]


def test_float_and_int32_tiffs_are_scaled(tmp_path):
    loaded = load_image(gen.tiff_float(tmp_path / "f.tif", np.array([[0.0, 0.5, 1.0]])))
    assert loaded.rgb[0, :, 0].tolist() == [0, 128, 255]
    loaded = load_image(gen.tiff_int32(tmp_path / "i.tif", np.array([[0, 65535, 514]])))
    assert loaded.rgb[0, :, 0].tolist() == [0, 255, 2]


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path, _ = gen.cmyk_jpeg(tmp_path / "cmyk.jpg")
    loaded = load_image(path)
    assert loaded.rgb.shape == (32, 40, 3)
    assert _max_diff(loaded.rgb[:, :16], np.broadcast_to(np.array([0, 255, 255], np.uint8), (32, 16, 3))) <= 6
    assert _max_diff(loaded.rgb[:, 24:], np.broadcast_to(np.array([255, 255, 0], np.uint8), (32, 16, 3))) <= 6
    assert loaded.icc_profile is None


@pytest.mark.parametrize("transparent", [None, 2])
def test_palette_png(tmp_path, transparent):
    path, expected, index = gen.palette_png(tmp_path / "p.png", transparent)
    loaded = load_image(path)
    assert np.array_equal(loaded.rgb, expected)
    if transparent is None:
        assert loaded.alpha is None
    else:
        assert np.array_equal(loaded.alpha, np.where(index == transparent, 0, 255))


def test_grey_with_alpha(tmp_path):
    grey = gen.textured(12, 14)[:, :, 1]
    alpha = np.tile(np.linspace(0, 255, 14).astype(np.uint8), (12, 1))
    loaded = load_image(gen.grey_alpha_png(tmp_path / "la.png", grey, alpha))
    assert np.array_equal(loaded.rgb[:, :, 2], grey)
    assert np.array_equal(loaded.alpha, alpha)


def test_animated_gif_first_frame(tmp_path):
    frames = [np.full((10, 12, 3), c, np.uint8) for c in ([200, 10, 10], [10, 200, 10], [10, 10, 200])]
    loaded = load_image(gen.animated_gif(tmp_path / "a.gif", frames))
    assert np.array_equal(loaded.rgb, frames[0])


def test_one_pixel_image(tmp_path):
    rgb = np.array([[[1, 2, 3]]], np.uint8)
    assert np.array_equal(load_rgb(gen.write(tmp_path / "1.png", gen.encode(rgb, "PNG"))), rgb)


def test_decode_image_from_bytes():
    rgb = gen.textured(8, 9)
    loaded = decode_image(gen.encode(rgb, "PNG"), "clipboard")
    assert np.array_equal(loaded.rgb, rgb) and loaded.path is None


# --- bad files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="nope.png.*no such file"):
        load_image(tmp_path / "nope.png")


def test_directory(tmp_path):
    with pytest.raises(ImageLoadError, match="directory"):
        load_image(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageLoadError, match="pipe.png.*not a regular file"):
        load_image(tmp_path / "pipe.png")


def test_huge_non_image_is_refused_from_its_first_bytes(tmp_path):
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(1024**3)  # sparse: 1 GiB of zeros that takes no disk space
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(path)


def test_zero_bytes(tmp_path):
    with pytest.raises(ImageLoadError, match="empty.png.*empty"):
        load_image(gen.write(tmp_path / "empty.png", b""))


def test_not_an_image(tmp_path):
    with pytest.raises(ImageLoadError, match="notes.jpg.*not an image"):
        load_image(gen.write(tmp_path / "notes.jpg", b"shopping list: eggs, milk\n" * 20))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_files_are_refused(tmp_path, fmt):
    data = gen.encode(gen.textured(64, 64), fmt)
    path = gen.write(tmp_path / f"cut.{fmt.lower()}", data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="cut.*truncated"):
        load_image(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # never flipped globally


def test_header_claiming_huge_size_is_refused_with_its_size(tmp_path):
    path = gen.write(tmp_path / "bomb.png", gen.png_claiming_size(100_000, 100_000))
    with pytest.raises(ImageLoadError, match=r"bomb.png.*100000×100000 pixels, over the 200-megapixel limit"):
        load_image(path)


def test_project_limit_applies_not_pillows(monkeypatch):
    data = gen.encode(gen.textured(100, 100), "PNG")
    # Pillow's own threshold below the image: we still open it, because our limit is what applies.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert decode_image(data).rgb.shape == (100, 100, 3)
    monkeypatch.setattr(imageio, "MAX_PIXELS", 5000)
    with pytest.raises(ImageLoadError, match="100×100 pixels"):
        decode_image(data, "x.png")


# --- saving ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".png", ".webp", ".tif"])
def test_alpha_round_trip(tmp_path, ext):
    rgb = gen.textured(20, 24)
    alpha = np.tile(np.linspace(0, 255, 24).astype(np.uint8), (20, 1))
    options = {"quality": 100} if ext == ".webp" else {}
    loaded = load_image(save_image(tmp_path / f"a{ext}", rgb, alpha=alpha, **options))
    assert np.array_equal(loaded.alpha, alpha)
    if ext != ".webp":
        assert np.array_equal(loaded.rgb, rgb)


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_alpha_dropped_where_format_has_none(tmp_path, ext):
    rgb = gen.textured(20, 24)
    loaded = load_image(save_image(tmp_path / f"a{ext}", rgb, alpha=np.zeros((20, 24), np.uint8)))
    assert loaded.alpha is None
    # The colour is kept as is (alpha 0 everywhere must not turn it black or white).
    mean_error = np.abs(loaded.rgb.astype(int) - rgb.astype(int)).mean()
    assert mean_error < (4 if ext == ".jpg" else 1e-9)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".tif"])
def test_icc_and_exif_round_trip(tmp_path, ext):
    icc = gen.srgb_icc()
    exif = gen.exif_with(1, make="RoundTrip", software="inpaint")
    loaded = load_image(save_image(tmp_path / f"m{ext}", gen.textured(16, 16), exif=exif, icc_profile=icc))
    assert loaded.icc_profile == icc
    tags = _exif_tags(loaded.exif)
    assert tags[0x010F] == "RoundTrip" and tags[0x0131] == "inpaint"


def test_jpeg_quality_is_used(tmp_path):
    rgb = gen.textured(64, 64)
    low = save_image(tmp_path / "low.jpg", rgb, quality=30)
    high = save_image(tmp_path / "high.jpg", rgb, quality=95)
    assert low.stat().st_size < high.stat().st_size
    assert _max_diff(load_rgb(high), rgb) < _max_diff(load_rgb(low), rgb)


def test_refuses_to_overwrite(tmp_path):
    target = tmp_path / "photo.png"
    target.write_bytes(b"the user's original")
    with pytest.raises(ImageSaveError, match="photo.png.*already exists"):
        save_image(target, gen.textured(8, 8))
    assert target.read_bytes() == b"the user's original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_overwrite_when_allowed(tmp_path):
    target = tmp_path / "photo.png"
    target.write_bytes(b"old")
    rgb = gen.textured(8, 8)
    assert save_image(target, rgb, overwrite=True) == target
    assert np.array_equal(load_rgb(target), rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_failed_save_leaves_no_temp_and_original_untouched(tmp_path, monkeypatch):
    target = tmp_path / "photo.png"
    target.write_bytes(b"the user's original")

    def failing_save(self, fp, format=None, **params):
        fp.write(b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(ImageSaveError, match="photo.png.*No space left"):
        save_image(target, gen.textured(8, 8), overwrite=True)
    assert target.read_bytes() == b"the user's original"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_successful_save_leaves_only_the_file(tmp_path):
    save_image(tmp_path / "x.webp", gen.textured(8, 8))
    assert [p.name for p in tmp_path.iterdir()] == ["x.webp"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_file_has_normal_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = save_image(tmp_path / "p.png", gen.textured(8, 8))
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o640)  # a replaced file keeps the permissions the user gave it
    save_image(path, gen.textured(8, 8), overwrite=True)
    assert path.stat().st_mode & 0o777 == 0o640


def test_unknown_extension(tmp_path):
    with pytest.raises(ImageSaveError, match=r"unknown extension '\.gif'"):
        save_image(tmp_path / "x.gif", gen.textured(8, 8))
    assert list(tmp_path.iterdir()) == []


def test_too_wide_for_webp(tmp_path):
    with pytest.raises(ImageSaveError, match="WEBP images can be at most 16383 pixels.*16384×1; save it as PNG"):
        save_image(tmp_path / "wide.webp", np.zeros((1, 16384, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path):
    with pytest.raises(ImageSaveError, match="does not exist"):
        save_image(tmp_path / "no" / "x.png", gen.textured(8, 8))


def test_bad_array(tmp_path):
    with pytest.raises(ImageSaveError, match="RGB uint8"):
        save_image(tmp_path / "x.png", np.zeros((8, 8), np.float32))
    with pytest.raises(ImageSaveError, match="alpha"):
        save_image(tmp_path / "x.png", gen.textured(8, 8), alpha=np.zeros((4, 4), np.uint8))


# --- shipped samples -------------------------------------------------------------------------------


def test_samples_load_and_are_licensed():
    files = sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in (".png", ".jpg"))
    assert (SAMPLES_DIR / "astronaut.png") in files and len(files) >= 3
    licences = (SAMPLES_DIR / "LICENSES.md").read_text(encoding="utf-8")
    for path in files:
        rgb = load_rgb(path)
        assert rgb.ndim == 3 and max(rgb.shape[:2]) <= 512 and rgb.std() > 20  # a real photo
        assert f"`{path.name}`" in licences
    assert sum(p.stat().st_size for p in files) < 2_000_000
