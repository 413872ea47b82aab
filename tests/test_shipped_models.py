"""Every checkpoint shipped in models/ loads through the engine and reproduces the numbers recorded in its
JSON on a bundled photo (engine/sample_check.py); and the checker itself catches a wrong recorded number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inpaint_studio.core.paths import SHIPPED_MODELS_DIR
from inpaint_studio.engine import sample_check

pytestmark = pytest.mark.shipped_models  # these check what models/ really holds


def _shipped_checkpoints() -> list[Path]:
    out = []
    for path in sorted(SHIPPED_MODELS_DIR.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out.append(path)  # an unreadable JSON in models/ is a failure, not something to skip
            continue
        if isinstance(doc, dict) and doc.get("format") == "inpaint-studio-checkpoint":
            out.append(path)
    return out


SHIPPED = _shipped_checkpoints()


@pytest.mark.parametrize(
    "checkpoint",
    SHIPPED or [pytest.param(None, marks=pytest.mark.skip(reason="no checkpoints shipped yet"))],
    ids=[p.stem for p in SHIPPED] or ["none"],
)
def test_shipped_checkpoint_reproduces_its_recorded_numbers(checkpoint):
    assert sample_check.check(checkpoint) == []


def _tiny_checkpoint(folder: Path) -> Path:
    import torch

    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    torch.manual_seed(0)
    net = create_network("deepfill_v2_generator", cnum=4).eval()
    components = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}}
    return save_checkpoint(folder / "tiny", "deepfill_v2", {"generator": net}, components)



def test_checker_passes_a_true_record_and_reports_a_wrong_one(tmp_path, one_torch_thread):
    st = _tiny_checkpoint(tmp_path)
    assert sample_check.check(st)[0].endswith("(run `python -m inpaint_studio.engine.sample_check --record`)")

    block = sample_check.record(st, size=32)
    assert block["size"] == 32 and block["l1_hole"] > 0
    assert sample_check.check(st) == []  # a faithful record passes

    json_path = st.with_suffix(".json")
    doc = json.loads(json_path.read_text())
    doc["sample_check"]["l1_hole"] = block["l1_hole"] + 3.0  # a wrong recorded number
    json_path.write_text(json.dumps(doc))
    problems = sample_check.check(st)
    assert len(problems) == 1 and "l1_hole" in problems[0] and "recorded" in problems[0]


def test_a_mask_predicting_checkpoint_also_records_its_blind_numbers(tmp_path, one_torch_thread):
    import torch

    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    torch.manual_seed(0)
    nets = {"mpn": create_network("vcnet_mpn", base_channels=8), "rin": create_network("vcnet_rin", base_channels=4,
                                                                                        neck_channels=16)}
    with torch.no_grad():  # an MPN that marks everything: IoU = the damaged fraction, a repaint of it all
        nets["mpn"].conv1.weight.zero_()
        nets["mpn"].conv1.bias.fill_(30.0)
    components = {"mpn": {"network": "vcnet_mpn", "config": {"base_channels": 8}},
                  "rin": {"network": "vcnet_rin", "config": {"base_channels": 4, "neck_channels": 16}}}
    st = save_checkpoint(tmp_path / "vc", "vcnet", nets, components)
    block = sample_check.record(st, size=64)
    assert 0.0 < block["mask_iou"] < 1.0 and block["blind_psnr"] > 0
    assert sample_check.check(st) == []
    doc = json.loads(st.with_suffix(".json").read_text())
    doc["sample_check"]["mask_iou"] = block["mask_iou"] + 0.2
    del doc["sample_check"]["blind_psnr"]
    st.with_suffix(".json").write_text(json.dumps(doc))
    problems = sample_check.check(st)
    assert len(problems) == 2
    assert any("mask_iou" in p for p in problems) and any("blind_psnr is missing" in p for p in problems)
