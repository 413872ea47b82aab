"""Import published PyTorch checkpoints (`.pth`) into our format, safely.

`import_checkpoint(path)` loads with `torch.load(..., weights_only=True)` ONLY (a file that needs code to
unpickle is refused, never run), recognises which published layout it is from its keys, remaps the keys
(pure renaming, no arithmetic), checks every key and shape against our network built from the layout's
config, and writes `NAME.safetensors` + `NAME.json` to `user_models_dir()`. One of our own checkpoints (a
`trainer export` elsewhere: `.safetensors` + `.json`) is checked the same way and copied there
(`import_own_checkpoint`). Either sits beside the shipped weights and runs when picked by name
(`engine.named_checkpoints`); a name that a method or a shipped checkpoint already has is refused.

How a network module registers a published layout (engineer D2: EdgeConnect, VCNet)::

    from inpaint_studio.engine.importer import PublishedLayout, register_layout

    register_layout(PublishedLayout(
        name="edgeconnect_edge_gen",              # also written to the JSON as source.layout
        method="edgeconnect",                     # the engine method that will use it
        # detect: keys of the loaded top-level object flattened to "<top key>/<state key>"
        # (see flatten_keys); every required key present => this layout. Or pass detect=callable(obj).
        required_keys=frozenset({"generator/encoder.1.weight_orig", "generator/middle.0.conv_block.1.weight_orig"}),
        convert=lambda obj: {"edge_generator": my_filter(obj["generator"])},   # -> {component: state_dict}
        components={"edge_generator": {"network": "edgeconnect_edge_generator", "config": {}}},
        channel_order="RGB",
        merge=True,                               # add to an existing checkpoint of the same name
        default_name=lambda path: f"edgeconnect-{path.parent.name}",   # EdgeModel_gen.pth in places2/
    ))

`convert` may return a subset of `components` (e.g. a generator-only file); only those are validated and
written. With `merge=True` the components of an existing checkpoint of the same name and method are kept,
so `EdgeModel_gen.pth` then `InpaintingModel_gen.pth` build one `edgeconnect-places2` checkpoint. Put the
registration next to the network's checkpoint filter, but import this module lazily or from an engine
module (networks/ must not import the engine): the engine method module is the usual place.

Layouts for DeepFill v2 (official converted TF weights and the PyTorch fine-tuned weights) are registered
by `engine/deepfill_v2_method.py`, DeepFill v1's (the PyTorch port's gen_*.pt and dis_*.pt, its flat
converted-TF file) by `engine/deepfill_v1_method.py`. `ensure_layouts()` imports `engine.methods` so all are registered.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaint_studio.core import paths
from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import CheckpointError
from inpaint_studio.engine.checkpoints import (
    CHANNEL_ORDERS,
    checkpoint_files,
    describe_mismatch,
    load_checkpoint,
    save_checkpoint,
)
from inpaint_studio.engine.named_checkpoints import check_new_name, clean_name

if TYPE_CHECKING:
    import torch

ConvertFn = Callable[[Any], "dict[str, dict[str, torch.Tensor]]"]


@dataclass(frozen=True)
class PublishedLayout:
    """One published file layout and how to turn it into our components."""

    name: str
    method: str
    convert: ConvertFn  # loaded top-level object -> {component: state_dict in our module's key names}
    components: Mapping[str, Mapping[str, Any]]  # component -> {"network": name, "config": {...}}
    required_keys: frozenset[str] = frozenset()  # flattened keys (see flatten_keys) that identify it
    detect: Callable[[Any], bool] | None = None  # alternative to required_keys
    channel_order: str = "RGB"
    merge: bool = False  # merge into an existing checkpoint of the same name/method
    default_name: Callable[[Path], str] | None = None  # checkpoint name when the caller gives none
    description: str = ""
    extra_meta: Mapping[str, Any] = field(default_factory=dict)
    # Settings a layout keeps beside the weights (GLCIC's config.json holds its mean colour): the published
    # file's path -> metadata to record (read as data, never run); {} when there is none.
    sidecar_meta: Callable[[Path], Mapping[str, Any]] | None = None

    def matches(self, obj: Any, keys: set[str]) -> bool:
        if self.detect is not None:
            try:
                return bool(self.detect(obj))
            except Exception:  # a detector must never turn a foreign file into a crash
                return False
        return bool(self.required_keys) and self.required_keys <= keys


_LAYOUTS: dict[str, PublishedLayout] = {}


def register_layout(layout: PublishedLayout) -> PublishedLayout:
    if layout.channel_order not in CHANNEL_ORDERS:
        raise ValueError(f"layout {layout.name}: channel_order must be RGB or BGR")
    _LAYOUTS[layout.name] = layout
    return layout


def ensure_layouts() -> None:
    """Importing the engine's method modules registers every published layout."""
    from inpaint_studio.engine import methods  # noqa: F401


