"""Checkpoints by name: two imports listed beside the shipped one and picked by name or METHOD:NAME (each runs
its own weights), the shipped weights untouched and still the default, removing, measuring, evaluate's
references, our own exports imported."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import imagegen as gen
import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_studio import cli
from inpaint_studio.core import paths
from inpaint_studio.core.errors import CheckpointError, UnknownModelError
from inpaint_studio.engine.checkpoints import save_checkpoint
from inpaint_studio.engine.evaluate import method_spec
from inpaint_studio.engine.manager import ModelManager
from inpaint_studio.engine.named_checkpoints import find_named, list_checkpoints, resolve_model
from inpaint_studio.networks.registry import create_network

GEN = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_deepfill(stem: Path, seed: int, meta: dict | None = None) -> Path:
    torch.manual_seed(seed)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    return save_checkpoint(stem, "deepfill_v2", {"generator": net}, GEN, meta)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture
def setup(tmp_path):
    """A shipped deepfill_v2 checkpoint, two exports imported as places2 and celeba, a photo and its mask."""
    shipped = tiny_deepfill(paths.SHIPPED_MODELS_DIR / "df-shipped", 2)
    exports = {n: tiny_deepfill(tmp_path / "exports" / n, seed) for n, seed in (("a", 0), ("b", 1))}
    before = _digest(paths.SHIPPED_MODELS_DIR)
    assert cli.main(["models", "import", str(exports["a"]), "--name", "places2"]) == 0
    assert cli.main(["models", "import", str(exports["b"]), "--name", "celeba"]) == 0
    image = gen.textured(40, 48, seed=3)
    mask = gen.box_mask(40, 48, 8, 10, 28, 36)
    return {"shipped": shipped, "exports": exports, "before": before, "dir": tmp_path, "image": image, "mask": mask,
            "image_path": _png(tmp_path / "photo.png", image), "mask_path": _png(tmp_path / "mask.png", mask)}


def _expected(checkpoint: Path, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    manager = ModelManager(device="cpu")
    manager.activate("deepfill_v2", load=True, checkpoint=checkpoint)
    return manager.run(image, mask)


def test_two_imports_are_listed_beside_the_untouched_shipped_one(setup, capsys):
    assert _digest(paths.SHIPPED_MODELS_DIR) == setup["before"]  # nothing written over the shipped weights
    entries = list_checkpoints("deepfill_v2")
    assert [e.name for e in entries][0] == "df-shipped"  # still the default
    assert sorted(e.name for e in entries) == ["celeba", "df-shipped", "places2"]
    places2 = find_named("places2")
    assert places2.path.parent == paths.user_models_dir() and not places2.shipped
    assert places2.source_words() == f"added from {setup['exports']['a']}"
    capsys.readouterr()
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    start = out.index("\ndeepfill_v2 ") + 1
    block = out[start:re.search(r"\n\S", out[start:]).start() + start]  # up to the next method's line
    assert "· df-shipped, the default: shipped; not measured yet" in block
    assert f"· places2: added from {setup['exports']['a']}; not measured yet" in block
    assert "· celeba:" in block and "--model deepfill_v2:NAME" in block and "models measure NAME" in block


def test_model_name_and_method_name_pick_their_own_weights(setup, capsys):
    image, mask, d = setup["image"], setup["mask"], setup["dir"]
    outs = {}
    for model in ("places2", "deepfill_v2:celeba", "deepfill_v2"):
        out = d / f"{model.replace(':', '_')}.png"
        args = ["inpaint", str(setup["image_path"]), "--mask", str(setup["mask_path"]), "-o", str(out)]
        assert cli.main([*args, "--model", model, "--device", "cpu"]) == 0, capsys.readouterr().err
        outs[model] = _read(out)
    user = paths.user_models_dir()
    assert np.array_equal(outs["places2"], _expected(user / "places2.safetensors", image, mask))
    assert np.array_equal(outs["deepfill_v2:celeba"], _expected(user / "celeba.safetensors", image, mask))
    assert np.array_equal(outs["deepfill_v2"], _expected(setup["shipped"], image, mask))  # the shipped default
    hole = mask > 0
    assert not np.array_equal(outs["places2"][hole], outs["deepfill_v2:celeba"][hole])
    assert not np.array_equal(outs["places2"][hole], outs["deepfill_v2"][hole])


def test_a_picked_name_loads_exactly_its_tensors(setup):
    choice = resolve_model("deepfill_v2:celeba")
    manager = ModelManager(device="cpu")
    manager.activate(choice.method, load=True, **choice.options())
    loaded = manager.method.modules["generator"].state_dict()
    torch.manual_seed(1)  # how celeba's export was made
    want = create_network("deepfill_v2_generator", cnum=4).state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in want.items())


def test_bad_references_are_usage_errors_naming_what_exists(setup, capsys):
    args = ["inpaint", str(setup["image_path"]), "--mask", str(setup["mask_path"]), "-o", str(setup["dir"] / "o.png")]
    assert cli.main([*args, "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "checkpoints: df-shipped, celeba, places2" in err
    assert cli.main([*args, "--model", "vcnet:places2"]) == 2
    assert "places2' is a deepfill_v2 checkpoint, not vcnet" in capsys.readouterr().err
    assert cli.main([*args, "--model", "telea=" + str(setup["exports"]["a"])]) == 2
    assert "takes no checkpoint" in capsys.readouterr().err
    assert cli.main([*args, "--model", "deepfill_v2=" + str(setup["dir"] / "missing.safetensors")]) == 2
    assert "not found" in capsys.readouterr().err
    assert cli.main([*args, "--model", "deepfill_v2=" + str(setup["dir"] / "x.pth")]) == 2
    assert "import it first" in capsys.readouterr().err
    assert not (setup["dir"] / "o.png").exists()


def test_import_names_must_stay_unambiguous(setup, capsys):
    a = str(setup["exports"]["a"])
    for name, why in (("telea", "is a model's name"), ("df-shipped", "shipped checkpoint"),
                      ("places2", "exists already")):
        assert cli.main(["models", "import", a, "--name", name]) == 1
        assert why in capsys.readouterr().err
    assert sorted(e.name for e in list_checkpoints()) == ["celeba", "df-shipped", "places2"]


def test_remove_deletes_a_user_checkpoint_and_refuses_a_shipped_one(setup, capsys):
    user = paths.user_models_dir()
    (user / "places2.md").write_text("card")  # the card goes with it
    assert cli.main(["models", "remove", "places2"]) == 0
    assert "removed places2" in capsys.readouterr().out
    assert not any(p.name.startswith("places2") for p in user.iterdir())
    assert [e.name for e in list_checkpoints("deepfill_v2")] == ["df-shipped", "celeba"]
    assert cli.main(["models", "remove", "places2"]) == 2  # gone: unknown now
    assert "unknown checkpoint 'places2'" in capsys.readouterr().err
    assert cli.main(["models", "remove", "df-shipped"]) == 1
    assert "ships with Inpaint Studio" in capsys.readouterr().err
    assert _digest(paths.SHIPPED_MODELS_DIR) == setup["before"]


def test_a_checkpoint_with_weights_but_no_json_is_not_listed(setup):
    # What a removal interrupted after its first step leaves: never listed, never picked.
    (paths.user_models_dir() / "celeba.json").unlink()
    assert "celeba" not in [e.name for e in list_checkpoints()]
    with pytest.raises(UnknownModelError):
        resolve_model("celeba")


def test_measure_records_numbers_against_telea_on_the_bundled_photos(setup, capsys):
    assert cli.main(["models", "measure", "places2", "--device", "cpu"]) == 0
    block = json.loads((paths.user_models_dir() / "places2.json").read_text())["measured"]
    assert block["photos"] == "bundled samples" and block["count"] == 4 and block["size"] == 256
    assert block["buckets"] == ["10-20%", "20-30%", "30-40%"]
    # an untrained network is far from Telea's smooth fill: the words say so
    assert block["l1_hole"] > 1.1 * block["telea_l1_hole"] > 0
    entry = find_named("places2")
    assert entry.measured_words() == "less accurate than Telea on bundled samples"
    assert f"l1 hole {block['l1_hole']:.4g}" in entry.numbers()
    assert find_named("celeba").measured_words() == "not measured yet"
    capsys.readouterr()
    assert cli.main(["models", "--numbers"]) == 0
    out = capsys.readouterr().out
    assert "less accurate than Telea on bundled samples" in out and f"numbers: {entry.numbers()}" in out


def test_measure_prefers_the_fetched_validation_photos(tmp_path):
    from inpaint_studio.engine.checkpoint_measure import measurement_photos

    assert measurement_photos()[0] == "bundled samples"
    val = paths.user_cache_dir() / "photos" / "val"
    val.mkdir(parents=True)
    for i in range(3):
        _png(val / f"p{i}.png", gen.textured(32, 32, seed=i))
    (val / "notes.txt").write_text("x")
    label, photos = measurement_photos()
    assert label == "validation photos" and [p.name for p in photos] == ["p0.png", "p1.png", "p2.png"]


def test_evaluate_takes_checkpoint_names_beside_options(setup):
    user = paths.user_models_dir()
    assert method_spec("places2") == ("deepfill_v2[places2]", "deepfill_v2", {"checkpoint": user / "places2.safetensors"})
    label, name, options = method_spec("deepfill_v2:celeba:working_size=0")
    assert (label, name) == ("deepfill_v2[celeba]:working_size=0", "deepfill_v2")
    assert options == {"checkpoint": user / "celeba.safetensors", "working_size": 0}
    assert method_spec("vcnet:detector=mpn") == ("vcnet:detector=mpn", "vcnet", {"detector": "mpn"})
    with pytest.raises(UnknownModelError, match="not vcnet"):
        method_spec("vcnet:places2")


def test_an_import_is_the_default_only_where_nothing_ships(tmp_path, capsys):
    a = tiny_deepfill(tmp_path / "a", 0)
    assert cli.main(["models", "import", str(a), "--name", "mine"]) == 0
    assert "it is deepfill_v2's default" in capsys.readouterr().out
    tiny_deepfill(paths.SHIPPED_MODELS_DIR / "ship", 1)
    assert [e.name for e in list_checkpoints("deepfill_v2")] == ["ship", "mine"]


def test_import_of_our_own_checkpoint_checks_it_first(tmp_path, capsys):
    good = tiny_deepfill(tmp_path / "good", 0, {"source": {"trained_by": "inpaint-studio trainer"},
                                                "stages": [{"run_dir": "runs/df"}]})
    (tmp_path / "good.md").write_text("# card")
    from inpaint_studio.engine.importer import import_checkpoint

    st = import_checkpoint(good.with_suffix(".json"))  # the JSON's path works as well
    assert st == paths.user_models_dir() / "good.safetensors" and st.read_bytes() == good.read_bytes()
    assert (paths.user_models_dir() / "good.md").read_text() == "# card"
    entry = find_named("good")
    assert entry.origin == "trained" and entry.source_words() == "trained run runs/df"
    assert entry.meta["source"]["imported_from"] == str(good)
    with pytest.raises(CheckpointError, match="already in your models folder"):
        import_checkpoint(st, name="good")
    # weights that do not fit the network the JSON names are refused, nothing is written
    torch.manual_seed(0)
    wrong = save_checkpoint(tmp_path / "wrong", "deepfill_v2",
                            {"generator": create_network("deepfill_v2_generator", cnum=8)}, GEN)
    with pytest.raises(CheckpointError, match="does not fit"):
        import_checkpoint(wrong)
    assert not (paths.user_models_dir() / "wrong.json").exists()
