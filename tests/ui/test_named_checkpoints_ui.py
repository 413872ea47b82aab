"""The model picker lists each checkpoint under its method (where it came from, how it measured) and picking one
runs the method with that checkpoint's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from inpaint_studio.core import paths
from inpaint_studio.engine.checkpoints import save_checkpoint, update_metadata
from inpaint_studio.engine.manager import ModelManager
from inpaint_studio.networks.registry import create_network
from inpaint_studio.ui.model_panel import CHECKPOINT_ROLE

from .test_engine_flow import paint_hole, run_and_wait

GEN = {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}}


@pytest.fixture
def two_checkpoints():
    """A shipped deepfill_v2 checkpoint and two of the user's, one of them measured; made before the window lists
    the models."""
    made = {}
    for folder, name, seed in ((paths.SHIPPED_MODELS_DIR, "df-shipped", 2), (paths.user_models_dir(), "places2", 0),
                               (paths.user_models_dir(), "celeba", 1)):
        torch.manual_seed(seed)
        net = create_network("deepfill_v2_generator", cnum=4).eval()
        made[name] = save_checkpoint(folder / name, "deepfill_v2", {"generator": net}, GEN,
                                     {"source": {"file": f"{name}.pth", "layout": "deepfill_v2_pytorch_finetuned"}})
    update_metadata(made["places2"], lambda d: d.update(measured={
        "photos": "bundled samples", "count": 4, "size": 256, "buckets": ["20-30%"],
        "l1_hole": 20.0, "psnr_hole": 19.0, "ssim_hole": 0.5,
        "telea_l1_hole": 25.0, "telea_psnr_hole": 18.0, "telea_ssim_hole": 0.45}))
    return made


def _rows(panel):
    out = {}
    for row in range(panel.model_list.count()):
        item = panel.model_list.item(row)
        entry = item.data(CHECKPOINT_ROLE)
        if entry is not None:
            out[entry.name] = item
    return out


def test_picker_lists_checkpoints_under_their_method_and_runs_the_picked_one(two_checkpoints, window, qtbot):
    win, panel = window, window.panel
    rows = _rows(panel)
    assert set(rows) == {"df-shipped", "places2", "celeba"}
    names = [panel.model_list.item(r).text().split(" — ")[0].strip() for r in range(panel.model_list.count())]
    assert names.index("deepfill_v2") + 1 == names.index("df-shipped")  # right under its method, default first
    assert rows["df-shipped"].text().strip() == "df-shipped — comes with the app, default · not measured yet"
    assert rows["celeba"].text().strip() == "celeba — imported · not measured yet"
    assert "clearly more accurate than Telea on bundled samples" in rows["places2"].text()
    assert "l1 hole 20" in rows["places2"].toolTip() and "imported from places2.pth" in rows["places2"].toolTip()
    assert rows["celeba"].flags() & Qt.ItemFlag.ItemIsUserCheckable  # picked for Inpaint, or ticked for Compare

    panel.select_checkpoint("places2")
    assert panel.current_model == "deepfill_v2" and panel.options()["checkpoint"] == two_checkpoints["places2"]
    status = panel.model_status.text()
    assert "imported from places2.pth" in status and "Clearly more accurate than Telea" in status
    assert "l1 hole" not in status  # the numbers are one click away
    panel._link("#numbers")
    assert "l1 hole 20" in panel.model_status.text()

    paint_hole(win)
    results = {}
    for name in ("celeba", "places2"):
        assert panel.select_checkpoint(name)
        run_and_wait(qtbot, win, panel.inpaint_button, timeout=60000)
        results[name] = win.document.candidates[-1].image.copy()
    image, mask = win.document.image, win.document.binary_mask()
    for name, got in results.items():
        manager = ModelManager(device="cpu")
        manager.activate("deepfill_v2", load=True, checkpoint=two_checkpoints[name])
        assert np.array_equal(got, manager.run(image, mask)), name
    assert not np.array_equal(results["celeba"], results["places2"])
