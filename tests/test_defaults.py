"""Default methods come from the measured table: the best *available* method wins, a broken table falls back,
and the CLI without --model uses the table's choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import imagegen as gen
import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.core import paths
from inpaint_studio.engine import base
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.defaults import (
    TABLE_FORMAT,
    choose_default,
    default_method,
    measured_summary,
)


def _fill_rows(scores: dict[str, tuple[float, float]]) -> list[dict[str, Any]]:
    """{method: (hole L1, seconds per image)} → rows for the 20–30 % and 30–40 % buckets (plus a decoy
    10–20 % row that must not count)."""
    rows = []
    for model, (l1, seconds) in scores.items():
        for bucket in ("20-30%", "30-40%"):
            rows.append({"model": model, "bucket": bucket, "n": 3, "l1_hole": l1, "seconds_per_image": seconds})
        rows.append({"model": model, "bucket": "10-20%", "n": 3, "l1_hole": 0.5, "seconds_per_image": 0.0})
    return rows


def _table(path: Path, fill: dict[str, tuple[float, float]], blind: dict[str, tuple[float, float]] | None = None) -> Path:
    """A minimal models/table.json; `blind` maps method → (restored PSNR, input PSNR)."""
    table = {
        "format": TABLE_FORMAT,
        "version": 1,
        "fill": {
            # The smallest size decides; a 512² entry with the opposite ranking must be ignored.
            "512": {"buckets": ["20-30%", "30-40%"], "rows": _fill_rows({m: (100 - l1, t) for m, (l1, t) in fill.items()})},
            "256": {"buckets": ["20-30%", "30-40%"], "rows": _fill_rows(fill)},
        },
        "blind": {
            "restoration": [
                {"model": m, "kind": k, "n": 2, "psnr": p + d, "input_psnr": i}
                for m, (p, i) in (blind or {}).items()
                for k, d in (("contamination", 0.5), ("scratch", -0.5))
            ]
        },
    }
    path.write_text(json.dumps(table), encoding="utf-8")
    return path


@pytest.fixture
def fake_blind(monkeypatch):
    """A registered, available blind method (no weights) next to classical_restore."""

    class FakeBlind(base.InpaintMethod):
        name = "test_blind"
        capabilities = base.Capabilities(needs_mask=False, blind=True)

        def blind_hole(self, image, progress, cancel):
            return np.zeros(image.shape[:2], np.uint8)

        def fill_hole(self, image, hole, edges, progress, cancel):
            return image.copy()

    base._ensure_builtin_methods()
    monkeypatch.setitem(base._REGISTRY, "test_blind", base.MethodSpec("test_blind", "", FakeBlind.capabilities, FakeBlind))
    return "test_blind"


def test_best_available_fill_method_is_chosen(tmp_path):
    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "navier_stokes": (15.0, 0.01), "fsr_fast": (18.0, 2.0)})
    assert default_method("fill", table) == "navier_stokes"
    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "navier_stokes": (25.0, 0.01), "fsr_fast": (12.0, 2.0)})
    assert default_method("fill", table) == "fsr_fast"


def test_better_method_without_weights_is_skipped(tmp_path):
    assert not create_method("deepfill_v2").is_available()  # no checkpoint in the isolated user dirs
    table = _table(tmp_path / "t.json", {"deepfill_v2": (5.0, 0.3), "telea": (20.0, 0.01), "fsr_fast": (19.0, 2.0)})
    assert default_method("fill", table) == "fsr_fast"
    # The caller's own list of available methods is honoured too (the UI passes it).
    assert default_method("fill", table, available=["telea", "deepfill_v2"]) == "deepfill_v2"


def test_near_tie_goes_to_the_faster_method(tmp_path):
    # fsr_fast is 1 % better (inside the 2 % near-tie) but 200× slower: telea wins.
    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "fsr_fast": (19.8, 2.0)})
    assert default_method("fill", table) == "telea"
    # 5 % better is a real difference: the slower, better method wins.
    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "fsr_fast": (19.0, 2.0)})
    assert default_method("fill", table) == "fsr_fast"
    # Equal speed (timing noise): the lower L1 decides even inside the near-tie.
    name, why = choose_default(json.loads(table.read_text()) | {"fill": {"256": {"rows": _fill_rows(
        {"telea": (20.0, 0.010), "navier_stokes": (19.9, 0.011)})}}}, "fill", ["telea", "navier_stokes"])
    assert name == "navier_stokes" and "19.90" in why


def test_blind_default_is_the_highest_psnr_gain(tmp_path, fake_blind):
    table = _table(tmp_path / "t.json", {}, blind={"classical_restore": (30.0, 27.0), fake_blind: (31.0, 26.0)})
    assert default_method("blind", table) == fake_blind  # +5 dB beats +3 dB
    table = _table(tmp_path / "t.json", {}, blind={"classical_restore": (30.0, 27.0), "vcnet": (40.0, 26.0)})
    assert default_method("blind", table) == "classical_restore"  # vcnet has no weights here


@pytest.mark.parametrize(
    "content",
    [None, b"", b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'{"format": "something-else", "fill": {}}',
     json.dumps({"format": TABLE_FORMAT, "fill": [1, 2], "blind": "x"}).encode(),
     json.dumps({"format": TABLE_FORMAT, "fill": {"abc": {"rows": [{"model": "telea", "bucket": "20-30%"}]}}}).encode(),
     json.dumps({"format": TABLE_FORMAT, "fill": {"256": {"rows": [
         {"model": "navier_stokes", "bucket": "20-30%", "l1_hole": "12"},
         {"model": "navier_stokes", "bucket": "30-40%", "l1_hole": None}]}}}).encode()],
    ids=["missing", "empty", "bad-json", "not-utf8", "list", "other-format", "wrong-shapes", "bad-size", "bad-numbers"],
)
def test_missing_or_corrupt_table_falls_back(tmp_path, content):
    path = tmp_path / "table.json"
    if content is not None:
        path.write_bytes(content)
    assert default_method("fill", path) == "telea"
    assert default_method("blind", path) == "classical_restore"
    assert isinstance(measured_summary(path), dict)


def test_table_with_no_available_method_falls_back(tmp_path):
    table = _table(tmp_path / "t.json", {"deepfill_v2": (5.0, 0.3)}, blind={"vcnet": (40.0, 26.0)})
    assert default_method("fill", table) == "telea"
    assert default_method("blind", table) == "classical_restore"


def test_measured_summary_reads_the_20_30_bucket_and_blind_gain(tmp_path):
    table = _table(tmp_path / "t.json", {"telea": (21.23, 0.01)}, blind={"classical_restore": (30.0, 27.0)})
    summary = measured_summary(table)
    assert summary["telea"] == "hole L1 21.2 @20–30 %, 0.01 s / image"
    assert summary["classical_restore"] == "restoration +3.0 dB PSNR"


# --- the CLI -------------------------------------------------------------------------------------------


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """Point the shipped models folder (and so the default table path) at an empty temp folder."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", folder)
    return folder


