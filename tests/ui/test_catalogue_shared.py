"""One model catalogue: `inpaint-studio models` and the app's model list show exactly what
`engine.catalogue.describe_models` lists — neither keeps a list of its own."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from inpaint_studio import cli
from inpaint_studio.engine import catalogue
from inpaint_studio.engine.jobs import JobKind
from inpaint_studio.ui.controllers.jobs import VERBS
from inpaint_studio.ui.worker import EngineWorker


def test_cli_and_app_list_the_same_catalogue(window, qtbot, monkeypatch, capsys):
    real = catalogue.describe_models()
    # One registered method left out and one that no registry knows: a front end with its own list would differ.
    listing = [*real[1:], replace(real[1], name="only_in_the_catalogue", description="planted")]
    monkeypatch.setattr(catalogue, "describe_models", lambda table_path=None: listing)
    expected = [i.name for i in listing]

    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    cli_names = [ln.split()[0] for ln in out.splitlines() if ln and not ln[0].isspace() and not ln.startswith("(")]
    assert cli_names == expected

    window.jobs.list_models()
    qtbot.waitUntil(lambda: "only_in_the_catalogue" in window.jobs.models, timeout=20000)
    panel = window.panel.model_list
    ui_names = [panel.item(r).data(Qt.ItemDataRole.UserRole) for r in range(panel.count())]
    assert ui_names == expected


def test_every_job_kind_has_a_runner_words_and_a_result(window):
    assert set(EngineWorker._RUNNERS) == set(JobKind)
    assert set(VERBS) == set(JobKind)
    assert set(window.jobs._apply) == set(JobKind)