def list_layouts() -> list[PublishedLayout]:
    ensure_layouts()
    return list(_LAYOUTS.values())


def flatten_keys(obj: Any) -> set[str]:
    """Tensor keys of a loaded file: a plain state dict gives its keys; a dict of state dicts gives
    "<top key>/<state key>" (the notation of the reference manifests)."""
    import torch

    keys: set[str] = set()
    if not isinstance(obj, Mapping):
        return keys
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            keys.add(str(k))
        elif isinstance(v, Mapping):
            keys.update(f"{k}/{sk}" for sk, sv in v.items() if isinstance(sv, torch.Tensor))
    return keys


def detect_layout(obj: Any) -> PublishedLayout:
    """The registered layout this loaded object matches (the most specific one if several do)."""
    ensure_layouts()
    keys = flatten_keys(obj)
    hits = [lay for lay in _LAYOUTS.values() if lay.matches(obj, keys)]
    if not hits:
        sample = ", ".join(sorted(keys)[:4]) or "no tensors"
        known = ", ".join(sorted(_LAYOUTS)) or "none"
        raise CheckpointError(f"unrecognised checkpoint layout (keys like {sample}); known layouts: {known}")
    return max(hits, key=lambda lay: len(lay.required_keys))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_published(path: str | os.PathLike[str]) -> Any:
    """torch.load with weights_only=True; every failure becomes one clear CheckpointError line."""
    return load_weights_only(path)


# How a file torch.save wrote begins: a zip archive (torch ≥ 1.6) or a pickle (protocol 2+, the legacy format).
_TORCH_FILE_STARTS = (b"PK\x03\x04", b"\x80")