def _photo(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    image = gen.textured(40, 48, seed=3)
    mask = gen.box_mask(40, 48, 8, 10, 30, 36)
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return tmp_path / "photo.png", tmp_path / "mask.png", image, mask


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_cli_without_model_uses_the_tables_choice(tmp_path, shipped, capsys):
    image_path, mask_path, image, mask = _photo(tmp_path)
    ns = create_method("navier_stokes").inpaint(image, mask)
    assert not np.array_equal(ns, create_method("telea").inpaint(image, mask))  # the test can tell them apart

    _table(shipped / "table.json", {"telea": (20.0, 0.01), "navier_stokes": (15.0, 0.01)})
    assert cli.main(["inpaint", str(image_path), "--mask", str(mask_path), "-o", str(tmp_path / "a.png")]) == 0
    assert np.array_equal(_read(tmp_path / "a.png"), ns)

    out_dir = tmp_path / "batch"
    (tmp_path / "in").mkdir()
    Image.fromarray(image).save(tmp_path / "in" / "photo.png")
    assert cli.main(["batch", "--images", str(tmp_path / "in"), "--masks", str(mask_path), "-o", str(out_dir)]) == 0
    assert np.array_equal(_read(out_dir / "photo.png"), ns)

    # No table at all: telea, as before.
    (shipped / "table.json").unlink()
    assert cli.main(["inpaint", str(image_path), "--mask", str(mask_path), "-o", str(tmp_path / "b.png")]) == 0
    assert np.array_equal(_read(tmp_path / "b.png"), create_method("telea").inpaint(image, mask))


def test_cli_without_model_or_mask_runs_the_blind_default(tmp_path, shipped, fake_blind, capsys):
    image_path, _, image, _ = _photo(tmp_path)
    image[5:7, :] = 255  # a bright line that classical_restore changes and the fake blind method leaves
    Image.fromarray(image).save(image_path)
    restored = create_method("classical_restore").inpaint(image, None)
    assert not np.array_equal(restored, image)  # the test can tell the two methods apart
    _table(shipped / "table.json", {}, blind={"classical_restore": (30.0, 27.0), fake_blind: (31.0, 26.0)})
    assert cli.main(["inpaint", str(image_path), "-o", str(tmp_path / "a.png")]) == 0
    assert np.array_equal(_read(tmp_path / "a.png"), image)  # the fake blind method: untouched
    (shipped / "table.json").unlink()
    assert cli.main(["inpaint", str(image_path), "-o", str(tmp_path / "b.png")]) == 0
    assert np.array_equal(_read(tmp_path / "b.png"), restored)


def test_models_says_how_each_measured_in_words_and_the_numbers_on_request(shipped, capsys):
    _table(shipped / "table.json", {"telea": (21.23, 0.01), "navier_stokes": (15.0, 0.02)})
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    block = lines[lines.index(next(ln for ln in lines if ln.startswith("navier_stokes "))) :][:3]
    assert any("measured: among the most accurate, instant" in ln and "default for object removal" in ln
               for ln in block)
    assert "hole L1" not in out  # plain words first
    assert cli.main(["models", "--numbers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("numbers: hole L1 15.0 @20–30 %" in ln for ln in lines)
    assert any("numbers: hole L1 21.2 @20–30 %" in ln for ln in lines)


def _edges_table(path: Path, scores: dict[str, tuple[float, float]], aware: list[str]) -> Path:
    """{method: (hole L1, edge recall)} measured with the photo's own edges given."""
    rows = [{"model": m, "bucket": b, "n": 3, "l1_hole": l1, "edge_recall": r, "edge_precision": 0.5}
            for m, (l1, r) in scores.items() for b in ("20-30%", "30-40%")]
    table = {"format": TABLE_FORMAT, "version": 1, "fill": {}, "edges": {"rows": rows, "edge_aware": aware}}
    path.write_text(json.dumps(table), "utf-8")
    return path


def test_edges_default_follows_the_drawn_edges_best_among_the_accurate(tmp_path):
    aware = ["edge_guided", "edgeconnect"]
    table = _edges_table(tmp_path / "t.json", {
        "edge_guided": (21.0, 0.47), "edgeconnect": (21.5, 0.55),  # within 5 %: the higher recall wins
        "navier_stokes": (20.0, 0.99),  # ignores edges: never the edges default, whatever it measures
    }, aware)
    names = [*aware, "navier_stokes"]
    assert default_method("edges", table, available=names) == "edgeconnect"
    table = _edges_table(tmp_path / "t.json", {"edge_guided": (21.0, 0.47), "edgeconnect": (33.0, 0.6)}, aware)
    assert default_method("edges", table, available=names) == "edge_guided"  # a broken fill does not win on recall
    assert default_method("edges", table, available=["edge_guided"]) == "edge_guided"
    assert default_method("edges", tmp_path / "missing.json") == "edge_guided"  # the fallback needs no weights


def test_cli_with_edges_and_no_model_uses_the_edges_default(tmp_path, shipped, capsys):
    image_path, mask_path, image, mask = _photo(tmp_path)
    edges = np.zeros(mask.shape, np.uint8)
    edges[:, 24] = 255
    Image.fromarray(edges).save(tmp_path / "edges.png")
    _edges_table(shipped / "table.json", {"edge_guided": (21.0, 0.47)}, ["edge_guided"])
    args = ["inpaint", str(image_path), "--mask", str(mask_path), "--edges", str(tmp_path / "edges.png")]
    assert cli.main([*args, "-o", str(tmp_path / "a.png")]) == 0
    assert np.array_equal(_read(tmp_path / "a.png"), create_method("edge_guided").inpaint(image, mask, edges))


# --- per task: object removal by texture among the accurate, thin damage by L1 ---------------------------------


def _texture_table(path: Path, scores: dict[str, dict[str, tuple[float, float, float]]]) -> Path:
    """{method: {bucket: (hole L1, detail, patch SWD)}} at 256² (0.1 s per image each)."""
    rows = [
        {"model": m, "bucket": b, "n": 3, "l1_hole": l1, "detail": d, "swd": swd, "seconds_per_image": 0.1}
        for m, buckets in scores.items()
        for b, (l1, d, swd) in buckets.items()
    ]
    path.write_text(json.dumps({"format": TABLE_FORMAT, "version": 1, "fill": {"256": {"rows": rows}}}), "utf-8")
    return path


def _all_buckets(free: tuple[float, float, float], thin: tuple[float, float, float], box: tuple[float, float, float]):
    return {"20-30%": free, "30-40%": free, "thin": thin, "centre": box}


def test_object_removal_takes_the_most_photo_like_texture_within_the_margin(tmp_path):
    table = _texture_table(tmp_path / "t.json", {
        "navier_stokes": _all_buckets((20.0, 0.2, 7.0), (5.0, 0.3, 3.0), (30.0, 0.1, 12.0)),
        "patchmatch": _all_buckets((20.8, 1.05, 6.0), (6.0, 1.0, 2.5), (30.5, 1.0, 9.0)),  # +4 %: inside 5 %
        "learned": _all_buckets((26.0, 0.9, 4.0), (9.0, 0.9, 2.0), (40.0, 0.9, 5.0)),  # best SWD, far worse L1
    })
    names = ["navier_stokes", "patchmatch", "learned"]
    assert choose_default(json.loads(table.read_text()), "fill", names)[0] == "patchmatch"
    assert default_method("fill", table, available=names) == "patchmatch"
    assert default_method("box", table, available=names) == "patchmatch"
    assert default_method("thin", table, available=names) == "navier_stokes"  # thin damage: the lowest L1
    # Outside the margin, texture no longer decides.
    worse = _texture_table(tmp_path / "w.json", {
        "navier_stokes": _all_buckets((20.0, 0.2, 7.0), (5.0, 0.3, 3.0), (30.0, 0.1, 12.0)),
        "patchmatch": _all_buckets((21.2, 1.05, 6.0), (6.0, 1.0, 2.5), (30.5, 1.0, 9.0)),  # +6 %
    })
    assert default_method("fill", worse, available=names) == "navier_stokes"


def test_equal_texture_goes_to_the_detail_nearer_one(tmp_path):
    table = _texture_table(tmp_path / "t.json", {
        "grainy": _all_buckets((20.0, 1.6, 6.0), (5.0, 1.0, 3.0), (30.0, 1.0, 9.0)),
        "photo_like": _all_buckets((20.2, 0.95, 6.05), (5.0, 1.0, 3.0), (30.0, 1.0, 9.0)),  # SWD within 2 %
    })
    assert default_method("fill", table, available=["grainy", "photo_like"]) == "photo_like"


def test_a_table_without_texture_numbers_keeps_the_l1_rule(tmp_path):
    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "navier_stokes": (19.0, 0.01), "patchmatch": (19.5, 0.5)})
    assert default_method("fill", table, available=["telea", "navier_stokes", "patchmatch"]) == "navier_stokes"


def test_excluded_methods_never_win(tmp_path):
    table = _table(tmp_path / "t.json", {"auto": (10.0, 0.01), "telea": (20.0, 0.01)})
    assert default_method("fill", table, available=["auto", "telea"]) == "auto"
    assert default_method("fill", table, available=["auto", "telea"], exclude=("auto",)) == "telea"


def test_plain_words_first(tmp_path):
    from inpaint_studio.engine.defaults import measured_words

    table = _texture_table(tmp_path / "t.json", {
        "navier_stokes": _all_buckets((20.0, 0.2, 7.0), (5.0, 0.3, 3.0), (30.0, 0.1, 12.0)),
        "patchmatch": _all_buckets((20.8, 1.05, 6.0), (6.0, 1.0, 2.5), (30.5, 1.0, 9.0)),
        "learned": _all_buckets((26.0, 0.6, 4.0), (9.0, 0.9, 2.0), (40.0, 0.9, 5.0)),
    })
    words = measured_words(table)
    assert words["navier_stokes"].startswith("smooth, blurred fill, among the most accurate")
    assert words["patchmatch"].startswith("photo-like texture, among the most accurate")
    assert words["learned"].startswith("softer than the photo, less accurate than the best")
    assert not any(ch.isdigit() for text in words.values() for ch in text)  # numbers are one click away


def test_methods_below_the_default_are_named_with_it(tmp_path, fake_blind):
    from inpaint_studio.engine.defaults import below_default

    table = _table(tmp_path / "t.json", {"telea": (20.0, 0.01), "navier_stokes": (20.5, 0.01), "fsr_fast": (30.0, 2.0)},
                   blind={"classical_restore": (30.0, 27.0), fake_blind: (31.0, 26.0)})
    names = ["telea", "navier_stokes", "fsr_fast", "classical_restore", fake_blind]
    # telea is the default; navier_stokes is within the margin; fsr_fast is 50 % worse; classical_restore
    # gains 3 dB against the fake's 5.
    assert below_default(table, names) == {"fsr_fast": "telea", "classical_restore": fake_blind}
    assert below_default(tmp_path / "missing.json", names) == {}
