"""`inpaint-studio`: open the desktop app, or inpaint / batch / evaluate / manage models headless.

Every user error ends as one line `error: ...` on stderr (exit 2 for usage errors, 1 at run time), never a
traceback. Nothing heavy (torch, Qt) is imported at module import time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from inpaint_studio.core.errors import (
    Cancelled,
    ImageSaveError,
    InpaintStudioError,
    OptionError,
    UnknownModelError,
)

SUBCOMMANDS = ("inpaint", "batch", "evaluate", "models")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
IMPORT_HINT = "no weights found — import with `inpaint-studio models import FILE`"


class UsageError(InpaintStudioError):
    """A bad command line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block; we promise one line.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# --- parser ----------------------------------------------------------------------------------------


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        help="a model (see `inpaint-studio models`): METHOD, a checkpoint's NAME, METHOD:NAME, or "
        "METHOD=FILE.safetensors; default: the best measured one in models/table.json "
        "(telea, or classical_restore without a mask, when nothing better is measured)",
    )
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--hd-strategy", default="auto", choices=("auto", "original", "resize", "crop"))
    p.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="method option, e.g. radius=3"
    )
    p.add_argument("--resize-mask", action="store_true", help="scale a mask of another size to the image")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _file_name(text: str) -> Path:
    # Path("out/") forgets the slash that says "a folder": checked here, while the text still has it.
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"'{text}' is a folder; give the output file's name, e.g. {text}filled.png "
                                         "(batch fills a folder)")
    return Path(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="inpaint-studio",
        description="Inpaint Studio: with no command, open the desktop app (`inpaint-studio PHOTO` opens a photo).",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("inpaint", help="fill the masked area of one image")
    p.add_argument("image", type=Path)
    p.add_argument("--mask", type=Path, help="white = fill; optional for blind models")
    p.add_argument("--edges", type=Path, help="edge map guiding edge-aware models (white = edge)")
    p.add_argument("-o", "--output", type=_file_name, required=True)
    _add_engine_options(p)

    p = sub.add_parser("batch", help="inpaint every image in a folder")
    p.add_argument("--images", type=Path, required=True, help="folder of images")
    p.add_argument("--masks", type=Path, help="folder of masks matched by stem (or STEM_mask), or one mask file")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    _add_engine_options(p)

    p = sub.add_parser("evaluate", help="score methods on images with known ground truth")
    p.add_argument("--images", type=Path, required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--masks", type=Path, help="folder of masks matched by image stem")
    group.add_argument("--generate-masks", action="store_true", help="generate masks per ratio bucket")
    p.add_argument("--ratios", default="0.1-0.2,0.2-0.3,0.3-0.4", help="hole-ratio buckets, plus 'centre' (centre box) and 'thin' (thin strokes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", required=True,
                   help="comma-separated method names; NAME=CHECKPOINT scores that checkpoint file; "
                   "a trailing :OPTION=VALUE sets an option (vcnet:detector=mpn)")
    p.add_argument("--size", type=int, default=256, help="images are resized and centre-cropped to SIZE²")
    p.add_argument("--contaminate", action="store_true", help="also score blind restoration of damaged images")
    p.add_argument("--guide-edges", action="store_true",
                   help="give edge-aware models the photo's own edges (as if traced by hand); report edge adherence")
    p.add_argument("--limit", type=int, help="use at most N images")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("-o", "--output", type=Path, default=Path("evaluation"), help="folder for JSON + Markdown")

    p = sub.add_parser("models", help="list models and where their weights are; import checkpoints")
    p.add_argument("--numbers", action="store_true", help="also print each method's measured numbers")
    models_sub = p.add_subparsers(dest="models_command", parser_class=_Parser)
    imp = models_sub.add_parser("import", help="convert a published checkpoint (.pth) into ours, or copy one of "
                                "ours (NAME.safetensors + NAME.json) into your models folder")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", help="name of the imported checkpoint")
    _add_checkpoint_commands(models_sub)
    return parser


def _add_checkpoint_commands(models_sub: Any) -> None:
    rm = models_sub.add_parser("remove", help="delete an imported or trained checkpoint (shipped ones stay)")
    rm.add_argument("name", help="the checkpoint's name, as `inpaint-studio models` lists it")
    ms = models_sub.add_parser("measure", help="score a checkpoint against Telea and record the numbers in it")
    ms.add_argument("name", help="the checkpoint's name, as `inpaint-studio models` lists it")
    ms.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))


# --- helpers ---------------------------------------------------------------------------------------


