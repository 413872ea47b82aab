"""Assemble the offline training photo set listed in `trainer/data/photos.tsv` (shipped with the package).

The photos ship inside pinned Debian packages: `apt-get download` them into a cache, unpack with `dpkg -x`,
read `.rcc` entries through Qt's resource system, check every file's sha256, shrink to a short side and
save under `user_cache_dir()/photos/{train,val,unseen}/`.

`unseen` photos come from a package no training photo comes from (opencv-doc's example photos): the model table
measures on them next to `val` to show how the fills do on photos of another source. Nothing in the trainer reads
them (`TRAINING_SPLITS`: it trains on `train` and picks checkpoints on `val`). Idempotent: packages already downloaded and photos already
saved are skipped, so an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from inpaint_studio.core.errors import ImageLoadError, InpaintStudioError
from inpaint_studio.core.imageio import decode_image, save_image
from inpaint_studio.core.paths import user_cache_dir

DEFAULT_MANIFEST = Path(__file__).resolve().parent / "data" / "photos.tsv"
HELD_OUT_SPLIT = "unseen"  # for the model table only: never trained on, never validated on while training
SPLITS = ("train", "val", HELD_OUT_SPLIT)
TRAINING_SPLITS = ("train", "val")


class FetchError(InpaintStudioError):
    """The photo set could not be assembled (manifest missing, apt/dpkg failure)."""


@dataclass(frozen=True)
class PhotoRow:
    package: str
    version: str
    path_in_package: str
    sha256: str
    width: int
    height: int
    license: str
    split: str

    @property
    def is_rcc(self) -> bool:
        return ":" in self.path_in_package

    @property
    def output_stem(self) -> str:
        """A unique, readable file name: package, the last path components, and a hash prefix (some
        photos share their last components, e.g. the same landmark in two activities)."""
        tail = self.path_in_package.split(":", 1)[-1].strip("/")
        parts = Path(tail).with_suffix("").parts[-2:]
        return f"{self.package}__{'_'.join(parts)}_{self.sha256[:8]}".replace(" ", "_")

    @property
    def output_suffix(self) -> str:
        # JPEG sources stay JPEG (re-encoding them losslessly as PNG only inflates the cache); everything
        # else (WebP, PNG) becomes PNG so no further generation of lossy artefacts is added.
        return ".jpg" if Path(self.path_in_package).suffix.lower() in (".jpg", ".jpeg") else ".png"


@dataclass
class FetchReport:
    saved: list[Path] = field(default_factory=list)
    skipped_present: int = 0
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.saved)} photos saved, {self.skipped_present} already present, "
            f"{len(self.mismatched)} sha256 mismatches skipped, {len(self.missing)} missing in packages"
        )


def read_manifest(path: Path) -> list[PhotoRow]:
    if not path.is_file():
        raise FetchError(f"photo manifest not found: {path} (pass --manifest PATH)")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        try:
            rows = [
                PhotoRow(
                    r["package"], r["version"], r["path_in_package"], r["sha256"].lower(),
                    int(r["width"]), int(r["height"]), r["license"], r["split"],
                )
                for r in reader
            ]
        except (KeyError, ValueError) as exc:
            raise FetchError(f"malformed photo manifest {path}: {exc}") from None
    unknown = sorted({r.split for r in rows} - set(SPLITS))
    if unknown:
        raise FetchError(f"malformed photo manifest {path}: unknown split {', '.join(unknown)} ({', '.join(SPLITS)})")
    return rows


def photos_dir(root: Path | None = None) -> Path:
    return (root if root is not None else user_cache_dir()) / "photos"


def shrink_to_short_side(image: Image.Image, short_side: int) -> Image.Image:
    """Resize so the short side is `short_side`; never upscale."""
    w, h = image.size
    s = min(w, h)
    if short_side <= 0 or s <= short_side:
        return image
    scale = short_side / s
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def save_photo(data: bytes, dest: Path, short_side: int, name: str = "<photo>") -> None:
    """Decode (any mode → RGB), shrink and write atomically through core.imageio."""
    rgb = decode_image(data, name).rgb
    out = np.asarray(shrink_to_short_side(Image.fromarray(rgb), short_side))
    dest.parent.mkdir(parents=True, exist_ok=True)
    save_image(dest, out, quality=95, overwrite=True)


def download_package(package: str, version: str, cache: Path) -> Path:
    """`apt-get download PKG=VERSION` in a temp dir, then move the .deb into the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"{package}_*.deb"))
    if found:
        return found[0]
    if shutil.which("apt-get") is None:
        raise FetchError("apt-get not found: the photo set is fetched from the Debian archive")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run(
            ["apt-get", "download", f"{package}={version}"], cwd=tmp, capture_output=True, text=True
        )
        debs = list(Path(tmp).glob("*.deb"))
        if proc.returncode != 0 or not debs:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise FetchError(
                f"apt-get download {package}={version} failed ({detail[-1] if detail else 'no output'}); "
                "run `apt-get update` first"
            )
        target = cache / debs[0].name
        debs[0].replace(target)
        return target


