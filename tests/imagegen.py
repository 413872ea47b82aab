"""Test images and image files made on the fly (no test reads a file it did not write or the project ships).

Arrays follow the project convention: RGB uint8 H×W×3, masks uint8 H×W with 255 = hole.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

ORIENTATION = 0x0112


# --- arrays ----------------------------------------------------------------------------------------


def gradient(h: int = 48, w: int = 64) -> np.ndarray:
    """Red grows left→right, green top→bottom, blue constant: every pixel position is recognisable, so a
    rotation or flip shows up as a different array."""
    ys, xs = np.mgrid[0:h, 0:w]
    red = np.rint(xs * 255.0 / max(w - 1, 1))
    green = np.rint(ys * 255.0 / max(h - 1, 1))
    blue = np.full_like(red, 96)
    return np.dstack([red, green, blue]).astype(np.uint8)


def textured(h: int = 64, w: int = 64, seed: int = 0) -> np.ndarray:
    """A photo-like RGB image: smooth colour fields, a few hard edges and fine noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.02, 0.15), rng.uniform(0.02, 0.15), rng.uniform(0, 6.3)
        channels.append(128 + 70 * np.sin(fx * xs + phase) * np.cos(fy * ys))
    img = np.dstack(channels)
    img[(xs + ys) > (h + w) * 0.6] += 50  # a diagonal edge
    img[h // 4 : h // 2, w // 4 : w // 2] -= 60  # a dark box
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def box_mask(h: int, w: int, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[y0:y1, x0:x1] = 255
    return mask


# --- encoded bytes and files -----------------------------------------------------------------------


def encode(rgb: np.ndarray, fmt: str, **options) -> bytes:
    """`rgb` (or RGBA H×W×4, or grey H×W) encoded in a Pillow format ("PNG", "JPEG", "WEBP", "GIF", ...)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **options)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def srgb_icc() -> bytes:
    """A real ICC profile (sRGB, made by LittleCMS)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with(orientation: int | None = None, **tags: object) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    for key, value in tags.items():
        exif[{"make": 0x010F, "model": 0x0110, "software": 0x0131}[key]] = value
    return exif.tobytes()


def jpeg_with_orientation(path: Path, stored: np.ndarray, orientation: int, quality: int = 95) -> Path:
    """A JPEG whose pixels are `stored` as-is and whose EXIF says how to turn them upright."""
    Image.fromarray(stored).save(
        path, format="JPEG", quality=quality, subsampling=0, exif=exif_with(orientation, make="TestCam")
    )
    return path


def cmyk_jpeg(path: Path, h: int = 32, w: int = 40) -> tuple[Path, np.ndarray]:
    """A CMYK JPEG: left half pure cyan, right half pure yellow. Returns the file and the CMYK array."""
    cmyk = np.zeros((h, w, 4), np.uint8)
    cmyk[:, : w // 2, 0] = 255
    cmyk[:, w // 2 :, 2] = 255
    Image.fromarray(cmyk, "CMYK").save(path, format="JPEG", quality=95)
    return path, cmyk


def png16_grey(path: Path, values: np.ndarray) -> Path:
    """A 16-bit greyscale PNG of `values` (uint16 H×W)."""
    Image.fromarray(values.astype(np.uint16)).save(path, format="PNG")
    return path


def tiff_float(path: Path, values: np.ndarray) -> Path:
    """A 32-bit float greyscale TIFF."""
    Image.fromarray(values.astype(np.float32), "F").save(path, format="TIFF")
    return path


def tiff_int32(path: Path, values: np.ndarray) -> Path:
    Image.fromarray(values.astype(np.int32), "I").save(path, format="TIFF")
    return path


def palette_png(path: Path, transparent_index: int | None = None) -> tuple[Path, np.ndarray, np.ndarray]:
    """A 4-colour palette PNG (quadrants 0..3), optionally with one transparent palette entry.

    Returns the file, the expected RGB and the palette index array."""
    h, w = 20, 30
    index = np.zeros((h, w), np.uint8)
    index[: h // 2, w // 2 :] = 1
    index[h // 2 :, : w // 2] = 2
    index[h // 2 :, w // 2 :] = 3
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [250, 250, 250]], np.uint8)
    im = Image.fromarray(index, "P")
    im.putpalette(palette.flatten().tolist())
    options = {} if transparent_index is None else {"transparency": transparent_index}
    im.save(path, format="PNG", **options)
    return path, palette[index], index


def grey_alpha_png(path: Path, grey: np.ndarray, alpha: np.ndarray) -> Path:
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(path, format="PNG")
    return path


def rgba_file(path: Path, rgb: np.ndarray, alpha: np.ndarray, fmt: str = "PNG", **options) -> Path:
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path, format=fmt, **options)
    return path


def animated_gif(path: Path, frames: list[np.ndarray]) -> Path:
    """An animated GIF; each frame a flat colour (so the quantiser keeps it exactly)."""
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=50, loop=0)
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming_size(width: int, height: int) -> bytes:
    """A well-formed PNG header (valid CRCs) claiming width×height, followed by a tiny IDAT and IEND:
    what a decompression bomb or a hostile file looks like to a loader."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