def _parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option expects KEY=VALUE, got '{pair}'")
        value: Any = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                pass
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        options[key.replace("-", "_")] = value
    return options


def _manager(args: argparse.Namespace):
    from inpaint_studio.core.hd import HDConfig, HDStrategy
    from inpaint_studio.engine.manager import ModelManager

    if args.device != "auto":  # fail before any work, even for methods that ignore the device
        from inpaint_studio.engine.device import resolve_device

        resolve_device(args.device)
    options = {**_parse_options(args.option), **_model_choice(args).options()}
    spec = _checked_spec(args.model, options)
    manager = ModelManager(device=args.device, hd_config=HDConfig(strategy=HDStrategy(args.hd_strategy)))
    try:
        manager.activate(args.model, load=True, **options)
    except OptionError as exc:  # a value the method's own checks refuse
        raise UsageError(f"{exc} (its options: {_options_line(spec)})") from None
    return manager


def _model_choice(args: argparse.Namespace):
    """`--model` as a method and a checkpoint (a checkpoint's name, METHOD:NAME, METHOD=FILE); afterwards
    args.model is the method's name. Resolved once per run, so every later check sees the method."""
    from inpaint_studio.engine.named_checkpoints import ModelChoice, resolve_model

    choice = getattr(args, "model_choice", None)
    if choice is None:
        choice = resolve_model(args.model) if args.model is not None else ModelChoice("")
        args.model_choice, args.model = choice, choice.method or args.model
    return choice


def _checked_spec(name: str, options: dict[str, Any]):
    """The method's spec, its options checked against what it takes (usage errors, naming its options)."""
    from inpaint_studio.engine.base import get_spec
    from inpaint_studio.engine.options import check_options

    try:
        spec = get_spec(name)
        check_options(name, spec.factory, spec.defaults, {k: v for k, v in options.items() if k != "checkpoint"})
    except (UnknownModelError, OptionError) as exc:
        raise UsageError(str(exc)) from None
    return spec


