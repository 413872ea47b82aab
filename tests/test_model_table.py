"""benchmarks/model_table.py and the numbers it relies on from evaluate: per-image time, Telea given the true
damage mask, and the README section it rewrites without touching the hand-written text around it."""

from __future__ import annotations

from pathlib import Path

import imagegen as gen
import numpy as np
import pytest
from PIL import Image

from inpaint_studio.core.metrics import psnr
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.evaluate import damaged_cases, evaluate, prepare
from tests.benchmark_modules import benchmark_module


@pytest.fixture(scope="module")
def model_table():
    with benchmark_module("model_table") as module:
        yield module


def _photos(folder: Path, n: int = 2) -> list[Path]:
    folder.mkdir()
    out = []
    for i in range(n):
        Image.fromarray(gen.textured(48, 48, seed=20 + i)).save(folder / f"p{i}.png")
        out.append(folder / f"p{i}.png")
    return out


def test_evaluate_records_time_and_telea_given_the_true_mask(tmp_path):
    paths = _photos(tmp_path / "img")
    result = evaluate(paths, ["telea", "classical_restore"], generate=[(0.1, 0.2)], size=48, contaminate=True)
    assert all(r["seconds_per_image"] > 0 for r in result.rows)
    photos = [(p.name, prepare(np.asarray(Image.open(p).convert("RGB")), 48)) for p in paths]
    for row in result.restoration:
        cases = [c for c in damaged_cases(photos, 0) if c[0] == row["kind"]]
        expected = np.mean([psnr(create_method("telea").inpaint(dirty, target), clean) for _, clean, dirty, target in cases])
        assert row["telea_true_mask_psnr"] == pytest.approx(expected)
        if row["kind"] == "scratch":  # thin lines: knowing exactly where they are makes Telea nearly exact
            assert row["telea_true_mask_psnr"] > row["input_psnr"]
        assert row["seconds_per_image"] > 0


def test_readme_section_is_replaced_between_markers_only(tmp_path, model_table):
    readme = tmp_path / "README.md"
    readme.write_text(f"# models\n\nhand-written intro\n\n{model_table.BEGIN}\nold table\n{model_table.END}\n\nfooter\n")
    model_table.write_readme(f"{model_table.BEGIN}\nnew table\n{model_table.END}", readme)
    text = readme.read_text()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# models\n\nhand-written intro") and text.endswith("\n\nfooter\n")
    assert text.count(model_table.BEGIN) == 1


def test_photos_at_native_size_come_first(tmp_path, model_table):
    folder = tmp_path / "p"
    folder.mkdir()
    for name, side in (("a.png", 40), ("b.png", 80), ("c.png", 100), ("d.png", 30)):
        Image.fromarray(gen.textured(side, side + 5, seed=1)).save(folder / name)
    assert [p.name for p in model_table.pick_photos(folder, 64, None)] == ["b.png", "c.png", "a.png", "d.png"]
    assert [p.name for p in model_table.pick_photos(folder, 64, 3)] == ["b.png", "c.png", "a.png"]


def test_each_shipped_card_gets_its_methods_rows(tmp_path, model_table):
    from inpaint_studio.core.sections import CARD_TABLE_BEGIN as TABLE_BEGIN
    from inpaint_studio.core.sections import CARD_TABLE_END as TABLE_END

    def row(model, bucket, l1):
        return {"model": model, "bucket": bucket, "n": 3, "l1_hole": l1, "psnr_hole": 20.0, "ssim_hole": 0.5,
                "l1": 5.0, "psnr": 30.0, "ssim": 0.9, "seconds_per_image": 0.1}

    buckets = ["20-30%", "30-40%"]
    table = {
        "date": "today", "settings": {"photo_source": "test photos"},
        "fill": {"256": {"buckets": buckets, "rows": [row(m, b, l1) for m, l1 in
                                                      (("deepfill_v2", 21.5), ("telea", 24.0), ("edgeconnect", 9.0))
                                                      for b in buckets]}},
        "blind": None,
        "defaults": {"fill": {"method": "deepfill_v2", "why": "lowest"}},
    }
    (tmp_path / "df.json").write_text('{"format": "inpaint-studio-checkpoint", "method": "deepfill_v2"}')
    (tmp_path / "df.md").write_text(f"# df\n\n{TABLE_BEGIN}\nold\n{TABLE_END}\n\n## Continue training\n")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    assert model_table.update_cards(table, tmp_path) == [tmp_path / "df.md"]
    card = (tmp_path / "df.md").read_text()
    section = card.split(TABLE_BEGIN)[1].split(TABLE_END)[0]
    assert "| deepfill_v2 | 21.50 / 20.00 / 0.500 | 21.50 / 20.00 / 0.500 |" in section
    assert "| telea |" in section and "edgeconnect" not in section  # its method and the baselines only
    assert "full image" not in section and "Default for fill: `deepfill_v2`" in section
    assert "old" not in card and card.endswith("## Continue training\n")


