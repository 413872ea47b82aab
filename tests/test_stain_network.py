"""The stain network's path: its training family (`tint_blots`), the trainer (`python -m trainer stain`: run,
resume, hold-out, export into a VCNet checkpoint), and VCNet's blind runs using what it finds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from inpaint_studio.core.damage_families import coffee, tint_blots
from inpaint_studio.core.imageio import load_rgb, save_image
from inpaint_studio.core.metrics import psnr
from inpaint_studio.core.paths import SAMPLES_DIR
from inpaint_studio.engine.base import create_method
from inpaint_studio.engine.checkpoints import read_metadata
from tests.imagegen import textured
from trainer.cli import main as trainer_main
from trainer.stain import THRESHOLDS

ROOT = Path(__file__).resolve().parents[1]


def _photo(seed: int, h: int = 160, w: int = 200) -> np.ndarray:
    base = cv2.resize(textured(40, 50, seed), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(base.astype(np.int16) // 2 + 100, 0, 255).astype(np.uint8)  # mid-grey: a tint shows


def test_tint_blots_darken_where_their_strength_says():
    image = _photo(0, 256, 320)
    for seed in range(4):
        d = tint_blots(image, np.random.default_rng(seed))
        assert d.translucent and d.strength is not None and d.family == "tint"
        stained = d.strength > 0.2
        assert stained.any()
        # darker where stained, untouched where the strength is zero
        assert d.image[stained].astype(int).sum() < image[stained].astype(int).sum()
        assert np.array_equal(d.image[d.strength == 0], image[d.strength == 0])
        again = tint_blots(image, np.random.default_rng(seed))
        assert np.array_equal(again.image, d.image)


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(3):
        save_image(folder / f"p{k}.png", _photo(k))
    return folder


def _train(run: Path, photos: Path, *extra: str) -> int:
    return trainer_main(["stain", "--run", str(run), "--photos", str(photos), "--batch", "2", "--crop", "64",
                         "--widths", "4,6,8", "--val-per-family", "1", "--val-every", "2", "--save-every", "2",
                         *extra])


def _shipped_copy_and_export(tmp_path: Path, run: Path, photos: Path) -> tuple[Path, list[str]]:
    """A copy of the shipped VCNet checkpoint (and its card) and the command that exports `run` into it."""
    into = tmp_path / "vcnet-small"
    for suffix in (".safetensors", ".json", ".md"):
        shutil.copy(ROOT / "models" / f"vcnet-small{suffix}", into.with_suffix(suffix))
    return into, ["stain", "--run", str(run), "--export-into", str(into), "--photos", str(photos), "--val-per-family", "1"]


def test_stain_training_runs_resumes_and_exports(photo_folder: Path, tmp_path: Path, capsys):
    run = tmp_path / "run"
    assert _train(run, photo_folder, "--steps", "2") == 0
    settings = json.loads((run / "run.json").read_text())
    assert settings["families"] == ["stain", "tint"] and settings["config"] == {"widths": [4, 6, 8], "norm": "group"}
    first = torch.load(run / "last.pt", weights_only=True)
    assert first["step"] == 2 and "optimizer" in first
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert set(log[-1]["val"]) == {"stain", "tint", "coffee", "foxing", "water", "spill", "clean"}

    # a second start on the same folder is refused; --resume continues from step 2 and --finish drops the optimiser
    assert _train(run, photo_folder, "--steps", "2") != 0
    assert "--resume" in capsys.readouterr().err
    assert _train(run, photo_folder, "--resume", "--steps", "4", "--finish") == 0
    last = torch.load(run / "last.pt", weights_only=True)
    assert last["step"] == 4 and "optimizer" not in last
    assert json.loads((run / "run.json").read_text())["steps"] == 4  # the new end is kept for later resumes
    assert _train(run, photo_folder, "--resume") == 0  # without --steps: the run's own end, reached already
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 4
    assert not torch.equal(last["network"]["head.weight"], first["network"]["head.weight"])

    into, export = _shipped_copy_and_export(tmp_path, run, photo_folder)
    before = read_metadata(into.with_suffix(".json"))
    assert trainer_main(export) != 0  # four steps help nowhere: nothing is written without --force
    assert "nothing written" in capsys.readouterr().err
    assert read_metadata(into.with_suffix(".json")) == before
    assert trainer_main([*export, "--force"]) == 0
    meta = read_metadata(into.with_suffix(".json"))
    assert meta["components"]["stain"] == {"network": "stain_unet", "config": {"widths": [4, 6, 8], "norm": "group"}}
    stains = meta["blind"]["stains"]
    assert stains["steps"] == 4 and stains["threshold"] in THRESHOLDS
    table = {float(t): row for t, row in stains["threshold_table"].items()}
    best = max(round(row["score"], 2) for row in table.values())
    assert stains["threshold"] == max(t for t, row in table.items() if round(row["score"], 2) == best)  # ties: highest
    assert set(table[THRESHOLDS[0]]["gains"]) == {"stain", "tint", "coffee", "foxing", "water", "spill", "clean"}
    assert {"coffee", "foxing", "water"} <= set(meta["blind"]["stains"]["unseen"])
    assert meta["blind"]["verifier"] == before["blind"]["verifier"]  # the rest of the blind block is kept
    card = into.with_suffix(".md").read_text()
    assert "## Stain network" in card and "coffee (unseen)" in card and "(chosen)" in card
    method = create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors")))
    method.load()
    assert method.finds_stains and method.stain_strength(_photo(5)).shape == (160, 200)
    off = create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors")), stains=False)
    off.load()
    assert not off.finds_stains
    # a threshold given at export is kept (the table is still measured for the card)
    assert trainer_main([*export, "--threshold", "0.85", "--small-area", "30"]) == 0
    stains = read_metadata(into.with_suffix(".json"))["blind"]["stains"]
    assert stains["threshold"] == 0.85 and stains["threshold_chosen"] == "given" and stains["small_area"] == 30
    assert stains["threshold_table"] and "given at export" in into.with_suffix(".md").read_text()


def test_stain_training_refuses_an_unseen_family(photo_folder: Path, tmp_path: Path, capsys):
    assert _train(tmp_path / "run", photo_folder, "--steps", "1", "--families", "stain,coffee") != 0
    err = capsys.readouterr().err
    assert "coffee" in err and err.count("\n") == 1
    assert not (tmp_path / "run" / "last.pt").exists()


def test_blind_runs_remove_the_tint_of_the_stains_found(monkeypatch):
    """VCNet's blind input inverts the tint of what the stain network finds (here the true map of a coffee
    blot stands in for the network), and leaves the photo as it was with `stains=false`."""
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    stained = coffee(clean, np.random.default_rng(3))
    shipped = str(ROOT / "models" / "vcnet-small.safetensors")
    method = create_method("vcnet", checkpoint=shipped)
    method.load()
    monkeypatch.setattr(type(method), "finds_stains", property(lambda self: self._stains is not False))
    from inpaint_studio.core.tint import fit_tint

    monkeypatch.setattr(type(method), "stains_and_tint",
                        lambda self, image, cancel=None: (stained.strength, fit_tint(image, stained.strength)))
    restored = method.blind_input(stained.image, None, None)
    assert psnr(restored, clean) > psnr(stained.image, clean) + 2
    off = create_method("vcnet", checkpoint=shipped, stains=False)
    off.load()
    assert psnr(off.blind_input(stained.image, None, None), clean) < psnr(stained.image, clean) + 0.5


def test_the_stains_option_resolves_from_the_checkpoint_without_loading_it():
    shipped = str(ROOT / "models" / "vcnet-small.safetensors")
    has = "stain" in read_metadata(ROOT / "models" / "vcnet-small.json")["components"]
    method = create_method("vcnet", checkpoint=shipped)
    assert method.resolved_options(["stains"]) == {"stains": has} and not method.loaded
    assert create_method("vcnet", checkpoint=shipped, stains=False).resolved_options(["stains"]) == {"stains": False}


def test_asking_for_stains_without_a_stain_network_says_so(tmp_path: Path):
    from inpaint_studio.core.errors import InpaintStudioError
    from inpaint_studio.engine.checkpoints import load_checkpoint, save_checkpoint

    ckpt = load_checkpoint(ROOT / "models" / "vcnet-small.safetensors")
    keep = ("mpn", "rin")
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("format", "version", "method", "components", "dtype")}
    path = save_checkpoint(tmp_path / "plain", "vcnet", {c: ckpt.state_dict(c) for c in keep},
                           {c: ckpt.components[c] for c in keep}, meta)
    method = create_method("vcnet", checkpoint=str(path), stains=True)
    with pytest.raises(InpaintStudioError, match="no stain network"):
        method.blind_input(_photo(1), None, None)
    assert not create_method("vcnet", checkpoint=str(path)).finds_stains  # auto: off without one


def test_training_targets_ask_only_for_visible_stains_and_crops_hold_them():
    from trainer.stain import SEEN_CHANGE, _crop, stain_target

    clean = _photo(2, 256, 320)
    d = tint_blots(clean, np.random.default_rng(5))
    target = stain_target(clean, d)
    change = np.abs(d.image.astype(int) - clean.astype(int)).max(-1)
    assert (target > 0).any() and (change[target > 0] >= SEEN_CHANGE).all()
    assert np.array_equal(target[target > 0], d.strength[target > 0])  # the family's own strength where kept
    assert not (target[(d.strength > 0) & (change < SEEN_CHANGE)]).any()  # a faint fringe is not asked for
    spot = np.zeros((256, 320), bool)
    spot[200, 300] = True
    for seed in range(5):
        (crop,) = _crop([spot.astype(np.uint8)], 64, np.random.default_rng(seed), around=spot)
        assert crop.shape == (64, 64) and crop.any()


def test_darkening_is_the_share_of_light_a_tint_takes():
    """The strength target of a two-output network: for a multiplicative tint, 1 − gain wherever the photo is
    lit (one scale for every family), 0 where nothing changed or the tint lightens."""
    from trainer.stain import darkening

    clean = _photo(3, 96, 96)
    strength = np.zeros((96, 96), np.float32)
    strength[20:70, 30:80] = 1.0
    gain = 1 - 0.4 * strength[..., None]  # takes 40 % of the light inside
    stained = np.clip(np.rint(clean * gain), 0, 255).astype(np.uint8)
    d = darkening(clean, stained)
    assert abs(float(np.median(d[25:65, 35:75])) - 0.4) < 0.02
    assert float(np.abs(d[:, :25]).max()) < 0.02  # untouched: nothing taken
    lighter = np.clip(clean.astype(np.int16) + 40, 0, 255).astype(np.uint8)
    assert float(darkening(clean, lighter).max()) == 0.0


def test_a_two_output_run_starts_from_a_one_output_run(photo_folder: Path, tmp_path: Path, capsys):
    """`--outputs 2 --init-from RUN`: the new run's network starts from the old one's (only the strength head is
    new), learns both maps, and a run of another shape is refused with one plain message."""
    first = tmp_path / "where"
    assert _train(first, photo_folder, "--steps", "2") == 0
    second = tmp_path / "how-strongly"
    assert _train(second, photo_folder, "--steps", "1", "--outputs", "2", "--init-from", str(first), "--lr", "1e-6") == 0
    settings = json.loads((second / "run.json").read_text())
    assert settings["config"]["outputs"] == 2 and settings["init_from"] == first.as_posix()
    old = torch.load(first / "last.pt", weights_only=True)["network"]
    new = torch.load(second / "last.pt", weights_only=True)["network"]
    assert "amount.weight" in new and "amount.weight" not in old
    assert all(torch.allclose(old[k], new[k], atol=1e-4) for k in old)  # started from it (a tiny learning rate)
    log = json.loads((second / "log.jsonl").read_text().splitlines()[-1])
    assert {"stain", "coffee", "clean"} <= set(log["val"])
    capsys.readouterr()
    other = tmp_path / "other"
    assert _train(other, photo_folder, "--steps", "1", "--outputs", "2", "--init-from", str(first),
                  "--widths", "4,6,8,8") != 0
    assert "another stain network" in capsys.readouterr().err


def test_hard_negatives_are_clean_crops_where_another_run_found_stains(photo_folder: Path, tmp_path: Path, capsys):
    """`--hard-negatives-from RUN`: that run's false alarms on clean training photos become clean crops (target 0)
    centred on them; the run records where they came from, and a folder that is no run is refused plainly."""
    from trainer.stain import HARD_SHARE, make_sample

    photo = _photo(4, 200, 240)
    photo[150:160, 200:210] = (255, 0, 255)  # a mark to find the hard region in a crop by
    hard = np.zeros(photo.shape[:2], bool)
    hard[150:160, 200:210] = True  # at the photo's size; make_sample rescales it with the photo

    def around_the_mark(h: np.ndarray | None) -> int:
        found = 0
        for seed in range(60):
            image, target, dark, goal = make_sample(photo, np.random.default_rng(seed), ("tint",), 64, hard=h)
            magenta = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] > 200)
            found += int(magenta.any() and not target.any() and not dark.any() and np.array_equal(goal, image))
        return found

    assert around_the_mark(hard) >= 60 * HARD_SHARE * 0.5 > around_the_mark(None)
    first = tmp_path / "first"
    assert _train(first, photo_folder, "--steps", "1") == 0
    second = tmp_path / "second"
    assert _train(second, photo_folder, "--steps", "1", "--hard-negatives-from", str(first)) == 0
    assert json.loads((second / "run.json").read_text())["hard_negatives_from"] == first.as_posix()
    assert "hard negatives:" in capsys.readouterr().err
    bad = tmp_path / "bad"
    assert _train(bad, photo_folder, "--steps", "1", "--hard-negatives-from", str(tmp_path / "nothing")) != 0
    assert "not a stain run" in capsys.readouterr().err and not bad.exists()


class _FakeStainNetwork(torch.nn.Module):
    """Stands in for a trained two-output stain network: says a stain is where `where` is, `amount` strong."""

    def __init__(self, where: np.ndarray, amount: float) -> None:
        super().__init__()
        self.where, self.amount = torch.from_numpy(where.astype(np.float32)), amount

    def maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.where[None, None]
        return w, torch.full_like(w, self.amount)


def test_vcnet_keeps_the_strength_of_stains_the_translucent_judge_confirms(monkeypatch):
    """A blind run's stain map is the network's strength (not its confidence) where it is sure, and only where
    the translucent judge also sees a tint: the network marking a clean photo's own part changes nothing."""
    from inpaint_studio.engine.methods.vcnet import STAIN_COMPONENT

    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    stained = coffee(clean, np.random.default_rng(2))
    method = create_method("vcnet", checkpoint=str(ROOT / "models" / "vcnet-small.safetensors"))
    method.load()
    monkeypatch.setattr(type(method), "finds_stains", property(lambda self: True))
    method.modules[STAIN_COMPONENT] = _FakeStainNetwork(stained.strength > 0.03, 0.37)
    s = method.stain_strength(stained.image)
    assert set(np.unique(s)) == {0.0, np.float32(0.37)}
    assert (s > 0).mean() > 0.9 * (stained.strength > 0.03).mean()
    # the Auto mask shows the stains by their proportions, at full strength where strongest (0.37 reads faint)
    shown = method.predict_mask(stained.image).translucent
    assert shown is not None and np.allclose(shown[s > 0], 1.0)
    square = np.zeros((256, 256), bool)
    square[60:140, 80:180] = True  # the cat's own face and fur, not a stain
    method.modules[STAIN_COMPONENT] = _FakeStainNetwork(square, 0.37)
    assert not method.stain_strength(clean).any()
    assert np.array_equal(method.blind_input(clean, None, None), method.blind_input(clean, None, None))


