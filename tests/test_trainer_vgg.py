"""VGG19: torchvision's key layout loads; with a weights file the perceptual/style (EdgeConnect) and
feature/ID-MRF (VCNet) terms train; without one they are off and the log and checkpoint say so."""

from __future__ import annotations

import csv

import pytest
import torch

from inpaint_studio.core.errors import CheckpointError
from trainer.loop import build_config, train
from trainer.toydata import write_toy_images
from trainer.vgg import LAYERS, VGG19Features, load_vgg19

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def folders(tmp_path):
    write_toy_images(tmp_path / "train", 4, size=(40, 48), seed=0, flat=True)
    return tmp_path


def test_vgg19_loads_torchvision_keys_and_returns_named_layers(tmp_path):
    torch.manual_seed(0)
    ref = VGG19Features()
    state = {k: v.clone() for k, v in ref.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files also hold the classifier
    torch.save(state, tmp_path / "vgg19.pth")
    vgg = load_vgg19(tmp_path / "vgg19.pth")
    x = torch.rand(1, 3, 32, 32)
    a, b = vgg(x, ["relu1_1", "relu3_2"])
    assert a.shape == (1, 64, 32, 32) and b.shape == (1, 256, 8, 8)
    assert torch.equal(b, ref(x, ["relu3_2"])[0])
    assert LAYERS["relu1_1"] == 1 and LAYERS["relu5_1"] == 29  # torchvision's indices
    assert not any(p.requires_grad for p in vgg.parameters())
    torch.save({"features.0.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match="not a torchvision VGG19"):
        load_vgg19(tmp_path / "bad.pth")


@pytest.mark.parametrize(("recipe", "stage", "terms"), [("edgeconnect", "inpaint", {"perceptual", "style"}),
                                                        ("vcnet", "rin", {"feature", "id_mrf"})])
def test_vgg_terms_train_when_weights_are_given(folders, tmp_path, recipe, stage, terms):
    torch.manual_seed(0)
    torch.save(VGG19Features().state_dict(), tmp_path / "vgg19.pth")  # torchvision's key layout
    opts = {"data": str(folders / "train"), "val_data": str(folders / "train"), "image_size": 32,
            "batch_size": 2, "width": 0.125, "steps": 1, "val_images": 2, "log_every": 1, "progress": False,
            "device": "cpu", "threads": 1, "network": {"num_blocks": 1}, "run_dir": str(tmp_path / "run"),
            "vgg_weights": str(tmp_path / "vgg19.pth")}
    result = train(build_config(recipe, stage, cli_options=opts), log=lambda m: None)
    assert result.step == 1
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert terms <= set(rows[-1]) and all(float(rows[-1][t]) > 0 for t in terms)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["vgg_terms_off"] == []
    # without the file the same run says which terms are off
    opts.update(vgg_weights="", run_dir=str(tmp_path / "run2"))
    messages: list[str] = []
    train(build_config(recipe, stage, cli_options=opts), log=messages.append)
    assert any("no VGG19 weights" in m for m in messages)
    assert set(torch.load(tmp_path / "run2" / "checkpoints" / "last.pt", weights_only=True)["vgg_terms_off"]) == terms