def test_a_blind_variant_row_reaches_its_card_but_never_the_default(model_table):
    from inpaint_studio.engine.defaults import choose_default

    def row(model, gain):
        return {"model": model, "kind": "scratch", "n": 3, "mask_bce": 0.1, "mask_iou": 0.5, "psnr": 30.0 + gain,
                "ssim": 0.9, "input_psnr": 30.0, "input_ssim": 0.9}

    variant = model_table.BLIND_VARIANTS["vcnet"][0]
    table = {
        "date": "today", "settings": {"photo_source": "test photos"}, "fill": {},
        "blind": {"settings": {"size": 256, "images": ["a", "b", "c"]},
                  "restoration": [row("vcnet", 2.0), row(variant, 9.0), row("classical_restore", 3.0),
                                  row("other_blind", 1.0)]},
    }
    section = model_table.card_section(table, "vcnet")
    assert f"| {variant} | scratch |" in section and "| vcnet | scratch |" in section
    assert "| classical_restore |" in section and "other_blind" not in section
    # The variant measured best, but it is a label, not a method: the default is among real methods only.
    assert choose_default(table, "blind", available=["vcnet", "classical_restore"])[0] == "classical_restore"


def test_a_card_dates_a_re_measured_blind_part_by_its_own_date(model_table):
    table = {"date": "day 1", "settings": {"photo_source": "test photos"}, "fill": {},
             "blind": {"date": "day 2", "settings": {"size": 256, "images": ["a"]},
                       "restoration": [{"model": "vcnet", "kind": "scratch", "n": 1, "mask_bce": 0.1,
                                        "mask_iou": 0.5, "psnr": 31.0, "ssim": 0.9, "input_psnr": 30.0,
                                        "input_ssim": 0.9}]}}
    assert "(day 1; blind part day 2, test photos)" in model_table.card_section(table, "vcnet")
    table["blind"]["date"] = "day 1"
    assert "(day 1, test photos)" in model_table.card_section(table, "vcnet")


def test_unseen_photos_are_reported_beside_the_validation_ones(tmp_path, model_table):
    """Bundled sample photos as 'seen' and 'unseen' folders, two cheap fills, one photo each at 48²: the
    validation numbers stay under `fill` (the defaults read them), the unseen ones come under `unseen`, and the
    README shows both per method and bucket."""
    import json
    import shutil

    from inpaint_studio.core.paths import SAMPLES_DIR

    seen, unseen = tmp_path / "seen", tmp_path / "unseen"
    seen.mkdir()
    unseen.mkdir()
    shutil.copy(SAMPLES_DIR / "chelsea.png", seen)
    shutil.copy(SAMPLES_DIR / "coffee.png", unseen)
    out = tmp_path / "out"
    argv = ["--photos", str(seen), "--unseen-photos", str(unseen), "--sizes", "48", "--limit", "1",
            "--methods", "telea,navier_stokes", "--no-blind", "--out", str(out)]
    assert model_table.main(argv) == 0
    table = json.loads((out / "table.json").read_text())
    assert table["fill"]["48"]["settings"]["images"] == [str(seen / "chelsea.png")]
    assert table["unseen"]["fill"]["48"]["settings"]["images"] == [str(unseen / "coffee.png")]
    seen_rows = {(r["model"], r["bucket"]) for r in table["fill"]["48"]["rows"]}
    assert {(r["model"], r["bucket"]) for r in table["unseen"]["fill"]["48"]["rows"]} == seen_rows
    assert len(seen_rows) == 2 * len(model_table.BUCKETS)
    assert table["defaults"]["fill"]["method"] in ("telea", "navier_stokes")
    readme = (out / "README.md").read_text()
    assert "Seen vs unseen photos, 48²" in readme
    row = next(line for line in readme.splitlines() if line.startswith("| telea |") and "→" in line)
    assert row.count("→") == len(model_table.BUCKETS)
    # Re-measuring only the unseen part keeps the validation part as it was.
    assert model_table.main([*argv, "--unseen-only", "--unseen-limit", "1"]) == 0
    again = json.loads((out / "table.json").read_text())
    assert again["fill"] == table["fill"] and again["unseen"]["fill"]["48"]["rows"]
    assert "unseen_command" in again["settings"]


