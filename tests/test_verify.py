"""The second look at blind damage (`core.verify`): region features, the logistic verifier, its fit by the
trainer, and VCNet leaving alone what it vetoes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inpaint_studio.core.verify import (
    FEATURES,
    Verifier,
    fit_logistic,
    kept_regions,
    region_features,
    verify_hole,
)

CHANGE = FEATURES.index("log_change")
EDGE = FEATURES.index("edge_share")


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left: a white scratch over flat grey. Right: a bright ridge along a real dark/light boundary (what a
    detector mistakes for a scratch). Returns image, hole (both lines), and a Telea fill of the hole."""
    import cv2

    img = np.full((64, 96, 3), 120, np.uint8)
    img[:, 64:] = 200  # the boundary at x = 64
    img[:, 62:64] = 235  # a lit edge: a thin bright ridge along it
    img[8:56, 20:22] = 250  # the scratch
    hole = np.zeros((64, 96), np.uint8)
    hole[8:56, 20:22] = 255
    hole[8:56, 62:64] = 255
    fill = cv2.inpaint(img, hole, 3, cv2.INPAINT_TELEA)
    return img, hole, fill


def test_features_tell_a_scratch_from_a_ridge_along_an_edge():
    img, hole, fill = _scene()
    feats = region_features(img, hole, np.full(hole.shape, 0.9, np.float32), fill)
    assert feats.values.shape == (2, len(FEATURES))
    scratch, ridge = (feats.labels[30, 20], feats.labels[30, 62])
    assert {scratch, ridge} == {1, 2}
    s, r = feats.values[scratch - 1], feats.values[ridge - 1]
    assert s[FEATURES.index("thin")] == 1 and s[FEATURES.index("confidence")] == pytest.approx(0.9)
    assert r[EDGE] > s[EDGE] + 0.5  # the fill still runs through the boundary there
    assert s[CHANGE] > r[CHANGE]  # removing the scratch changes far more than removing the ridge


def test_verifier_keeps_the_regions_a_fill_would_help():
    img, hole, fill = _scene()
    weights = [0.0] * len(FEATURES)
    weights[CHANGE] = -3.0  # a large change: likely damage
    weights[EDGE] = 3.0  # on an edge of the fill: likely structure
    verifier = Verifier(tuple([0.0] * len(FEATURES)), tuple([1.0] * len(FEATURES)), tuple(weights), 16.0, 0.5)
    kept = verify_hole(img, hole, np.full(hole.shape, 0.9, np.float32), fill, verifier)
    assert kept[30, 20] == 255 and kept[30, 62] == 0
    assert np.array_equal(kept > 0, (hole > 0) & (np.arange(96) < 40)[None, :])
    # round trip through the checkpoint's JSON; features fitted on another list are refused
    assert Verifier.from_dict(json.loads(json.dumps(verifier.to_dict()))) == verifier
    with pytest.raises(ValueError, match="other features"):
        Verifier.from_dict({**verifier.to_dict(), "features": ["log_area"]})
    with pytest.raises(ValueError, match="threshold"):
        Verifier(verifier.mean, verifier.scale, verifier.weights, 0.0, 0.0)
    assert not kept_regions(region_features(img, np.zeros_like(hole), np.zeros(hole.shape), fill), verifier).any()


def test_logistic_fit_learns_which_feature_means_harm():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, len(FEATURES)))
    harmful = values[:, CHANGE] < 0  # low change: harm
    mean, scale, weights, bias = fit_logistic(values, harmful, np.ones(400))
    p = Verifier(mean, scale, weights, bias, 0.5).harm(values)
    assert weights[CHANGE] < -1.0 and np.mean((p > 0.5) == harmful) > 0.95


