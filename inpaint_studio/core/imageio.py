"""Reading and writing image files as RGB uint8 arrays, keeping alpha, EXIF and the ICC profile.

Loading policy (every failure is one `ImageLoadError` naming the file):
- The format is identified by content, never by extension (a PNG named `.jpg` loads).
- EXIF orientation is applied, so `rgb` is upright; the returned EXIF has its orientation reset to 1.
- Grey, palette, CMYK, YCbCr/LAB/HSV, 16-bit and float images become RGB uint8. 16-bit data is scaled
  (v / 257), not clipped. Alpha (RGBA, LA, PA, palette transparency) is returned separately.
- Animated GIF/WebP/APNG: the first frame.
- Truncated files are refused rather than loaded with grey filler: a silently half-grey photo would be
  inpainted and saved as if it were whole. Pillow's global LOAD_TRUNCATED_IMAGES is left untouched.
- Images over `MAX_PIXELS` are refused from their header, before any pixel is decoded.

Saving goes through `core.atomic` (the one writer): a failed or interrupted save leaves neither a partial
file, a temp file, nor a damaged original. An existing file is only replaced with `overwrite=True`.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps

from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import ImageLoadError, ImageSaveError

# Project limit on decoded size. Above Pillow's own warning level (89 MP) because camera panoramas
# and scans legitimately reach 100+ MP; 200 MP of RGB is 600 MB, about the most a desktop can fill.
MAX_PIXELS = 200_000_000

# Extension → Pillow format name, for saving (and for file dialogs).
SAVE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})
EXIF_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF"})
ICC_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "TIFF"})
# Largest width or height each encoder can store; checked first so the user gets a reason, not
# Pillow's "encoder error -2".
_MAX_SIDE = {"JPEG": 65_535, "WEBP": 16_383, "BMP": 2**31 - 1, "PNG": 2**31 - 1, "TIFF": 2**32 - 1}

_ORIENTATION_TAG = 0x0112

# Pillow warns from 89 MP, below our own limit, and about damaged EXIF blocks that we drop anyway: neither
# is news to the user. Filters rather than warnings.catch_warnings(), which is not thread-safe and images
# load in worker threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", message="(Possibly )?[Cc]orrupt EXIF", category=UserWarning)

_HAS_ALPHA = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass
class LoadedImage:
    rgb: np.ndarray  # H×W×3 uint8, C-contiguous, upright
    alpha: np.ndarray | None = None  # H×W uint8 (255 = opaque) or None when the file has no alpha
    exif: bytes | None = None  # orientation already reset to 1
    icc_profile: bytes | None = None  # only an RGB profile (others no longer describe `rgb`)
    format: str | None = None  # Pillow's name: "PNG", "JPEG", ...
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]


# --- loading ---------------------------------------------------------------------------------------


def load_image(path: str | os.PathLike[str]) -> LoadedImage:
    """Read an image file; raises ImageLoadError with a one-line reason naming the file."""
    path = Path(path)
    name = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(f"cannot open '{name}': no such file") from None
    except OSError as exc:
        raise ImageLoadError(f"cannot open '{name}': {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageLoadError(f"cannot open '{name}': it is a directory, not an image")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise ImageLoadError(f"cannot open '{name}': not a regular file")
    if info.st_size == 0:
        raise ImageLoadError(f"cannot open '{name}': the file is empty (0 bytes)")
    try:
        # Pillow reads from the file as it needs: a huge non-image is refused from its first bytes.
        with open(path, "rb") as f:
            loaded = _decode_guarded(f, name)
    except OSError as exc:  # open() itself: permissions, a file removed meanwhile
        raise ImageLoadError(f"cannot read '{name}': {exc.strerror or exc}") from None
    loaded.path = path
    return loaded


def load_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """The upright RGB uint8 pixels of an image file (alpha dropped)."""
    return load_image(path).rgb


def decode_image(data: bytes, name: str = "<bytes>") -> LoadedImage:
    """Decode an encoded image held in memory (clipboard, drag and drop)."""
    if not data:
        raise ImageLoadError(f"cannot open '{name}': the file is empty (0 bytes)")
    return _decode_guarded(io.BytesIO(data), name)


def _decode_guarded(source: IO[bytes], name: str) -> LoadedImage:
    """_decode, with every failure turned into one ImageLoadError naming the file."""
    try:
        return _decode(source, name)
    except ImageLoadError:
        raise
    except Image.DecompressionBombError:  # a frame or tile larger than the header said
        raise ImageLoadError(
            f"cannot open '{name}': it is over the {MAX_PIXELS // 1_000_000}-megapixel limit"
        ) from None
    except MemoryError:
        raise ImageLoadError(f"cannot open '{name}': not enough memory to decode it") from None
    except Exception as exc:  # noqa: BLE001 - corrupt data makes Pillow plugins raise anything
        raise ImageLoadError(f"cannot open '{name}': {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "truncated" in text.lower():
        return "the file is truncated (incomplete download or copy?)"
    return f"the file is corrupt or not a supported image ({text})"


def _decode(source: IO[bytes], name: str) -> LoadedImage:
    im = _open_checked(source, name)
    with im:
        fmt = im.format
        exif = _read_exif(im)
        icc = im.info.get("icc_profile") or None
        im.load()  # an animation opens on its first frame; n_frames is not asked (it scans the file)
        im = _upright(im)
        rgb, alpha, icc = _to_rgb(im, icc)
    return LoadedImage(rgb=rgb, alpha=alpha, exif=exif, icc_profile=icc, format=fmt)


def _open_checked(source: IO[bytes], name: str) -> Image.Image:
    """Identify the file, refusing it from its header when it is over MAX_PIXELS."""
    try:
        im = Image.open(source)
    except Image.DecompressionBombError:
        # Pillow refuses from 179 MP before we see the size; identify again without its check so
        # the message states the dimensions (and a 179–200 MP image still opens).
        im = _open_without_bomb_check(source)
        if im is None:
            raise ImageLoadError(f"cannot open '{name}': its dimensions are too large") from None
    except Image.UnidentifiedImageError:
        raise ImageLoadError(f"cannot open '{name}': not an image file, or a format not supported") from None
    width, height = im.size
    if width * height > MAX_PIXELS:
        im.close()
        raise ImageLoadError(
            f"cannot open '{name}': it is {width}×{height} pixels, over the "
            f"{MAX_PIXELS // 1_000_000}-megapixel limit"
        )
    if width < 1 or height < 1:
        im.close()
        raise ImageLoadError(f"cannot open '{name}': it has no pixels ({width}×{height})")
    return im


def _open_without_bomb_check(source: IO[bytes]) -> Image.Image | None:
    # Same identification loop as Image.open, through the public plugin registry, minus the size check.
    Image.init()
    source.seek(0)
    prefix = source.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        accepted = True if accept is None else accept(prefix)
        if not accepted or isinstance(accepted, str):
            continue
        try:
            source.seek(0)
            return factory(source, "")
        except (SyntaxError, IndexError, TypeError, struct.error, OSError, ValueError):
            continue
    return None


def _read_exif(im: Image.Image) -> bytes | None:
    """EXIF bytes with orientation reset to 1 (the pixels we return are already upright)."""
    try:
        raw = im.info.get("exif")
        if raw:
            # A fresh Exif, not im.getexif(): that one is cached on the image and exif_transpose reads it.
            exif = Image.Exif()
            exif.load(raw)
        elif im.format == "TIFF":
            exif = _tiff_metadata(im)
        else:
            return None
        if not exif:
            return None
        if _ORIENTATION_TAG in exif:
            exif[_ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception:  # noqa: BLE001 - a corrupt EXIF block must not cost the user the picture
        return None


# TIFF keeps EXIF as tags among its structural ones (strip offsets, sizes…); these are the descriptive
# IFD0 tags worth carrying to another file: description, make, model, orientation, software, date,
# artist, copyright, and the Exif and GPS sub-directories.
_TIFF_METADATA_TAGS = (0x010E, 0x010F, 0x0110, 0x0112, 0x0131, 0x0132, 0x013B, 0x8298)
_SUB_IFDS = (0x8769, 0x8825)


def _tiff_metadata(im: Image.Image) -> Image.Exif:
    source = im.getexif()
    exif = Image.Exif()
    for tag in _TIFF_METADATA_TAGS:
        if tag in source:
            exif[tag] = source[tag]
    for pointer in _SUB_IFDS:
        if pointer in source:
            exif.get_ifd(pointer).update(source.get_ifd(pointer))
    return exif


def _upright(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - unreadable orientation: keep the stored layout
        return im


def _icc_colour_space(icc: bytes) -> bytes:
    return icc[16:20] if len(icc) >= 20 else b""


def _to_rgb(im: Image.Image, icc: bytes | None) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Pixels as RGB uint8 plus alpha; the ICC profile is kept only where it still describes RGB."""
    mode = im.mode
    alpha: np.ndarray | None = None

    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    elif mode == "L" and "transparency" in im.info:
        im = im.convert("LA")
        mode = im.mode
    elif mode == "RGB" and "transparency" in im.info:
        im = im.convert("RGBA")
        mode = im.mode

    if mode in _HAS_ALPHA:
        if mode in ("RGBa", "La"):  # premultiplied → straight alpha
            im = im.convert("RGBA" if mode == "RGBa" else "LA")
            mode = im.mode
        alpha = np.array(im.getchannel("A"), dtype=np.uint8)
        im = im.convert("RGB") if mode in ("RGBA", "PA") else im.getchannel("L")
        mode = im.mode

    if mode == "CMYK":
        rgb = _cmyk_to_rgb(im, icc)
        icc = None  # a CMYK profile would mislabel RGB data; the result is sRGB
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        rgb = _grey_to_rgb8(_scale_high_depth(np.array(im), mode))
    elif mode == "L":
        rgb = _grey_to_rgb8(np.array(im, dtype=np.uint8))
    elif mode == "1":
        rgb = _grey_to_rgb8(np.array(im.convert("L"), dtype=np.uint8))
    elif mode == "RGB":
        rgb = np.array(im, dtype=np.uint8)
    else:  # YCbCr, LAB, HSV, RGBX
        rgb = np.array(im.convert("RGB"), dtype=np.uint8)

    if icc is not None and _icc_colour_space(icc) != b"RGB ":
        icc = None  # e.g. a GRAY profile on a grey image we expanded to RGB
    return np.ascontiguousarray(rgb), alpha, icc


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> np.ndarray:
    if icc and _icc_colour_space(icc) == b"CMYK":
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
            if converted is not None:
                return np.array(converted, dtype=np.uint8)
        except Exception:  # noqa: BLE001 - broken profile: fall back to the naive conversion
            pass
    return np.array(im.convert("RGB"), dtype=np.uint8)


