"""Checkpoints by name: every checkpoint the app can run, listed under its method with where it came from and
how it measured; picking one by name; removing a user's one.

A checkpoint's name is its file stem (`places2` for `places2.safetensors`). Names hold only letters, digits,
`.`, `_` and `-` (the importer's rule), so a model reference is never ambiguous:

    deepfill_v2                    the method, with its default checkpoint (the shipped one, if any)
    places2                        the checkpoint named places2, run by the method its JSON names
    deepfill_v2:places2            the same, saying which method (refused if places2 is another method's)
    deepfill_v2=/path/x.safetensors  that checkpoint file, wherever it is

(`evaluate --models` adds `:OPTION=VALUE` parts after any of these: an option always holds `=`, a name never.)

Shipped checkpoints live in the repository's `models/`; imported and exported ones in the user's models folder
(`core.paths.user_models_dir()`), beside them: an import never replaces the shipped weights, it runs when picked.
Only JSON is read here (no torch).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inpaint_studio.core import paths
from inpaint_studio.core.errors import CheckpointError, UnknownModelError
from inpaint_studio.engine.checkpoints import checkpoint_files, find_checkpoints, read_metadata

MEASURED_KEY = "measured"  # the block `models measure` writes into a checkpoint's JSON


@dataclass(frozen=True)
class CheckpointEntry:
    """One checkpoint on disk, as the model list shows it."""

    name: str
    method: str
    path: Path  # the .safetensors file
    meta: dict[str, Any]

    @property
    def shipped(self) -> bool:
        return _inside(self.path, paths.SHIPPED_MODELS_DIR)

    @property
    def origin(self) -> str:
        """shipped | imported | trained | added."""
        source = self.meta.get("source") or {}
        if self.shipped:
            return "shipped"
        if source.get("layout"):
            return "imported"
        if source.get("trained_by"):
            return "trained"
        return "added"

    def source_words(self) -> str:
        """Where it came from, in words: "shipped", "imported from states_pt_places2.pth", "trained run …"."""
        source = self.meta.get("source") or {}
        origin = self.origin
        if origin == "imported":
            return f"imported from {source.get('file') or 'a published file'}"
        if origin == "trained":
            run = (self.meta.get("stages") or [{}])[-1].get("run_dir") or source.get("file") or "a training run"
            return f"trained run {run}"
        if origin == "added":
            added = source.get("imported_from")
            return f"added from {added}" if added else "added by you"
        return "shipped"

    @property
    def measured(self) -> dict[str, Any] | None:
        block = self.meta.get(MEASURED_KEY)
        return block if isinstance(block, dict) and "l1_hole" in block else None

    def measured_words(self) -> str:
        """How it measured against Telea on the same photos and holes, or "not measured yet"."""
        block = self.measured
        if block is None:
            return "not measured yet"
        ours, telea = block.get("l1_hole"), block.get("telea_l1_hole")
        if not isinstance(ours, int | float) or not isinstance(telea, int | float) or telea <= 0:
            return "measured"
        ratio = ours / telea
        word = ("clearly more accurate than" if ratio < 0.9 else "about as accurate as" if ratio <= 1.1
                else "less accurate than")
        return f"{word} Telea on {block.get('photos', 'photos')}"

    def numbers(self) -> str:
        """The measured numbers in one line (hover / click), or ""."""
        block = self.measured
        if block is None:
            return ""
        keys = ("l1_hole", "psnr_hole", "ssim_hole")
        ours = ", ".join(f"{k.replace('_', ' ')} {block[k]:.4g}" for k in keys if isinstance(block.get(k), int | float))
        telea = ", ".join(f"{block[f'telea_{k}']:.4g}" for k in keys if isinstance(block.get(f"telea_{k}"), int | float))
        where = f"{block.get('count', '?')} {block.get('photos', 'photos')} at {block.get('size', '?')}², " \
                f"holes {', '.join(block.get('buckets') or [])}"
        return f"{ours} (Telea {telea}); {where}"


def _inside(path: Path, folder: Path) -> bool:
    with contextlib.suppress(OSError, ValueError):
        return path.resolve().is_relative_to(folder.resolve())
    return False


def _entry(path: Path) -> CheckpointEntry | None:
    try:
        meta = read_metadata(path)
    except CheckpointError:
        return None
    return CheckpointEntry(path.stem, str(meta["method"]), path, meta)


def _all_paths() -> list[Path]:
    """Every listed checkpoint (JSON and weights both present), shipped first."""
    found = []
    for folder in (paths.SHIPPED_MODELS_DIR, paths.user_models_dir()):
        if folder.is_dir():
            found += sorted(p.with_suffix(".safetensors") for p in folder.glob("*.json")
                            if p.with_suffix(".safetensors").is_file())
    return found


def list_checkpoints(method: str | None = None) -> list[CheckpointEntry]:
    """Checkpoints of `method` (or of every method, grouped by method), the default one of a method first
    (the order `find_checkpoints` gives)."""
    if method is not None:
        return [e for p in find_checkpoints(method) if (e := _entry(p)) is not None]
    entries = [e for p in _all_paths() if (e := _entry(p)) is not None]
    out: list[CheckpointEntry] = []
    for m in dict.fromkeys(e.method for e in entries):
        out += list_checkpoints(m)
    return out


def find_named(name: str, method: str | None = None) -> CheckpointEntry:
    """The checkpoint called `name` (of `method`, when given); UnknownModelError naming the known ones."""
    entries = list_checkpoints(method)
    for entry in entries:
        if entry.name == name:
            return entry
    if method is not None and (other := next((e for e in list_checkpoints() if e.name == name), None)):
        raise UnknownModelError(f"checkpoint '{name}' is a {other.method} checkpoint, not {method}")
    known = ", ".join(e.name for e in entries) or "none"
    whose = f"{method} checkpoints" if method else "checkpoints"
    raise UnknownModelError(f"unknown checkpoint '{name}' (known {whose}: {known})")


@dataclass(frozen=True)
class ModelChoice:
    """What a model reference picks: a method, and the checkpoint file it runs with (None: its default)."""

    method: str
    checkpoint: Path | None = None
    label: str = ""  # how reports name it: the method, or METHOD[CHECKPOINT]

    def options(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint} if self.checkpoint is not None else {}


def resolve_model(text: str) -> ModelChoice:
    """A `--model` value (see the module doc) → method and checkpoint; UnknownModelError (a usage error) for a
    name that is neither, or a checkpoint file that is not one of this method."""
    from inpaint_studio.engine.base import get_spec, method_names

    text = text.strip()
    head, sep, file = text.partition("=")
    if sep:
        return _file_choice(head.strip(), Path(file.strip()))
    method, colon, name = text.partition(":")
    if colon:
        spec = get_spec(method)  # unknown method: its own message
        entry = find_named(name.strip(), spec.name)
        return ModelChoice(spec.name, entry.path, f"{spec.name}[{entry.name}]")
    if text in method_names():
        return ModelChoice(text, None, text)
    try:
        entry = find_named(text)
    except UnknownModelError:
        names = sorted(method_names())
        checkpoints = [e.name for e in list_checkpoints()]
        also = f"; checkpoints: {', '.join(checkpoints)}" if checkpoints else ""
        raise UnknownModelError(f"unknown model '{text}' (models: {', '.join(names)}{also})") from None
    return ModelChoice(entry.method, entry.path, f"{entry.method}[{entry.name}]")


def _file_choice(method: str, file: Path) -> ModelChoice:
    from inpaint_studio.engine.base import get_spec

    spec = get_spec(method)
    if not spec.capabilities.learned:
        raise UnknownModelError(f"model '{method}' takes no checkpoint (it needs no weights)")
    if not str(file):
        raise UnknownModelError(f"'{method}=': give a checkpoint file after '=' (METHOD=FILE.safetensors)")
    if file.suffix in (".pth", ".pt", ".ckpt"):
        raise UnknownModelError(f"{file.name} is a published PyTorch file: import it first with "
                                f"`inpaint-studio models import {file}`, then pick it by name")
    st_path, json_path = checkpoint_files(file)
    if not st_path.is_file():
        raise UnknownModelError(f"checkpoint '{file}' not found")
    try:
        doc = read_metadata(json_path)
    except CheckpointError as exc:
        raise UnknownModelError(str(exc)) from None
    if doc["method"] != spec.name:
        raise UnknownModelError(f"{st_path.name} is a '{doc['method']}' checkpoint, not {spec.name}")
    return ModelChoice(spec.name, st_path, f"{spec.name}[{st_path.stem}]")


def remove_checkpoint(name: str) -> list[Path]:
    """Delete a user's checkpoint (JSON first, so a half-done removal is never listed; then the weights, the
    card and its curve); returns the files removed. Shipped checkpoints are refused."""
    entry = find_named(name)
    if entry.shipped:
        raise CheckpointError(f"'{name}' ships with Inpaint Studio and is not removed (only imported or "
                              "trained checkpoints are)")
    st_path, json_path = checkpoint_files(entry.path)
    removed = []
    for path in (json_path, st_path, st_path.with_suffix(".md"), st_path.with_name(st_path.stem + ".curve.png")):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def clean_name(name: str) -> str:
    """A checkpoint name from any text: runs of other characters become '-' (so a name never holds ':' or '=')."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    if not clean:
        raise CheckpointError(f"invalid checkpoint name {name!r}")
    return clean


def check_new_name(name: str) -> None:
    """A user checkpoint's name must pick it unambiguously: not a method's name, not a shipped checkpoint's."""
    from inpaint_studio.engine.base import method_names

    if name in method_names():
        raise CheckpointError(f"'{name}' is a model's name; choose another name for the checkpoint (--name)")
    shipped = paths.SHIPPED_MODELS_DIR
    if (shipped / f"{name}.json").is_file():
        raise CheckpointError(f"'{name}' is the name of a shipped checkpoint; choose another name (--name)")