def _regions():
    """A RegionSet by hand: each case has one damage region (helps) and one false find (harms)."""
    from trainer.verifier import RegionSet

    out = RegionSet()
    rng = np.random.default_rng(1)
    for c in range(40):
        family = "clean" if c % 4 == 0 else "scratch"
        feats, deltas = [], []
        if family != "clean":
            feats.append(rng.normal(size=len(FEATURES)) + np.eye(len(FEATURES))[CHANGE] * 3)
            deltas.append(-5e5)  # the fill removed damage
        feats.append(rng.normal(size=len(FEATURES)) - np.eye(len(FEATURES))[CHANGE] * 3)
        deltas.append(2e5)  # the fill painted over real detail
        out.values.append(np.array(feats))
        out.delta_sse.extend(deltas)
        out.case.extend([len(out.cases)] * len(deltas))
        out.cases.append({"family": family, "photo": f"p{c}", "sse_in": 1e6 if family != "clean" else 0.0,
                          "pixels": 64 * 64})
    return out


def test_trainer_fit_chooses_a_threshold_that_beats_no_verifier():
    from trainer.verifier import fit_verifier, gains_by_family

    regions = _regions()
    verifier, table = fit_verifier(regions, cap=60.0)
    none = table[0]
    assert none["threshold"] == 1.0 and none["families"]["clean"] < -10  # unverified: clean photos get worse
    chosen = next(row for row in table if row["threshold"] == verifier.threshold)
    assert chosen["mean"] > none["mean"] + 5
    assert chosen["families"]["clean"] == pytest.approx(0.0) and chosen["families"]["scratch"] > 0
    values, _, _ = regions.arrays()
    veto = verifier.harm(values) > verifier.threshold
    assert gains_by_family(regions, veto, 60.0) == pytest.approx(chosen["families"])
    with pytest.raises(ValueError, match="helped and regions whose fill harmed"):
        from trainer.verifier import RegionSet

        fit_verifier(RegionSet([np.ones((2, len(FEATURES)))], [1.0, 2.0], [0, 0], regions.cases[:1]), cap=60.0)


def test_vcnet_leaves_vetoed_regions_alone_and_the_option_turns_it_off():
    import torch

    from inpaint_studio.engine.methods.vcnet import VCNetMethod
    from inpaint_studio.networks.registry import create_network

    torch.manual_seed(0)
    nets = {"mpn": create_network("vcnet_mpn", base_channels=8, bottleneck_dilations=[2]),
            "rin": create_network("vcnet_rin", base_channels=8, neck_channels=16, middle_dilations=[2])}
    with torch.no_grad():  # the MPN finds nothing: the classical detector finds the lines
        nets["mpn"].conv1.weight.zero_()
        nets["mpn"].conv1.bias.fill_(-30.0)
    img, _, _ = _scene()
    veto_all = Verifier(tuple([0.0] * len(FEATURES)), tuple([1.0] * len(FEATURES)), tuple([0.0] * len(FEATURES)),
                        10.0, 0.5)
    meta = {"blind": {"detector": "mpn+classical", "fill": "telea", "verifier": veto_all.to_dict()}}
    method = VCNetMethod.from_modules(nets, meta=meta)
    assert method.verifier == veto_all
    assert not method.predict_mask(img).mask.any()
    assert np.array_equal(method.inpaint(img), img)  # nothing it found survived the second look: nothing changes
    off = VCNetMethod.from_modules(nets, meta=meta, verify=False)
    assert off.verifier is None and off.predict_mask(img).mask[8:56, 20:22].all()
    broken = VCNetMethod.from_modules(nets, meta={"blind": {"verifier": {"features": list(FEATURES)}}})
    from inpaint_studio.core.errors import CheckpointError

    with pytest.raises(CheckpointError, match="verifier"):
        broken.predict_mask(img)


def test_verifier_command_refuses_bad_input_in_one_line_before_any_work(tmp_path, capsys):
    """An unknown family, a missing photo folder, no photos or a wrong checkpoint: exit 2, one plain line, and
    no checkpoint JSON is touched."""
    from trainer.cli import main

    ckpt = tmp_path / "none"
    cases = [
        (["--families", "scratch,mould"], "unknown damage family mould"),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--photos", str(tmp_path / "missing")], "not a folder"),
        (["--photos", str(tmp_path)], "no images"),
    ]
    for extra, message in cases:
        assert main(["verifier", "--checkpoint", str(ckpt), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1
    (tmp_path / "p.png").write_bytes(b"")  # a photo is there: now the checkpoint is the problem
    assert main(["verifier", "--checkpoint", str(ckpt), "--photos", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not list(tmp_path.glob("*.json"))