def load_weights_only(path: str | os.PathLike[str], what: str = "checkpoint") -> Any:
    """The one place a PyTorch file is opened: `torch.load(weights_only=True)`, never more. Every failure is one
    plain CheckpointError line naming the file; torch's own text is not passed on, because for a refused file
    it advises the one thing never to do with an untrusted file (loading it with weights_only=False)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{what} file not found: {p}")
    with open(p, "rb") as f:
        start = f.read(4)
    if not start.startswith(_TORCH_FILE_STARTS):
        raise CheckpointError(f"{p.name} is not a PyTorch {what} (.pth/.pt) file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protocol notices from old/odd pickles are not the user's concern
            return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # "Unsupported global …": a class or function, not a tensor
            raise CheckpointError(
                f"refused {p.name}: it holds Python objects besides tensors, and such files are not loaded"
            ) from None
        raise CheckpointError(f"refused {p.name}: it is not a file of plain tensors (damaged, or other Python "
                              "data), and such files are not loaded") from None
    except Exception as exc:  # zip reader errors, EOFError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "weights_only" in first:
            first = type(exc).__name__
        raise CheckpointError(f"{p.name} is truncated or corrupt ({first[:120]})") from None


def _refuse_non_finite(states: Mapping[str, Mapping[str, torch.Tensor]], source: str) -> None:
    """NaN or infinite weights fill every photo with garbage (or black): refused here, not found out later."""
    import torch

    bad = [f"{c}/{k}" for c, state in states.items() for k, v in state.items()
           if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CheckpointError(f"refused {source}: weights that are NaN or infinite in {', '.join(bad[:3])}{more} "
                              "(a diverged or damaged training run)")


def validate_components(
    layout: PublishedLayout, states: Mapping[str, Mapping[str, torch.Tensor]], source: str
) -> None:
    """Every converted state dict must match our network (built from the layout's config) key by key."""
    from inpaint_studio.networks.registry import create_network

    for comp, state in states.items():
        if comp not in layout.components:
            raise CheckpointError(f"layout {layout.name} produced an undeclared component '{comp}'")
        spec = layout.components[comp]
        net = create_network(spec["network"], **dict(spec.get("config") or {}))
        problem = describe_mismatch(net.state_dict(), state)
        if problem:
            raise CheckpointError(
                f"{source} ({layout.name}, {comp}) does not fit {spec['network']}: {problem}"
            )


def import_own_checkpoint(
    path: str | os.PathLike[str], name: str | None = None, *, dest_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Copy one of our checkpoints (and its model card) into the user's models folder under `name` (default:
    its file name), after checking that every component loads into its network and holds finite weights."""
    from inpaint_studio.engine.checkpoints import build_modules

    st_src, json_src = checkpoint_files(path)
    ckpt = load_checkpoint(st_src)
    build_modules(ckpt, "cpu")  # strict: every key and shape fits the network its JSON names
    _refuse_non_finite({c: ckpt.state_dict(c) for c in ckpt.components}, st_src.name)
    clean = clean_name(name or st_src.stem)
    check_new_name(clean)
    st_path, json_path = checkpoint_files(Path(dest_dir or paths.user_models_dir()) / clean)
    if st_path.resolve() == st_src.resolve():
        raise CheckpointError(f"{st_src.name} is already in your models folder")
    if st_path.exists() or json_path.exists():
        raise CheckpointError(f"a checkpoint named '{clean}' exists already: pick another --name, or remove it "
                              f"first (inpaint-studio models remove {clean})")
    meta = dict(ckpt.meta)
    meta["source"] = {**(meta.get("source") or {}), "imported_from": str(st_src)}
    for extra in (".md", ".curve.png"):  # the model card and its curve travel with the weights
        found = st_src.with_name(st_src.stem + extra)
        if found.is_file():
            atomic_write(st_path.with_name(clean + extra), lambda tmp, f=found: shutil.copyfile(f, tmp))
    atomic_write(st_path, lambda tmp: shutil.copyfile(st_src, tmp))
    # The JSON goes last: the checkpoint is listed only once its weights are in place.
    atomic_write(json_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8"))
    return st_path


def import_checkpoint(
    path: str | os.PathLike[str],
    name: str | None = None,
    *,
    dest_dir: str | os.PathLike[str] | None = None,
    channel_order: str | None = None,
) -> Path:
    """Import a published `.pth`, or one of our own checkpoints (`.safetensors` + `.json` beside it, e.g. a
    `trainer export`); returns the written `.safetensors` path (in user_models_dir()).

    channel_order overrides the layout's default ("RGB"/"BGR") where a layout's order is uncertain."""
    import torch

    src = Path(path)
    if src.suffix in (".safetensors", ".json"):
        return import_own_checkpoint(src, name, dest_dir=dest_dir)
    obj = load_published(src)
    layout = detect_layout(obj)
    try:
        states = layout.convert(obj)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(
            f"{src.name} looks like {layout.name} but could not be converted: {exc}"
        ) from None
    if not states:
        raise CheckpointError(f"{src.name} ({layout.name}) holds no usable weights")
    odd = [f"{c}/{k}" for c, s in states.items() for k, v in s.items() if not isinstance(v, torch.Tensor)]
    if odd:
        raise CheckpointError(
            f"{src.name} ({layout.name}): entries that are not tensors: {', '.join(odd[:5])}"
        )
    states = {
        c: {k: (v.to(torch.float32) if v.is_floating_point() else v) for k, v in s.items()}
        for c, s in states.items()
    }
    validate_components(layout, states, src.name)
    _refuse_non_finite(states, src.name)

    if name is None:
        name = layout.default_name(src) if layout.default_name else f"{layout.method}-{src.stem}"
    check_new_name(clean_name(name))
    stem = Path(dest_dir or paths.user_models_dir()) / clean_name(name)
    components = {c: dict(layout.components[c]) for c in states}
    source = {"file": src.name, "sha256": _sha256(src), "layout": layout.name}
    order = (channel_order or layout.channel_order).upper()
    if order not in CHANNEL_ORDERS:
        raise CheckpointError(f"channel order must be RGB or BGR, not {channel_order!r}")
    meta: dict[str, Any] = {"channel_order": order, "source": source, **layout.extra_meta}
    if layout.sidecar_meta is not None:
        meta.update(layout.sidecar_meta(src))

    # Per-component provenance, so a merged checkpoint remembers which file each part came from.
    meta["sources"] = {c: source for c in states}
    st_path, _ = checkpoint_files(stem)
    if layout.merge and st_path.exists():
        try:
            old = load_checkpoint(st_path)
        except CheckpointError:
            old = None  # a broken earlier import: replace it
        if old is not None and old.method == layout.method:
            for comp, spec in old.components.items():
                if comp not in states:
                    states[comp] = old.state_dict(comp)
                    components[comp] = spec
            meta["sources"] = {**(old.meta.get("sources") or {}), **meta["sources"]}
    return save_checkpoint(stem, layout.method, states, components, meta)