def _scale_high_depth(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit, 32-bit integer and float grey → uint8 by the data's nominal range, not by clipping.

    I;16: 0–65535. I (32-bit int): treated as 16-bit when it fits 0–65535 (what 16-bit PNG/TIFF
    decode to), else stretched min–max. F: 0–1 if it fits, else 0–255 if it fits, else min–max.
    """
    v = values.astype(np.float64)
    v[~np.isfinite(v)] = 0.0
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi <= 65535):
        scaled = v / 257.0
    elif mode == "F" and lo >= 0 and hi <= 1.0:
        scaled = v * 255.0
    elif mode == "F" and lo >= 0 and hi <= 255.0:
        scaled = v
    else:
        scaled = (v - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(v)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _grey_to_rgb8(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


# --- saving ----------------------------------------------------------------------------------------


def save_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    quality: int = 95,
    overwrite: bool = False,
) -> Path:
    """Write `rgb` (+ alpha where the format has it) atomically; returns the written path.

    The format comes from the extension (.png .jpg .jpeg .webp .tif .tiff .bmp). JPEG and BMP drop
    alpha. `quality` (1–100) applies to JPEG and WebP. EXIF and ICC are written for all but BMP. Raises ImageSaveError, leaving any existing file
    untouched, when the file exists and `overwrite` is False, or on any write failure.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(SAVE_FORMATS))
        raise ImageSaveError(f"cannot save '{path}': unknown extension '{path.suffix}' (use one of: {known})")
    if path.exists() and not overwrite:
        raise ImageSaveError(f"not saving '{path}': the file already exists (choose another name or allow overwriting)")
    if path.is_dir():
        raise ImageSaveError(f"cannot save '{path}': it is a directory")
    if not path.parent.is_dir():
        raise ImageSaveError(f"cannot save '{path}': the folder '{path.parent}' does not exist")
    image = _to_pil(path, rgb, alpha if fmt in ALPHA_FORMATS else None)
    if max(image.size) > _MAX_SIDE[fmt]:
        raise ImageSaveError(
            f"cannot save '{path}': {fmt} images can be at most {_MAX_SIDE[fmt]} pixels wide or high and this "
            f"one is {image.width}×{image.height}; save it as PNG or TIFF"
        )
    options = _save_options(fmt, exif, icc_profile, quality)

    try:
        atomic_write(path, lambda tmp: _encode(tmp, image, fmt, options), replace=overwrite)
    except FileExistsError:  # appeared while we encoded: never clobbered
        raise ImageSaveError(
            f"not saving '{path}': the file already exists (choose another name or allow overwriting)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - OSError (disk full, permissions) or an encoder error
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ImageSaveError(f"cannot save '{path}': {reason}") from None
    return path


def _encode(tmp: Path, image: Image.Image, fmt: str, options: dict) -> None:
    with open(tmp, "wb") as f:
        image.save(f, format=fmt, **options)


def _to_pil(path: Path, rgb: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}"
        raise ImageSaveError(f"cannot save '{path}': expected an RGB uint8 H×W×3 array, got {got}")
    if alpha is None:
        return Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]:
        raise ImageSaveError(
            f"cannot save '{path}': alpha must be uint8 {rgb.shape[1]}×{rgb.shape[0]} like the image, "
            f"got {alpha.dtype} {alpha.shape}"
        )
    return Image.fromarray(np.ascontiguousarray(np.dstack([rgb, alpha])), "RGBA")


def _save_options(fmt: str, exif: bytes | None, icc: bytes | None, quality: int) -> dict:
    options: dict = {}
    if exif and fmt in EXIF_FORMATS:
        options["exif"] = exif
    if icc and fmt in ICC_FORMATS:
        options["icc_profile"] = icc
    quality = int(min(max(quality, 1), 100))
    if fmt == "JPEG":
        # At high quality keep full-resolution colour (4:4:4): chroma subsampling smears the colour of
        # thin repaired strokes, which is exactly where a user looks.
        options.update(quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True)
    elif fmt == "WEBP":
        options.update(quality=quality, method=4)
    elif fmt == "PNG":
        options.update(compress_level=6)
    elif fmt == "TIFF":
        options.update(compression="tiff_lzw")
    return options
