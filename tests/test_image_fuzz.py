"""Robustness of image loading: whatever bytes a file holds, load_image either returns a valid RGB uint8
image or raises ImageLoadError. Never another exception type, never a crash.

The decoded-size limit is lowered to 4 MP for the fuzzing only, so that a mutated header claiming a
100-megapixel image costs nothing on a shared CI machine; refusing or accepting by size is the same code
path whatever the limit, and test_imageio checks the real limit."""

from __future__ import annotations

import faulthandler
import io
import struct
import zlib

import imagegen as gen
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from inpaint_studio.core import imageio
from inpaint_studio.core.errors import ImageLoadError
from inpaint_studio.core.imageio import LoadedImage, load_image

# Damaged EXIF blocks are expected here; imageio drops them (and silences this warning outside pytest,
# whose per-test warning capture resets filters registered at import).
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF:UserWarning")

FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure in CI reproduces locally
)


@pytest.fixture
def small_limit_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "MAX_PIXELS", 4_000_000)
    # A hang in a decoder would otherwise stall the suite silently: dump stacks and stop instead.
    faulthandler.dump_traceback_later(300, exit=True)
    yield tmp_path
    faulthandler.cancel_dump_traceback_later()


def _check(path) -> None:
    try:
        loaded = load_image(path)
    except ImageLoadError as exc:
        message = str(exc)
        assert message and "\n" not in message and path.name in message
        return
    assert isinstance(loaded, LoadedImage)
    rgb = loaded.rgb
    assert isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.shape[0] >= 1 and rgb.shape[1] >= 1 and rgb.flags["C_CONTIGUOUS"]
    assert rgb.shape[0] * rgb.shape[1] <= imageio.MAX_PIXELS
    if loaded.alpha is not None:
        assert loaded.alpha.dtype == np.uint8 and loaded.alpha.shape == rgb.shape[:2]
    assert loaded.exif is None or isinstance(loaded.exif, bytes)
    assert loaded.icc_profile is None or isinstance(loaded.icc_profile, bytes)


def _seeds() -> dict[str, bytes]:
    rgb = gen.textured(24, 32, seed=7)
    alpha = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (24, 1))
    rgba = np.dstack([rgb, alpha])
    frames = [Image.fromarray(np.full((12, 16, 3), c, np.uint8)) for c in (30, 140, 250)]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=40, loop=0)
    deep = io.BytesIO()
    Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 257).save(deep, format="PNG")
    pal = io.BytesIO()
    Image.fromarray(rgb).quantize(8).save(pal, format="PNG", transparency=0)
    cmyk = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(cmyk, format="JPEG")
    return {
        "png": gen.encode(rgb, "PNG"),
        "png_rgba": gen.encode(rgba, "PNG", icc_profile=gen.srgb_icc()),
        "png16": deep.getvalue(),
        "png_palette": pal.getvalue(),
        "jpeg": gen.encode(rgb, "JPEG", quality=80, exif=gen.exif_with(6, make="Fuzz")),
        "jpeg_progressive": gen.encode(rgb, "JPEG", progressive=True),
        "jpeg_cmyk": cmyk.getvalue(),
        "webp": gen.encode(rgb, "WEBP", quality=70),
        "webp_lossless_alpha": gen.encode(rgba, "WEBP", lossless=True),
        "gif": gif.getvalue(),
        "bmp": gen.encode(rgb, "BMP"),
        "tiff": gen.encode(rgb, "TIFF", compression="tiff_lzw"),
    }


SEEDS = _seeds()


def _mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buf = bytearray(data)
    for kind, position, value in edits:
        if not buf:
            break
        at = position % len(buf)
        if kind == "flip":
            buf[at] ^= 1 << (value % 8)
        elif kind == "set":
            buf[at] = value % 256
        elif kind == "truncate":
            del buf[at:]
        elif kind == "delete":
            del buf[at : at + 1 + value % 16]
        elif kind == "insert":
            buf[at:at] = bytes([value % 256]) * (1 + value % 16)
    return bytes(buf)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["flip", "set", "truncate", "delete", "insert"]),
        st.integers(0, 1 << 20),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=4,
)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes(small_limit_dir, data):
    path = small_limit_dir / "random.png"
    path.write_bytes(data)
    _check(path)


MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\x00\x01\x00\x00WEBPVP8 ", b"BM", b"II*\x00"]


@FUZZ_SETTINGS
@given(magic=st.sampled_from(MAGIC), rest=st.binary(max_size=1024))
def test_random_bytes_behind_a_real_signature(small_limit_dir, magic, rest):
    path = small_limit_dir / "signed.img"
    path.write_bytes(magic + rest)
    _check(path)


@FUZZ_SETTINGS
@given(name=st.sampled_from(sorted(SEEDS)), edits=EDITS)
def test_mutated_valid_files(small_limit_dir, name, edits):
    path = small_limit_dir / f"mutated_{name}.bin"
    path.write_bytes(_mutate(SEEDS[name], edits))
    _check(path)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_loads_unmutated(tmp_path, name):
    # The fuzzing starts from files that load; otherwise it would only ever test the error path.
    path = tmp_path / f"{name}.bin"
    path.write_bytes(SEEDS[name])
    loaded = load_image(path)
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.ndim == 3


# --- hand-made cases -------------------------------------------------------------------------------


def _png_chunks_with_bad_crc() -> bytes:
    data = bytearray(gen.encode(gen.textured(8, 8), "PNG"))
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


def _png_zero_width() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


HAND_MADE_ERRORS = {
    "zero_bytes": (b"", "empty"),
    "truncated_jpeg": (SEEDS["jpeg"][: len(SEEDS["jpeg"]) // 2], "truncated"),
    "truncated_png": (SEEDS["png"][: len(SEEDS["png"]) // 2], "truncated"),
    "only_png_signature": (b"\x89PNG\r\n\x1a\n", None),
    "huge_png_header": (gen.png_claiming_size(100_000, 100_000), "100000×100000 pixels"),
    "bad_png_crc": (_png_chunks_with_bad_crc(), None),
    "zero_width_png": (_png_zero_width(), None),
    "text_file": (b"#!/bin/sh\necho hello\n", "not an image"),
    "html": (b"<!DOCTYPE html><html><body>404</body></html>", "not an image"),
}


@pytest.mark.parametrize("case", sorted(HAND_MADE_ERRORS))
def test_hand_made_bad_files(tmp_path, case):
    data, expected = HAND_MADE_ERRORS[case]
    path = tmp_path / f"{case}.png"
    path.write_bytes(data)
    with pytest.raises(ImageLoadError, match=expected) as info:
        load_image(path)
    assert f"{case}.png" in str(info.value)


def _cmyk_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (7, 5), (0, 255, 0, 0)).save(out, format="JPEG")
    return out.getvalue()


HAND_MADE_GOOD = {
    "one_pixel.png": (gen.encode(np.array([[[9, 8, 7]]], np.uint8), "PNG"), (1, 1), False),
    "deep16.png": (SEEDS["png16"], (24, 32), False),
    "cmyk.jpg": (_cmyk_jpeg(), (5, 7), False),
    "animated.gif": (SEEDS["gif"], (12, 16), False),
    "png_named.jpg": (SEEDS["png"], (24, 32), False),
    "jpeg_named.png": (gen.encode(gen.textured(10, 12), "JPEG"), (10, 12), False),
    "grey_alpha.png": (gen.encode(np.zeros((6, 9, 2), np.uint8), "PNG"), (6, 9), True),
    "palette_transparent.png": (SEEDS["png_palette"], (24, 32), True),
    "rotated_exif.jpg": (SEEDS["jpeg"], (32, 24), False),  # orientation 6: width and height swap
}


@pytest.mark.parametrize("name", sorted(HAND_MADE_GOOD))
def test_hand_made_good_files(tmp_path, name):
    data, (h, w), has_alpha = HAND_MADE_GOOD[name]
    path = tmp_path / name
    path.write_bytes(data)
    loaded = load_image(path)
    assert loaded.rgb.shape == (h, w, 3) and loaded.rgb.dtype == np.uint8
    assert (loaded.alpha is not None) == has_alpha
