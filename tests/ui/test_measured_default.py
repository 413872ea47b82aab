"""The desktop app preselects the best measured model from models/table.json (not a hard-coded name) and
shows its measured numbers; a stored choice of the user's still wins."""

from __future__ import annotations

import json

import pytest

from inpaint_studio.core import paths
from inpaint_studio.engine.defaults import TABLE_FORMAT


@pytest.fixture
def shipped_table(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    rows = [
        {"model": m, "bucket": b, "n": 2, "l1_hole": l1, "seconds_per_image": 0.01}
        for m, l1 in (("telea", 20.0), ("navier_stokes", 15.0))
        for b in ("20-30%", "30-40%")
    ]
    table = {"format": TABLE_FORMAT, "version": 1, "fill": {"256": {"rows": rows}}}
    (folder / "table.json").write_text(json.dumps(table))
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", folder)
    return folder


def test_initial_model_is_the_measured_best_with_its_numbers(shipped_table, window):
    assert window.panel.current_model == "navier_stokes"
    status = window.panel.model_status
    assert "Measured best for filling." in status.text() and "hole L1" not in status.text()  # plain words first
    assert "measured: hole L1 15.0 @20–30 %, 0.01 s / image — the fill default" in status.toolTip()
    status.linkActivated.emit("#numbers")  # the numbers, one click away
    assert "measured: hole L1 15.0 @20–30 %, 0.01 s / image — the fill default" in status.text()
    window.panel.select_model("telea")
    # another method: its numbers next to the default's, so the user sees what choosing it costs
    assert ("measured: hole L1 20.0 @20–30 %, 0.01 s / image (the fill default, navier_stokes: hole L1 15.0"
            in window.panel.model_status.text())
    assert window.settings.get("model") == "telea"  # the user's pick is remembered ...
    window._on_models(list(window.models.values()))
    assert window.panel.current_model == "telea"  # ... and wins over the table next time


def test_a_shipped_checkpoint_links_its_model_card(shipped_table, window, monkeypatch):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network
    from inpaint_studio.ui.worker import describe_models

    net = create_network("deepfill_v2_generator", cnum=4)
    save_checkpoint(shipped_table / "df-small", "deepfill_v2", {"generator": net},
                    {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}})
    (shipped_table / "df-small.md").write_text("# df-small\n")
    infos = describe_models()
    info = next(i for i in infos if i.name == "deepfill_v2")
    assert info.status == "shipped" and info.card == str(shipped_table / "df-small.md")
    assert next(i for i in infos if i.name == "telea").card == ""
    window._on_models(infos)
    window.panel.select_model("deepfill_v2")
    text = window.panel.model_status.text()
    assert ">model card</a>" in text and "df-small.md" in text
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    window.panel.model_status.linkActivated.emit(QUrl.fromLocalFile(str(shipped_table / "df-small.md")).toString())
    assert opened == [str(shipped_table / "df-small.md")]
    assert 'style="color:#8ab4f8"' in text  # a link colour readable on the dark theme
