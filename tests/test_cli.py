"""The `inpaint-studio` command: outputs on disk, and one-line errors with the right exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import imagegen as gen
import numpy as np
import pytest
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.engine.base import create_method, method_specs


def _png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture
def files(tmp_path):
    image = gen.textured(48, 64, seed=7)
    mask = gen.box_mask(48, 64, 10, 12, 30, 40)
    return {
        "image": image,
        "mask": mask,
        "image_path": _png(tmp_path / "photo.png", image),
        "mask_path": _png(tmp_path / "mask.png", mask),
        "dir": tmp_path,
    }


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_inpaint_writes_fill_and_keeps_known_pixels(files, capsys):
    out = files["dir"] / "out.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea", "-o", str(out)])
    assert code == 0
    result, image, mask = _read(out), files["image"], files["mask"]
    assert np.array_equal(result[mask == 0], image[mask == 0])
    assert result.shape == image.shape
    # Telea never sees the hole's true (noisy) pixels, so its smooth fill cannot reproduce them.
    assert not np.array_equal(result[mask > 0], image[mask > 0])


def test_inpaint_keeps_alpha(files):
    rgba = np.dstack([files["image"], np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))])
    src = _png(files["dir"] / "rgba.png", rgba)
    out = files["dir"] / "rgba_out.png"
    assert cli.main(["inpaint", str(src), "--mask", str(files["mask_path"]), "-o", str(out)]) == 0
    written = np.asarray(Image.open(out))
    assert written.shape == (48, 64, 4) and np.array_equal(written[..., 3], rgba[..., 3])


def test_missing_device_is_reported_before_work(files, capsys, monkeypatch):
    import inpaint_studio.engine.device as device

    monkeypatch.setattr(device, "available_devices", lambda: ["cpu"])
    out = files["dir"] / "o.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--device", "cuda", "-o", str(out)])
    assert code == 1 and "cuda" in _one_error_line(capsys.readouterr().err) and not out.exists()


def test_inpaint_option_reaches_the_method(files):
    outs = []
    for radius in ("1", "20"):
        out = files["dir"] / f"r{radius}.png"
        args = ["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "-o", str(out)]
        assert cli.main([*args, "--option", f"radius={radius}"]) == 0
        outs.append(_read(out))
    assert not np.array_equal(outs[0], outs[1])


def test_size_mismatch_is_one_line_and_nothing_written(files, capsys):
    small = _png(files["dir"] / "small.png", np.zeros((10, 10), np.uint8))
    out = files["dir"] / "out.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(small), "-o", str(out)])
    assert code == 1
    assert "--resize-mask" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_resize_mask_scales_a_mismatched_mask(files):
    half = _png(files["dir"] / "half.png", files["mask"][::2, ::2])
    out = files["dir"] / "out.png"
    assert cli.main(["inpaint", str(files["image_path"]), "--mask", str(half), "--resize-mask", "-o", str(out)]) == 0
    assert _read(out).shape == files["image"].shape


def test_unknown_model_is_a_usage_error(files, capsys):
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "nope", "-o", str(files["dir"] / "o.png")])
    assert code == 2
    assert "nope" in _one_error_line(capsys.readouterr().err)


def test_unreadable_image(files, capsys):
    bad = files["dir"] / "bad.png"
    bad.write_bytes(b"definitely not a png")
    code = cli.main(["inpaint", str(bad), "--mask", str(files["mask_path"]), "-o", str(files["dir"] / "o.png")])
    assert code == 1
    _one_error_line(capsys.readouterr().err)


def test_missing_mask_for_a_model_that_needs_one(files, capsys):
    assert cli.main(["inpaint", str(files["image_path"]), "--model", "telea", "-o", str(files["dir"] / "o.png")]) == 2
    assert "--mask" in _one_error_line(capsys.readouterr().err)


def test_refuses_to_overwrite_output_or_input(files, capsys):
    out = files["dir"] / "out.png"
    out.write_bytes(b"precious")
    args = ["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"])]
    assert cli.main([*args, "-o", str(out)]) == 1
    assert "--overwrite" in _one_error_line(capsys.readouterr().err)
    assert out.read_bytes() == b"precious"

    before = files["image_path"].read_bytes()
    assert cli.main([*args, "-o", str(files["image_path"])]) == 1
    assert "input image" in _one_error_line(capsys.readouterr().err)
    assert files["image_path"].read_bytes() == before

    assert cli.main([*args, "-o", str(out), "--overwrite"]) == 0
    assert out.read_bytes() != b"precious"


def test_batch_skips_a_corrupt_image_and_reports_it(tmp_path, capsys):
    images, masks, out = tmp_path / "images", tmp_path / "masks", tmp_path / "out"
    images.mkdir()
    masks.mkdir()
    mask = gen.box_mask(32, 32, 8, 8, 20, 20)
    originals = {}
    for i, stem in enumerate(("a", "b")):
        originals[stem] = gen.textured(32, 32, seed=i)
        _png(images / f"{stem}.png", originals[stem])
    (images / "c.png").write_bytes(b"garbage")
    _png(masks / "a.png", mask)
    _png(masks / "b_mask.png", mask)  # the STEM_mask naming
    _png(masks / "c.png", mask)

    code = cli.main(["batch", "--images", str(images), "--masks", str(masks), "--model", "telea", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "c.png" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for stem in ("a", "b"):
        assert np.array_equal(_read(out / f"{stem}.png")[mask == 0], originals[stem][mask == 0])


def test_batch_with_one_mask_file_for_all(tmp_path):
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    for i in range(2):
        _png(images / f"p{i}.png", gen.textured(32, 32, seed=i))
    mask_file = _png(tmp_path / "mask.png", gen.box_mask(32, 32, 4, 4, 12, 12))
    assert cli.main(["batch", "--images", str(images), "--masks", str(mask_file), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png"]


def test_evaluate_writes_json_and_markdown_tables(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(2):
        _png(images / f"p{i}.png", gen.textured(40, 60, seed=i))
    out = tmp_path / "report"
    code = cli.main([
        "evaluate", "--images", str(images), "--generate-masks", "--ratios", "0.1-0.2,centre",
        "--models", "telea,navier_stokes", "--size", "32", "-o", str(out),
    ])
    assert code == 0
    data = json.loads((out / "evaluation.json").read_text())
    assert data["buckets"] == ["10-20%", "centre"]
    assert {(r["model"], r["bucket"]) for r in data["rows"]} == {
        (m, b) for m in ("telea", "navier_stokes") for b in ("10-20%", "centre")
    }
    assert all(r["n"] == 2 for r in data["rows"])
    table = [line for line in (out / "evaluation.md").read_text().splitlines() if line.startswith("|")]
    assert len(table) == 2 + 2  # header, separator, one row per model
    assert all(line.count("|") == 1 + 1 + 3 * 2 for line in table)
    assert table[0] in capsys.readouterr().out


def test_evaluate_rejects_bad_ratio(tmp_path, capsys):
    (tmp_path / "i").mkdir()
    _png(tmp_path / "i" / "a.png", gen.textured(32, 32))
    code = cli.main(["evaluate", "--images", str(tmp_path / "i"), "--generate-masks", "--ratios", "0.5-0.2", "--models", "telea"])
    assert code == 2
    _one_error_line(capsys.readouterr().err)


def test_evaluate_refuses_a_missing_checkpoint_file(tmp_path, capsys):
    (tmp_path / "i").mkdir()
    _png(tmp_path / "i" / "a.png", gen.textured(32, 32))
    code = cli.main(["evaluate", "--images", str(tmp_path / "i"), "--generate-masks",
                     "--models", f"telea,deepfill_v2={tmp_path / 'nope.safetensors'}"])
    assert code == 2
    assert "nope.safetensors" in _one_error_line(capsys.readouterr().err)


def test_evaluate_refuses_an_option_the_method_lacks_and_names_its_options(tmp_path, capsys):
    (tmp_path / "i").mkdir()
    _png(tmp_path / "i" / "a.png", gen.textured(32, 32))
    code = cli.main(["evaluate", "--images", str(tmp_path / "i"), "--generate-masks", "-o", str(tmp_path / "out"),
                     "--models", "telea,classical_restore:bogus=1"])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no option bogus" in line and "threshold" in line
    assert not (tmp_path / "out").exists()  # refused before any work


def test_models_lists_classical_and_learned(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    telea = next(line for line in out.splitlines() if line.startswith("telea "))
    assert "no weights needed" in telea
    entries = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    for spec in method_specs():
        method = create_method(spec.name)
        info = method.weights_info()
        expected = info if method.is_available() or info.startswith("weights missing") else "no weights found — import with"
        assert expected in entries[spec.name]


def test_models_import_calls_the_importer(tmp_path, monkeypatch, capsys):
    calls = []
    fake = types.ModuleType("inpaint_studio.engine.importer")
    fake.import_checkpoint = lambda path, name=None: calls.append((path, name)) or tmp_path / "x.safetensors"
    monkeypatch.setitem(sys.modules, "inpaint_studio.engine.importer", fake)
    pth = tmp_path / "gen.pth"
    pth.write_bytes(b"x")
    assert cli.main(["models", "import", str(pth), "--name", "mine"]) == 0
    assert calls == [(pth, "mine")] and "x.safetensors" in capsys.readouterr().out


def test_image_argument_opens_the_app(files, monkeypatch):
    opened = []
    fake = types.ModuleType("inpaint_studio.ui.app")
    fake.main = lambda path=None: opened.append(path) or 0
    monkeypatch.setitem(sys.modules, "inpaint_studio.ui.app", fake)
    assert cli.main([str(files["image_path"])]) == 0
    assert cli.main([]) == 0
    assert opened == [str(files["image_path"]), None]


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "models", interrupted)
    assert cli.main(["models"]) == 130
    assert capsys.readouterr().err.strip() == "cancelled"


def test_console_run_prints_one_line_and_imports_no_torch(tmp_path):
    """Through a real interpreter: exit status, stderr, and a cheap start (no torch at import)."""
    proc = subprocess.run(
        [sys.executable, "-m", "inpaint_studio", "inpaint", str(tmp_path / "missing.png"), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.png")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    _one_error_line(proc.stderr)
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, inpaint_studio.cli; print('torch' in sys.modules, 'PySide6' in sys.modules)"],
        capture_output=True, text=True, timeout=60,
    )
    assert probe.stdout.split() == ["False", "False"]


def test_model_without_weights_is_one_line(files, capsys):
    missing = [s.name for s in method_specs() if s.capabilities.learned and not create_method(s.name).is_available()]
    if not missing:
        pytest.skip("every learned method has weights here")
    out = files["dir"] / "o.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", missing[0], "-o", str(out)])
    assert code == 1 and not out.exists()
    assert "models import" in _one_error_line(capsys.readouterr().err)


# --- usage faults: exit 2, one line that says what to do --------------------------------------------


@pytest.mark.parametrize(
    ("option", "says"),
    [("bogus=1", "no option bogus"), ("radius=abc", "radius takes an integer, not 'abc'"),
     ("radius=-5", "radius must be ≥ 1, got -5"), ("radius=0", "radius must be ≥ 1, got 0")],
)
def test_a_bad_option_is_a_usage_error_naming_the_methods_options(files, capsys, option, says):
    out = files["dir"] / "out.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea",
                     "--option", option, "-o", str(out)])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert says in line and "its options: radius (integer ≥ 1, default 5)" in line
    assert not out.exists()


def test_a_value_the_method_itself_refuses_is_a_usage_error_too(files, capsys):
    # threshold=0 is in the form's range; the detector's own check refuses it.
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model",
                     "classical_restore", "--option", "threshold=0", "-o", str(files["dir"] / "out.png")])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "threshold must be in (0, 1]" in line and "its options: threshold" in line


def test_a_wrong_sized_edge_map_names_resize_mask(files, capsys, monkeypatch):
    edges = _png(files["dir"] / "edges.png", np.zeros((24, 32), np.uint8))
    edge_aware = types.SimpleNamespace(capabilities=types.SimpleNamespace(accepts_edges=True),
                                       run=lambda image, mask, edges, cancel: image)
    monkeypatch.setattr(cli, "_manager", lambda args: edge_aware)  # no weights needed to reach the check
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea",
                     "--edges", str(edges), "-o", str(files["dir"] / "out.png")])
    assert code == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "--edges map is 32×24 but the image is 64×48; pass --resize-mask" in line
    assert "pass resize " not in line


def test_an_output_folder_is_refused_with_a_file_name_to_use(files, capsys):
    folder = files["dir"] / "results"
    folder.mkdir()
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea",
                     "-o", f"{folder}/", "--overwrite"])
    assert code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "is a folder" in line and f"{folder}/filled.png" in line and "--overwrite" not in line
    assert list(folder.iterdir()) == []
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea",
                     "-o", str(folder)])  # an existing folder named without the slash
    assert code == 2
    assert f"-o {folder / 'photo.png'}" in _one_error_line(capsys.readouterr().err)
    assert not (files["dir"] / "new").exists()
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(files["mask_path"]), "--model", "telea",
                     "-o", f"{files['dir'] / 'new'}/"])  # a folder that does not exist yet
    assert code == 2 and "is a folder" in _one_error_line(capsys.readouterr().err)


def test_batch_counts_and_names_the_files_it_does_not_read(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    _png(images / "a.png", gen.textured(32, 32, seed=1))
    Image.fromarray(gen.textured(32, 32, seed=2)).save(images / "anim.gif")
    (images / "notes.txt").write_text("shot list")
    (images / ".DS_Store").write_bytes(b"\0")
    mask_file = _png(tmp_path / "mask.png", gen.box_mask(32, 32, 4, 4, 12, 12))
    code = cli.main(["batch", "--images", str(images), "--masks", str(mask_file), "--model", "telea", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and "wrote 1 of 1 images" in captured.out
    lines = [line for line in captured.err.splitlines() if "skipped" in line]
    assert len(lines) == 1 and "skipped 2 files" in lines[0] and "anim.gif, notes.txt" in lines[0]
    assert ".gif" in lines[0] and ".DS_Store" not in lines[0]


def test_batch_of_only_gifs_says_so(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(gen.textured(32, 32, seed=2)).save(images / "anim.gif")
    code = cli.main(["batch", "--images", str(images), "--masks", str(tmp_path), "--model", "telea",
                     "-o", str(tmp_path / "out")])
    assert code == 2
    assert "skipped 1 file in a format batch does not read (.gif" in _one_error_line(capsys.readouterr().err)


def test_an_all_white_mask_is_refused_with_a_plain_message(files, capsys):
    white = _png(files["dir"] / "white.png", np.full((48, 64), 255, np.uint8))
    out = files["dir"] / "out.png"
    code = cli.main(["inpaint", str(files["image_path"]), "--mask", str(white), "--model", "telea", "-o", str(out)])
    assert code == 1
    assert "the mask covers the whole image" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()  # not a silent copy of the photo
