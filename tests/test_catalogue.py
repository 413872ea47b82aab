"""The model catalogue (engine.catalogue) and the job model (engine.jobs): Qt-free, one list of methods with
their weights status and how they measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inpaint_studio.core import paths
from inpaint_studio.engine import base
from inpaint_studio.engine.base import Capabilities, InpaintMethod, register_method
from inpaint_studio.engine.catalogue import describe_models, measured_defaults
from inpaint_studio.engine.defaults import TABLE_FORMAT
from inpaint_studio.engine.jobs import Job, JobKind

ROOT = Path(__file__).resolve().parents[1]


def test_job_model_and_catalogue_load_without_qt_or_torch():
    code = textwrap.dedent("""
        import json, sys
        from inpaint_studio.engine.jobs import Job, JobKind
        from inpaint_studio.engine.catalogue import describe_models

        job = Job(0, "mask", "predict_mask", "telea")
        names = [info.name for info in describe_models()]
        print(json.dumps({"kind": job.kind.name, "names": names,
                          "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")),
                          "torch": "torch" in sys.modules}))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["kind"] == "PREDICT_MASK" and "telea" in seen["names"]
    assert seen["qt"] == []
    assert seen["torch"] is False  # listing the models never loads a network


def test_a_job_kind_is_typed_and_an_unknown_one_refused():
    assert Job(0, "inpaint", "inpaint").kind is JobKind.INPAINT
    assert JobKind.INPAINT == "inpaint"  # reads as its plain name
    with pytest.raises(ValueError):
        Job(0, "inpaint", "inpaint_everything")
    assert {k for k in JobKind if not k.on_image} == {JobKind.LIST_MODELS, JobKind.IMPORT_CHECKPOINT,
                                                      JobKind.MEASURE_CHECKPOINT}
    assert {k for k in JobKind if not k.cancellable} == {JobKind.LIST_MODELS, JobKind.IMPORT_CHECKPOINT}


class _Broken(InpaintMethod):
    name = "test_cannot_be_created"
    description = "its constructor fails"
    capabilities = Capabilities(learned=True)

    def __init__(self) -> None:
        raise OSError("disk on fire")

    def inpaint(self, image, mask, edges=None, progress=None, cancel=None):
        raise AssertionError


@pytest.fixture
def broken_method():
    base._ensure_builtin_methods()
    register_method(_Broken)
    yield
    base._REGISTRY.pop(_Broken.name, None)


@pytest.fixture
def table(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    rows = [{"model": m, "bucket": b, "n": 2, "l1_hole": l1, "seconds_per_image": 0.01}
            for m, l1 in (("telea", 20.0), ("navier_stokes", 15.0)) for b in ("20-30%", "30-40%")]
    (folder / "table.json").write_text(json.dumps({"format": TABLE_FORMAT, "version": 1,
                                                   "fill": {"256": {"rows": rows}}}))
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", folder)
    return folder


def test_catalogue_lists_every_method_with_status_and_measurements(table, broken_method):
    infos = {i.name: i for i in describe_models()}
    assert list(infos) == [spec.name for spec in base.method_specs()]  # every registered method, in order
    telea, ns = infos["telea"], infos["navier_stokes"]
    assert telea.status == "builtin" and telea.available and telea.checkpoints == ()
    assert ns.default_for == ("fill",) and "fill" not in telea.default_for
    assert "among the most accurate" in ns.words and ns.numbers.startswith("hole L1 15.0")
    assert telea.below == "navier_stokes"  # 20.0 vs 15.0: a third worse
    assert measured_defaults(list(infos.values()))["fill"] == "navier_stokes"
    broken = infos["test_cannot_be_created"]  # listed, not hiding the others
    assert broken.status == "missing" and not broken.available and "disk on fire" in broken.weights


def test_cli_names_a_method_that_cannot_be_created_with_its_reason(broken_method, capsys):
    from inpaint_studio import cli

    assert cli.main(["models"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("test_cannot_be_created "))
    assert "cannot be created: disk on fire" in line