class _EdgePredictor:
    """Stands in for EdgeConnect: fills with Telea and predicts edges, perfectly (the photo's own Canny, which it
    can see here because evaluate hands it the clean photo) or not at all."""

    def __init__(self, perfect: bool) -> None:
        self.perfect = perfect

    def make(self, name: str):  # noqa: ANN201 - a method class
        from inpaint_studio.core.edges import canny_edges
        from inpaint_studio.engine import base

        perfect = self.perfect

        class Predictor(base.InpaintMethod):
            capabilities = base.Capabilities(accepts_edges=True, predicts_edges=True)

            def fill_hole(self, image, hole, edges, progress, cancel):
                return create_method("telea").fill_hole(image, hole, None, progress, cancel)

            def predict_edges(self, image, mask):
                return canny_edges(image) if perfect else np.zeros(mask.shape, np.uint8)

        Predictor.name = name
        return Predictor


def test_an_edge_networks_own_prediction_is_measured_with_the_edges(tmp_path, monkeypatch, model_table):
    from inpaint_studio.engine import base

    base._ensure_builtin_methods()
    for name, perfect in (("test_edges_perfect", True), ("test_edges_none", False)):
        cls = _EdgePredictor(perfect).make(name)
        monkeypatch.setitem(base._REGISTRY, name, base.MethodSpec(name, "", cls.capabilities, cls))
    paths = _photos(tmp_path / "img")
    result = evaluate(paths, ["test_edges_perfect", "test_edges_none", "telea"], generate=[(0.2, 0.3)], size=48,
                      guide_edges=True)
    rows = {r["model"]: r for r in result.rows}
    assert rows["test_edges_perfect"]["predicted_edge_recall"] == 1.0
    assert rows["test_edges_perfect"]["predicted_edge_precision"] == 1.0
    assert rows["test_edges_none"]["predicted_edge_recall"] == 0.0
    assert "predicted_edge_recall" not in rows["telea"]  # it predicts no edges
    text = "\n".join(model_table.edges_table(result.to_dict(), 48))
    assert "own prediction" in text and "| test_edges_none | 1.00 / 0.00 |" in text


def _part(images, size, rows):
    return {"settings": {"images": images, "size": size, "methods": sorted({r["model"] for r in rows})}, "rows": rows}


def test_merge_replaces_a_methods_rows_on_the_same_photos_only(model_table):
    row = lambda m, v: {"model": m, "bucket": "20-30%", "l1_hole": v}  # noqa: E731
    full = {"fill": {"256": _part(["a.png", "b.png"], 256, [row("telea", 24.0), row("glcic", 99.0)]),
                     "512": _part(["a.png"], 512, [row("telea", 28.0)])},
            "unseen": {"fill": {"256": _part(["u.png"], 256, [row("telea", 26.0)])}},
            "left_out": {"glcic": "not measured: weights missing", "pggan": "weights missing"}}
    partial = {"fill": {"256": _part(["a.png", "b.png"], 256, [row("glcic", 30.9)]),
                        "512": _part(["c.png"], 512, [row("glcic", 33.0)])},  # other photos: not comparable
               "unseen": {"fill": {"256": _part(["u.png"], 256, [row("glcic", 34.2)])}}}
    skipped = model_table.merge_rows(full, partial)
    assert skipped == ["fill/512"]
    assert {r["model"]: r["l1_hole"] for r in full["fill"]["256"]["rows"]} == {"telea": 24.0, "glcic": 30.9}
    assert [r["model"] for r in full["fill"]["512"]["rows"]] == ["telea"]
    assert {r["model"]: r["l1_hole"] for r in full["unseen"]["fill"]["256"]["rows"]} == {"telea": 26.0, "glcic": 34.2}
    assert full["fill"]["256"]["settings"]["methods"] == ["telea", "glcic"]
    assert full["left_out"] == {"pggan": "weights missing"}


def test_merge_needs_methods_and_an_existing_table(tmp_path, model_table):
    with pytest.raises(SystemExit, match="--merge goes with --methods"):
        model_table.main(["--merge", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="needs an existing model table"):
        model_table.main(["--merge", "--methods", "telea", "--out", str(tmp_path)])
    assert not (tmp_path / "table.json").exists()
