"""The desktop app preselects the best measured model from models/table.json (not a hard-coded name) and
shows how it measured (in words; the numbers in the tooltip); a stored choice of the user's still wins."""

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
        {"model": m, "bucket": b, "n": 2, "l1_hole": l1, "seconds_per_image": 0.01, "detail": d, "swd": 5.0}
        for m, l1, d in (("telea", 20.0, 0.3), ("navier_stokes", 15.0, 0.2))
        for b in ("20-30%", "30-40%")
    ]
    table = {"format": TABLE_FORMAT, "version": 1, "fill": {"256": {"rows": rows}}}
    (folder / "table.json").write_text(json.dumps(table))
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", folder)
    return folder


def test_initial_model_is_the_measured_best_with_its_numbers(shipped_table, window):
    assert window.panel.current_model == "navier_stokes"
    status = window.panel.model_status
    assert "Measured: smooth, blurred fill, among the most accurate, instant — the default for removing objects" in (
        status.text()
    )
    assert "hole L1" not in status.text()  # plain words first
    assert "measured: hole L1 15.0 @20–30 %" in status.toolTip()  # the numbers, one hover away ...
    status.linkActivated.emit("#numbers")  # ... and one click away
    assert "measured: hole L1 15.0 @20–30 %" in status.text()
    status.linkActivated.emit("#numbers")
    window.panel.select_model("telea")
    # another method: how it measured, and which method is the default instead
    assert ("Measured: smooth, blurred fill, less accurate than the best, instant (the default for removing objects "
            "is navier_stokes)" in status.text())
    assert "hole L1 20.0 @20–30 %" in status.toolTip()
    assert window.settings.get("model") == "telea"  # the user's pick is remembered ...
    window.jobs.show_models(list(window.jobs.models.values()))
    assert window.panel.current_model == "telea"  # ... and wins over the table next time


def test_a_shipped_checkpoint_links_its_model_card(shipped_table, window, monkeypatch):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    from inpaint_studio.engine.catalogue import describe_models
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    net = create_network("deepfill_v2_generator", cnum=4)
    save_checkpoint(shipped_table / "df-small", "deepfill_v2", {"generator": net},
                    {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}})
    (shipped_table / "df-small.md").write_text("# df-small\n")
    infos = describe_models()
    info = next(i for i in infos if i.name == "deepfill_v2")
    assert info.status == "shipped" and info.card == str(shipped_table / "df-small.md")
    assert next(i for i in infos if i.name == "telea").card == ""
    window.jobs.show_models(infos)
    window.panel.select_model("deepfill_v2")
    text = window.panel.model_status.text()
    assert ">model card</a>" in text and "df-small.md" in text
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    window.panel.model_status.linkActivated.emit(QUrl.fromLocalFile(str(shipped_table / "df-small.md")).toString())
    assert opened == [str(shipped_table / "df-small.md")]
    assert 'style="color:#8ab4f8"' in text  # a link colour readable on the dark theme


def test_a_model_below_the_default_says_so_in_the_list(shipped_table, window):
    items = {window.panel.model_list.item(r).data(0x0100): window.panel.model_list.item(r).text()
             for r in range(window.panel.model_list.count())}
    assert "measures below navier_stokes" in items["telea"]  # 20.0 vs 15.0: a third worse
    assert "measures below" not in items["navier_stokes"]