def test_small_stains_can_be_kept_without_the_judge():
    """`confirmed_stains`: a large region the judge rejects stays out whatever `small_area` says; a spot too
    small to judge is kept only when it is under `small_area` pixels; the kept value is the strength."""
    from inpaint_studio.core.stains import confirmed_stains

    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    where = np.zeros((256, 256), np.float32)
    where[60:140, 80:180] = 0.9  # the cat's face: not a stain
    where[200:206, 20:26] = 0.9  # a 36-px spot
    amount = np.full((256, 256), 0.2, np.float32)
    judged_only = confirmed_stains(clean, where, amount, 0.5)
    assert not judged_only.any()
    kept = confirmed_stains(clean, where, amount, 0.5, small_area=50)
    assert (kept > 0).sum() == 36 and kept[203, 23] == np.float32(0.2)
    assert not confirmed_stains(clean, where, amount, 0.95, small_area=50).any()  # below the threshold
    with pytest.raises(ValueError):
        confirmed_stains(clean, where[:10], amount, 0.5)


def test_the_correction_goal_is_the_clean_photo_except_under_opaque_damage():
    """A five-output network is asked to give the clean photo back where a stain (or nothing) is, and to leave
    opaque damage as it is (no tint correction undoes a stroke)."""
    from trainer.stain import CLEAN_SHARE, NEGATIVE_SHARE, make_sample

    photo = _photo(6, 200, 240)
    kinds = set()
    for seed in range(40):
        image, target, dark, goal = make_sample(photo, np.random.default_rng(seed), ("tint", "lift", "specks"), 64)
        assert goal.shape == image.shape and goal.dtype == np.uint8
        if target.any():  # stained: the goal is the photo without the stain
            kinds.add("stained")
            assert not np.array_equal(goal, image)
        elif np.abs(goal.astype(int) - image).max() > 8:  # a crop of a stain's faint tail alone asks for a little
            raise AssertionError("an unstained sample (clean or opaque damage) asks for a change")
    assert "stained" in kinds
    assert CLEAN_SHARE + NEGATIVE_SHARE < 0.5


