"""Every checkpoint shipped in models/ loads through the engine and reproduces the numbers recorded in its
JSON on a bundled photo (engine/sample_check.py); and the checker itself catches a wrong recorded number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inpaint_studio.core.paths import SHIPPED_MODELS_DIR
from inpaint_studio.engine import sample_check


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


@pytest.fixture
def one_thread():
    # Tiny convolutions on a shared CPU: thread start-up dominates, one thread is ~10x faster.
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_checker_passes_a_true_record_and_reports_a_wrong_one(tmp_path, one_thread):
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