def _options_line(spec) -> str:
    from inpaint_studio.engine.options import describe_options, option_specs

    return describe_options(option_specs(spec.factory, spec.defaults))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _check_output(out: Path, source: Path, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        which = "the input image" if _same_file(out, source) else f"'{out}'"
        raise ImageSaveError(f"not writing over {which}: it already exists (pass --overwrite to replace it)")


def _inpaint_file(manager, image_path: Path, mask, out: Path, args: argparse.Namespace, edges_path=None) -> Path:
    """Load, fill and save one image; `mask` is a path, an array (shared mask) or None (blind)."""
    import numpy as np

    from inpaint_studio.core.imageio import load_image, save_image
    from inpaint_studio.core.masks import load_mask

    _check_output(out, image_path, args.overwrite)
    loaded = load_image(image_path)
    shape = loaded.rgb.shape
    if isinstance(mask, Path):
        mask = load_mask(mask)
    if isinstance(mask, np.ndarray):
        mask = _fit_to_image("mask", mask, shape, args.resize_mask)
    edges = _fit_to_image("--edges map", load_mask(edges_path), shape, args.resize_mask) if edges_path else None
    # A cancel hook (never set) makes long classical fills run in a killable child: Ctrl-C acts at once.
    result = manager.run(loaded.rgb, mask, edges, cancel=lambda: False)
    if manager.active_name == "auto" and mask is not None:
        from inpaint_studio.engine.auto_fill import describe_routes, plan_routes

        print(f"{image_path.name}: {describe_routes(plan_routes(mask))}")
    return save_image(
        out, result, alpha=loaded.alpha, exif=loaded.exif, icc_profile=loaded.icc_profile, overwrite=args.overwrite
    )


def _fit_to_image(what: str, layer, shape: tuple[int, ...], resize: bool):
    """`layer` (a mask or an edge map) at the image's size: scaled with --resize-mask, else refused."""
    if layer.shape == shape[:2]:
        return layer
    if not resize:
        from inpaint_studio.core.errors import MaskError

        raise MaskError(f"{what} is {layer.shape[1]}×{layer.shape[0]} but the image is {shape[1]}×{shape[0]}; "
                        "pass --resize-mask to scale it")
    import cv2

    return cv2.resize(layer, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


# --- commands --------------------------------------------------------------------------------------


def _default_model(args: argparse.Namespace, has_mask: bool) -> None:
    """No --model: the measured default for the task — object removal, a fill guided by --edges, or blind
    restoration without a mask (engine/defaults.py; never fails)."""
    if args.model is None:
        from inpaint_studio.engine.defaults import default_method

        task = "blind" if not has_mask else "edges" if getattr(args, "edges", None) is not None else "fill"
        args.model = default_method(task)


def cmd_inpaint(args: argparse.Namespace) -> int:
    _default_model(args, args.mask is not None)
    _model_choice(args)
    if args.mask is None:
        from inpaint_studio.engine.base import get_spec

        try:
            spec = get_spec(args.model)
        except UnknownModelError as exc:
            raise UsageError(str(exc)) from None
        if not spec.capabilities.blind:
            raise UsageError(f"model '{args.model}' needs --mask (only blind models run without one)")
    if args.output.is_dir():  # --overwrite would not help: a folder is never replaced by an image
        raise UsageError(f"-o '{args.output}' is a folder; give the output file's name, e.g. "
                         f"-o {args.output / args.image.name} (batch fills a folder)")
    _check_output(args.output, args.image, args.overwrite)
    manager = _manager(args)
    edges = args.edges
    if edges is not None and not manager.capabilities.accepts_edges:
        print(f"warning: model '{args.model}' does not use edge maps; --edges ignored", file=sys.stderr)
        edges = None
    written = _inpaint_file(manager, args.image, args.mask, args.output, args, edges_path=edges)
    print(f"wrote {written}")
    return 0


def _find_mask(masks_dir: Path, stem: str) -> Path | None:
    for name in (stem, f"{stem}_mask"):
        for suffix in IMAGE_SUFFIXES:
            candidate = masks_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _list_images(folder: Path) -> list[Path]:
    return _sort_folder(folder)[0]


def _sort_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(images in a format we read and write, the other files): hidden files (.DS_Store, temp files) are
    neither."""
    if not folder.is_dir():
        raise UsageError(f"'{folder}' is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    return images, [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]


def _other_files_line(others: list[Path]) -> str:
    kinds = sorted({p.suffix.lower() or "no extension" for p in others})
    names = ", ".join(p.name for p in others[:5]) + (", …" if len(others) > 5 else "")
    return (f"skipped {len(others)} file{'s' if len(others) > 1 else ''} in a format batch does not read "
            f"({', '.join(kinds)}; it reads {' '.join(IMAGE_SUFFIXES)}): {names}")


def cmd_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from inpaint_studio.core.masks import load_mask

    images, others = _sort_folder(args.images)
    if not images:
        also = f"; {_other_files_line(others)}" if others else ""
        raise UsageError(f"no images ({' '.join(IMAGE_SUFFIXES)}) in '{args.images}'{also}")
    if args.masks is not None and not args.masks.exists():
        raise UsageError(f"mask path '{args.masks}' does not exist")
    _default_model(args, args.masks is not None)
    _model_choice(args)
    manager = _manager(args)
    blind = manager.capabilities is not None and manager.capabilities.blind
    if args.masks is None and not blind:
        raise UsageError(f"model '{args.model}' needs --masks (only blind models run without masks)")
    shared_mask = load_mask(args.masks) if args.masks is not None and args.masks.is_file() else None
    if not args.output.is_dir():
        args.output.mkdir(parents=True, exist_ok=True)

    failed: list[tuple[str, str]] = []
    written = 0
    for image_path in tqdm(images, desc="inpainting", unit="image", file=sys.stderr):
        try:
            if shared_mask is not None:
                mask: Any = shared_mask
            elif args.masks is not None:
                mask = _find_mask(args.masks, image_path.stem)
                if mask is None and not blind:
                    raise InpaintStudioError(f"no mask named {image_path.stem}.* or {image_path.stem}_mask.*")
            else:
                mask = None
            _inpaint_file(manager, image_path, mask, args.output / image_path.name, args)
            written += 1
        except Cancelled:
            raise
        except InpaintStudioError as exc:
            failed.append((image_path.name, str(exc)))
    print(f"wrote {written} of {len(images)} images to {args.output}")
    if others:  # counted and named, not silently passed over; not an error (a notes file may sit there)
        print(_other_files_line(others), file=sys.stderr)
    if failed:
        print(f"skipped {len(failed)}:", file=sys.stderr)
        for name, reason in failed:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


def _parse_ratios(text: str) -> list[Any]:
    buckets: list[Any] = []
    for part in filter(None, (s.strip() for s in text.split(","))):
        if part.lower() in ("centre", "center", "thin"):
            buckets.append("thin" if part.lower() == "thin" else "centre")
            continue
        lo, sep, hi = part.partition("-")
        try:
            low, high = float(lo), float(hi)
        except ValueError:
            raise UsageError(f"--ratios: '{part}' is not LOW-HIGH (e.g. 0.1-0.2), 'centre' or 'thin'") from None
        if not sep or not 0 <= low < high <= 1:
            raise UsageError(f"--ratios: '{part}' must be LOW-HIGH with 0 <= LOW < HIGH <= 1")
        buckets.append((low, high))
    if not buckets:
        raise UsageError("--ratios lists no bucket")
    return buckets


def cmd_evaluate(args: argparse.Namespace) -> int:
    from inpaint_studio.engine.evaluate import evaluate, format_table, method_spec, write_report

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise UsageError("--models lists no model")
    for entry in models:
        try:
            _, name, options = method_spec(entry)
        except InpaintStudioError as exc:
            raise UsageError(str(exc)) from None
        try:
            _checked_spec(name, options)
        except UsageError as exc:
            raise UsageError(f"--models: {exc}") from None
        if "checkpoint" in options and not options["checkpoint"].is_file():
            raise UsageError(f"--models: checkpoint '{options['checkpoint']}' not found")
    if args.size < 16:
        raise UsageError("--size must be at least 16")
    images = _list_images(args.images)
    if args.limit is not None:
        images = images[: max(args.limit, 0)]
    if not images:
        raise UsageError(f"no images in '{args.images}'")
    if args.masks is not None and not args.masks.is_dir():
        raise UsageError(f"--masks '{args.masks}' is not a folder")
    generate = _parse_ratios(args.ratios) if args.generate_masks else None
    from tqdm import tqdm

    bar = tqdm(total=1000, desc="evaluating", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")

    def progress(fraction: float, message: str) -> None:
        bar.n = round(fraction * 1000)
        bar.set_postfix_str(message, refresh=True)

    try:
        result = evaluate(
            images,
            models,
            masks_dir=args.masks,
            generate=generate,
            seed=args.seed,
            size=args.size,
            contaminate=args.contaminate,
            guide_edges=args.guide_edges,
            device=args.device,
            progress=progress,
        )
    finally:
        bar.close()
    print(format_table(result))
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    json_path, md_path = write_report(result, args.output)
    print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    if args.models_command == "import":
        return cmd_models_import(args)
    if args.models_command in ("remove", "measure"):
        return CHECKPOINT_COMMANDS[args.models_command](args)
    from inpaint_studio.engine.catalogue import describe_models

    infos = describe_models()
    task_words = {"fill": "object removal", "box": "large boxes", "thin": "thin strokes", "edges": "drawn edges",
                  "blind": "one-click restore"}
    width = max(len(i.name) for i in infos)
    for info in infos:
        caps = info.capabilities
        tags = [t for t, on in (
            ("mask", caps.needs_mask),
            ("blind", caps.blind),
            ("edges", caps.accepts_edges),
            ("predicts-mask", caps.predicts_mask),
            ("predicts-edges", caps.predicts_edges),
            ("learned", caps.learned),
        ) if on]
        where = info.weights
        if not info.available and not where.startswith(("weights missing", "cannot be created")):
            where = IMPORT_HINT  # methods that name their own import/train commands keep them
        print(f"{info.name:<{width}}  [{', '.join(tags) or 'mask'}]  {where}")
        if info.description:
            print(f"{'':<{width}}  {info.description}")
        chosen = [task_words[task] for task in info.default_for]
        if info.words or chosen:
            note = "; ".join(filter(None, [
                f"measured: {info.words}" if info.words else "",
                f"default for {', '.join(chosen)}" if chosen else "",
            ]))
            print(f"{'':<{width}}  {note}")
        if args.numbers and info.numbers:
            print(f"{'':<{width}}  numbers: {info.numbers}")
        _print_checkpoints(info.checkpoints, info.name, width, args.numbers, measured_in_table=bool(info.words))
    if not args.numbers and any(i.words for i in infos):
        print("(inpaint-studio models --numbers adds the measured numbers; models/README.md has the whole table)")
    return 0


def _print_checkpoints(
    entries: Sequence[Any], method: str, width: int, numbers: bool, *, measured_in_table: bool
) -> None:
    """Each checkpoint of a learned method on its own line: name (the default first), source, how it measured."""
    for i, entry in enumerate(entries):
        how = entry.measured_words()
        if entry.measured is None and i == 0 and entry.shipped and measured_in_table:
            how = "measured in the model table (above)"
        default = ", the default" if i == 0 and len(entries) > 1 else ""
        print(f"{'':<{width}}  · {entry.name}{default}: {entry.source_words()}; {how}")
        if numbers and entry.numbers():
            print(f"{'':<{width}}      numbers: {entry.numbers()}")
    hints = [f"pick one with --model NAME or --model {method}:NAME"] if len(entries) > 1 else []
    if any(e.measured is None and not e.shipped for e in entries):
        hints.append("measure one with `inpaint-studio models measure NAME`")
    if hints:
        print(f"{'':<{width}}    ({'; '.join(hints)})")


def cmd_models_remove(args: argparse.Namespace) -> int:
    from inpaint_studio.engine.named_checkpoints import remove_checkpoint

    removed = remove_checkpoint(args.name)
    print(f"removed {args.name} ({', '.join(p.name for p in removed)})")
    return 0


def cmd_models_measure(args: argparse.Namespace) -> int:
    from inpaint_studio.engine.checkpoint_measure import measure_checkpoint
    from inpaint_studio.engine.named_checkpoints import find_named

    find_named(args.name)  # an unknown name is a usage error, before any work
    measure_checkpoint(args.name, device=args.device)
    entry = find_named(args.name)
    print(f"{args.name}: {entry.measured_words()}")
    print(f"  {entry.numbers()}")
    return 0


CHECKPOINT_COMMANDS = {"remove": cmd_models_remove, "measure": cmd_models_measure}


def cmd_models_import(args: argparse.Namespace) -> int:
    try:
        from inpaint_studio.engine.importer import import_checkpoint
    except ImportError as exc:
        raise InpaintStudioError(f"checkpoint import is not available: {exc}") from None
    if not args.file.is_file():
        raise UsageError(f"'{args.file}' is not a file")
    path = import_checkpoint(args.file, name=args.name)
    print(f"imported {args.file} as {path}")
    print(_use_hint(path))
    return 0


def _use_hint(path: Path) -> str:
    """How to run a new checkpoint, and whether it became its method's default (only where none ships)."""
    from inpaint_studio.engine.named_checkpoints import list_checkpoints

    hint = f"use it with --model {path.stem} (inpaint-studio inpaint PHOTO --mask MASK -o OUT --model {path.stem})"
    entry = next((e for e in list_checkpoints() if e.path == path), None)
    if entry is None:
        return hint
    default = list_checkpoints(entry.method)[0]
    if default.path == path:
        return f"{hint}; it is {entry.method}'s default (no other {entry.method} checkpoint comes first)"
    return f"{hint}; {entry.method} keeps {default.name} as its default"


def open_app(image: Path | None) -> int:
    try:
        from inpaint_studio.ui.app import main as ui_main
    except ImportError as exc:
        raise InpaintStudioError(f"the desktop app cannot start: {exc}") from None
    code = ui_main(str(image) if image is not None else None)
    return int(code or 0)


COMMANDS = {"inpaint": cmd_inpaint, "batch": cmd_batch, "evaluate": cmd_evaluate, "models": cmd_models}


def _dispatch(argv: list[str]) -> int:
    if not argv:
        return open_app(None)
    first = argv[0]
    if first not in SUBCOMMANDS and not first.startswith("-"):
        if len(argv) > 1:
            raise UsageError(f"unknown command '{first}' (commands: {', '.join(SUBCOMMANDS)})")
        image = Path(first)
        if not image.is_file():
            raise UsageError(f"'{first}' is neither a command ({', '.join(SUBCOMMANDS)}) nor an image file")
        return open_app(image)
    args = build_parser().parse_args(argv)
    if args.command is None:
        return open_app(None)
    with _sigterm_as_exception():
        return COMMANDS[args.command](args)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that cleanups run (temp files, child processes) as for Ctrl+C."""


@contextlib.contextmanager
def _sigterm_as_exception():
    # Only from the main thread, and only where nobody (an embedding program) has set a handler already.
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def raise_terminated(signum, frame) -> NoReturn:
        raise Terminated

    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _fail(message: str, code: int) -> int:
    # One line, whatever the exception text contains.
    line = " ".join(str(message).split())
    print(f"error: {line}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv)
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except (KeyboardInterrupt, Cancelled):
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `inpaint-studio models | head`: the reader left; not an error worth a line
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stop the interpreter's own flush from failing
        return 0
    except (UsageError, UnknownModelError) as exc:
        return _fail(str(exc), 2)
    except InpaintStudioError as exc:
        return _fail(str(exc), 1)
    except OSError as exc:  # a file system problem outside our own checks (permissions, disk full)
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
    except Exception as exc:  # a bug, not a user error: still one line unless debugging
        if os.environ.get("INPAINT_STUDIO_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}); set INPAINT_STUDIO_DEBUG=1 for details", 1)


if __name__ == "__main__":
    sys.exit(main())