def test_a_five_output_network_starts_unchanged_and_learns_to_undo_a_tint():
    """The correction head starts at exactly the photo (so a finding network loads into it unchanged) and, trained
    on the restored photo's error, learns to take a known brown tint off a hand-made case."""
    from inpaint_studio.networks.stain_net import StainNet
    from trainer.stain import loss_fn, to_tensor

    torch.manual_seed(0)
    net = StainNet(widths=(8, 8, 8), outputs=5)
    clean = _photo(7, 64, 64)
    strength = np.zeros((64, 64), np.float32)
    cv2.circle(strength, (32, 32), 18, 1.0, -1)
    strength = cv2.GaussianBlur(strength, (0, 0), 2) * 0.6
    gain = 1 - strength[..., None] * np.array([0.2, 0.5, 0.8], np.float32)
    stained = np.clip(clean * gain, 0, 255).astype(np.uint8)
    x, goal = to_tensor([stained]), to_tensor([clean])
    with torch.no_grad():
        assert torch.equal(net.corrected(x)[0], x)
    before = psnr(stained, clean)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    target = torch.from_numpy((strength > 0.03).astype(np.float32))[None, None]
    for _ in range(150):
        loss = loss_fn(net(x), target, torch.zeros_like(target), x, goal)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        restored = (net.corrected(x)[0][0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert psnr(restored, clean) > before + 6


class _FakeCorrectingNetwork(torch.nn.Module):
    """Stands in for a five-output stain network: a fixed per-channel log gain inside `where`, `faint` outside."""

    def __init__(self, where: np.ndarray, log_gain: tuple[float, float, float], faint: float = 0.0) -> None:
        super().__init__()
        self.where = torch.from_numpy(where.astype(np.float32))
        self.log_gain, self.faint = torch.tensor(log_gain), faint
        self.correction = torch.nn.Identity()  # what VCNet looks for: a correction head

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        w = torch.nn.functional.interpolate(self.where[None, None], size=rgb.shape[-2:], mode="nearest")
        gain = w * self.log_gain[None, :, None, None] + (1 - w) * self.faint
        return torch.cat([w * 8 - 4, w, gain], 1)


def test_vcnet_restores_with_a_correcting_stain_network(monkeypatch):
    """With a five-output stain network a blind run applies its correction (not `core.tint`'s fit), faint
    corrections under the dead zone leave pixels bit-identical, the Auto mask shows where it changes the photo,
    and a person's amber map limits where "Restore mask" applies it."""
    from inpaint_studio.engine.methods.vcnet import STAIN_COMPONENT

    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    where = np.zeros((256, 256), bool)
    where[40:120, 60:200] = True
    darkening = np.array([0.85, 0.6, 0.4], np.float32)
    stained = clean.copy()
    stained[where] = np.clip(clean[where] * darkening, 0, 255).astype(np.uint8)
    method = create_method("vcnet", checkpoint=str(ROOT / "models" / "vcnet-small.safetensors"))
    method.load()
    monkeypatch.setattr(type(method), "finds_stains", property(lambda self: True))
    method.modules[STAIN_COMPONENT] = _FakeCorrectingNetwork(where, tuple(-np.log(darkening)), faint=0.004)
    assert method.corrects_stains
    change = method.stain_change(stained)
    assert not change[~where].any()  # 0.4 % of a grey level: under the dead zone, untouched
    restored = method.blind_input(stained, None, None)
    assert np.array_equal(restored[~where], stained[~where])
    assert psnr(restored, clean) > psnr(stained, clean) + 15
    shown = method.predict_mask(stained).translucent
    assert shown is not None and (shown[where] > 0).mean() > 0.9 and not shown[~where].any()
    amber = np.zeros((256, 256), np.uint8)
    amber[40:120, 60:130] = 255  # the person kept only the left part of the stain
    partly = method.remove_stains(stained, amber)
    assert np.array_equal(partly[:, 130:], stained[:, 130:])
    assert np.abs(partly[40:120, 60:130].astype(int) - clean[40:120, 60:130]).mean() < 3


def test_a_correcting_run_exports_its_measured_correction(photo_folder: Path, tmp_path: Path, capsys):
    """`--outputs 5`: the run trains the correction head too (from a finding run); its export records the
    correction's gain per family (seen and unseen marked) instead of a threshold table, refuses a correction that
    does not help unless forced, and VCNet then restores with it."""
    first = tmp_path / "where"
    assert _train(first, photo_folder, "--steps", "2", "--outputs", "2") == 0
    run = tmp_path / "correct"
    assert _train(run, photo_folder, "--steps", "2", "--outputs", "5", "--init-from", str(first),
                  "--families", "stain,tint,lift", "--lr", "1e-9") == 0  # the correction stays ~0: helps nowhere
    network = torch.load(run / "last.pt", weights_only=True)["network"]
    assert "correction.weight" in network
    log = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert "corrected" in log["val"]["spill"]
    into, export = _shipped_copy_and_export(tmp_path, run, photo_folder)
    before = read_metadata(into.with_suffix(".json"))
    assert trainer_main(export) != 0
    assert "nothing written" in capsys.readouterr().err
    assert read_metadata(into.with_suffix(".json")) == before
    assert trainer_main([*export, "--force", "--min-change", "-1"]) != 0
    assert "--min-change" in capsys.readouterr().err
    assert trainer_main([*export, "--force", "--min-change", "16"]) == 0
    stains = read_metadata(into.with_suffix(".json"))["blind"]["stains"]
    assert stains["min_change"] == 16
    assert set(stains["correction"]["gains"]) == {"stain", "tint", "coffee", "foxing", "water", "spill", "clean"}
    assert set(stains["unseen"]) == {"coffee", "foxing", "water", "spill"}
    card = into.with_suffix(".md").read_text()
    assert "PSNR gain of its correction" in card and "spill (unseen)" in card and "lift" in card
    assert "under 16" in card
    method = create_method("vcnet", checkpoint=str(into.with_suffix(".safetensors")))
    method.load()
    assert method.corrects_stains and method.stain_min_change == 16
    photo = _photo(5)
    assert method.blind_input(photo, None, None).shape == photo.shape


def _two_stains(clean: np.ndarray, a: np.ndarray, b: np.ndarray, gain_a: np.ndarray, gain_b: np.ndarray) -> np.ndarray:
    out = clean.astype(np.float32)
    out[a] *= gain_a
    out[b] *= gain_b
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class _Undoes(_FakeCorrectingNetwork):
    """Undoes two known per-channel gains exactly: `gain_a` inside `a`, `gain_b` inside `b`."""

    def __init__(self, a: np.ndarray, b: np.ndarray, gain_a: np.ndarray, gain_b: np.ndarray) -> None:
        super().__init__(a, tuple(-np.log(gain_a)))
        self.b, self.log_b = torch.from_numpy(b.astype(np.float32)), torch.from_numpy(-np.log(gain_b).astype(np.float32))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        out = super().forward(rgb)
        b = torch.nn.functional.interpolate(self.b[None, None], size=rgb.shape[-2:], mode="nearest")
        out[:, 2:5] = out[:, 2:5] + b * self.log_b[None, :, None, None]
        return out


def _regions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clean = cv2.resize(load_rgb(SAMPLES_DIR / "chelsea.png"), (256, 256), interpolation=cv2.INTER_AREA)
    a = np.zeros((256, 256), bool)
    a[20:100, 20:100] = True
    b = np.zeros((256, 256), bool)
    b[150:230, 150:230] = True
    return clean, a, b


def _correcting_method(monkeypatch, network: torch.nn.Module):
    from inpaint_studio.engine.methods.vcnet import STAIN_COMPONENT

    method = create_method("vcnet", checkpoint=str(ROOT / "models" / "vcnet-small.safetensors"))
    method.load()
    monkeypatch.setattr(type(method), "finds_stains", property(lambda self: True))
    method.modules[STAIN_COMPONENT] = network
    return method


def test_faint_corrections_are_dropped_by_region(monkeypatch):
    """`blind.stains.min_change`: a region the correction changes only faintly is left bit-identical; a region it
    changes clearly is corrected."""
    clean, strong, faint = _regions()
    gain_strong, gain_faint = np.array([0.8, 0.6, 0.4], np.float32), np.full(3, 0.93, np.float32)
    stained = _two_stains(clean, strong, faint, gain_strong, gain_faint)
    method = _correcting_method(monkeypatch, _Undoes(strong, faint, gain_strong, gain_faint))
    change = method.stain_change(stained)
    assert np.abs(change[faint]).max() >= 2  # corrected by default: above the dead zone on its own
    monkeypatch.setitem(method.meta["blind"].setdefault("stains", {}), "min_change", 20)
    change = method.stain_change(stained)
    assert not change[faint].any() and (np.abs(change[strong]).max(-1) > 20).mean() > 0.8


def test_a_correction_that_overshoots_its_surroundings_is_dropped(monkeypatch):
    """A region the correction moves away from what its surroundings suggest (here: a clean part of the photo
    lightened, as the network once lightened a faint water mark into a pale disc) is left as it is, while the
    stain it takes off elsewhere in the same photo is corrected."""
    clean, stain, none = _regions()
    gain = np.array([0.8, 0.6, 0.4], np.float32)
    stained = _two_stains(clean, stain, none, gain, np.ones(3, np.float32))
    method = _correcting_method(monkeypatch, _Undoes(stain, none, gain, np.full(3, 0.7, np.float32)))
    change = method.stain_change(stained)
    assert not change[none].any()
    restored = np.clip(np.rint(stained + change), 0, 255).astype(np.uint8)
    assert psnr(restored, clean) > psnr(stained, clean) + 10