def unpack_package(deb: Path, dest: Path) -> Path:
    """`dpkg -x` (no root needed, nothing installed)."""
    if (dest / ".unpacked").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["dpkg", "-x", str(deb), str(dest)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise FetchError(f"dpkg -x {deb.name} failed: {proc.stderr.strip()}")
    (dest / ".unpacked").touch()
    return dest


class RccReader:
    """Reads files out of Qt binary resource (.rcc) files through QResource/QFile (QtCore only)."""

    def __init__(self) -> None:
        # No QCoreApplication: QResource/QFile work without one, and creating one here would stop a
        # later QApplication (the UI, pytest-qt) from being created in the same process.
        self._registered: set[str] = set()

    def read(self, rcc: Path, resource: str) -> bytes | None:
        from PySide6.QtCore import QFile, QIODevice, QResource

        key = str(rcc)
        if key not in self._registered:
            if not QResource.registerResource(key):
                return None
            self._registered.add(key)
        f = QFile(":" + resource)
        if not f.open(QIODevice.OpenModeFlag.ReadOnly):
            return None
        try:
            return bytes(f.readAll().data())
        finally:
            f.close()

    def close(self) -> None:
        from PySide6.QtCore import QResource

        for key in self._registered:
            QResource.unregisterResource(key)
        self._registered.clear()


def _read_entry(row: PhotoRow, tree: Path, rcc: RccReader | None) -> bytes | None:
    if row.is_rcc:
        rcc_path, resource = row.path_in_package.split(":", 1)
        assert rcc is not None
        return rcc.read(tree / rcc_path, resource)
    path = tree / row.path_in_package
    return path.read_bytes() if path.is_file() else None


def fetch_photos(
    dest: Path | None = None,
    *,
    short_side: int = 512,
    split: str = "all",
    manifest: Path = DEFAULT_MANIFEST,
    download_cache: Path | None = None,
    log: Callable[[str], None] = print,
    downloader: Callable[[str, str, Path], Path] = download_package,
) -> FetchReport:
    """Fetch every listed photo of `split` into `dest/{train,val,unseen}/`. Returns what happened."""
    if split not in (*SPLITS, "all"):
        raise FetchError(f"unknown split '{split}' ({', '.join(SPLITS)} or all)")
    dest = dest if dest is not None else photos_dir()
    cache = download_cache if download_cache is not None else user_cache_dir() / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    rows = [r for r in read_manifest(manifest) if split == "all" or r.split == split]
    report = FetchReport()
    pending = [r for r in rows if not (dest / r.split / (r.output_stem + r.output_suffix)).exists()]
    report.skipped_present = len(rows) - len(pending)
    by_package: dict[tuple[str, str], list[PhotoRow]] = {}
    for r in pending:
        by_package.setdefault((r.package, r.version), []).append(r)
    rcc = RccReader() if any(r.is_rcc for r in pending) else None
    try:
        for (package, version), group in by_package.items():
            log(f"{package}={version}: {len(group)} photos")
            deb = downloader(package, version, cache)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                tree = unpack_package(deb, Path(tmp) / package)
                for row in group:
                    _fetch_one(row, tree, rcc, dest, short_side, report, log)
                if rcc is not None:
                    rcc.close()  # the unpacked tree is about to be deleted
    finally:
        if rcc is not None:
            rcc.close()
    log(report.summary())
    return report


def _fetch_one(
    row: PhotoRow, tree: Path, rcc: RccReader | None, dest: Path, short_side: int,
    report: FetchReport, log: Callable[[str], None],
) -> None:
    data = _read_entry(row, tree, rcc)
    if data is None:
        report.missing.append(row.path_in_package)
        log(f"  missing in {row.package}: {row.path_in_package}")
        return
    digest = hashlib.sha256(data).hexdigest()
    if digest != row.sha256:
        report.mismatched.append(row.path_in_package)
        log(f"  sha256 mismatch, skipped: {row.path_in_package}")
        return
    out = dest / row.split / (row.output_stem + row.output_suffix)
    try:
        save_photo(data, out, short_side, row.path_in_package)
    except ImageLoadError as exc:  # the bytes are the listed ones, so this is a decoder limitation here
        report.missing.append(row.path_in_package)
        log(f"  cannot decode, skipped: {exc}")
        return
    report.saved.append(out)


def list_photos(root: Path, splits: Iterable[str] = TRAINING_SPLITS) -> list[Path]:
    return sorted(p for s in splits for p in (root / s).glob("*") if p.suffix in (".png", ".jpg"))
