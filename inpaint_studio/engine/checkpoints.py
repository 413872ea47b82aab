"""Our checkpoint format: `NAME.safetensors` (tensors) + `NAME.json` (what they are).

Tensor keys are prefixed by component: `generator.stage1.conv1.conv.weight`, `edge_generator.conv.weight`.
The JSON says how to rebuild each component and where the weights came from:

    {"format": "inpaint-studio-checkpoint", "version": 1, "method": "deepfill_v2",
     "components": {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 48}}},
     "channel_order": "RGB", "dtype": "float32",
     "source": {"file": "states_pt_places2.pth", "sha256": "...", "layout": "deepfill_v2_pytorch_finetuned"},
     "training": {...}, "metrics": {...}}

Writing (the trainer's export, the importer):

    save_checkpoint(out_dir / "deepfill_v2-mine", "deepfill_v2",
                    {"generator": generator_module},            # nn.Module or a state_dict
                    {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 48}}},
                    {"channel_order": "RGB", "training": {"steps": 1000}, "metrics": {"psnr": 24.1}},
                    half=False)

Reading: `load_checkpoint(path)` (path = stem, .json or .safetensors) validates both files and returns a
`Checkpoint`; `build_modules(ckpt, "cpu")` rebuilds every component with `create_network` and loads it
strictly. `find_checkpoints(method)` lists usable files, shipped first; `update_metadata(path, change)` is the one
way to edit a written checkpoint's JSON.

torch is imported inside the functions: learned-method modules import this one at registration time and
listing methods must not import torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaint_studio.core import paths
from inpaint_studio.core.atomic import atomic_write
from inpaint_studio.core.errors import CheckpointError

if TYPE_CHECKING:
    import torch
    from torch import nn

CHECKPOINT_FORMAT = "inpaint-studio-checkpoint"
CHECKPOINT_VERSION = 1
CHANNEL_ORDERS = ("RGB", "BGR")
_MISMATCH_LIMIT = 5  # keys named per category in a mismatch message


@dataclass
class Checkpoint:
    """A validated checkpoint on disk; tensors are loaded on demand (`tensors()`)."""

    path: Path  # the .safetensors file
    meta: dict[str, Any]
    _tensors: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def method(self) -> str:
        return str(self.meta["method"])

    @property
    def components(self) -> dict[str, dict[str, Any]]:
        return self.meta["components"]

    @property
    def channel_order(self) -> str:
        return str(self.meta.get("channel_order", "RGB"))

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor, float ones cast back to float32 (fp16 is a storage option only)."""
        if self._tensors is None:
            self._tensors = _read_safetensors(self.path)
        return self._tensors

    def state_dict(self, component: str) -> dict[str, torch.Tensor]:
        if component not in self.components:
            raise CheckpointError(f"checkpoint '{self.name}' has no component '{component}'")
        prefix = component + "."
        return {k[len(prefix) :]: v for k, v in self.tensors().items() if k.startswith(prefix)}

    def summary(self) -> str:
        """One line for the model picker / `inpaint-studio models`."""
        parts = [f"{self.name} ({self.method})"]
        if self.meta.get("variant"):  # our own design, e.g. "DeepFill v2 with a Navier–Stokes prefill"
            parts.append(str(self.meta["variant"]))
        src = self.meta.get("source") or {}
        if src.get("file"):
            parts.append(f"from {src['file']}" + (f" [{src['layout']}]" if src.get("layout") else ""))
        train = self.meta.get("training") or {}
        if train:
            parts.append("trained " + ", ".join(f"{k}={v}" for k, v in list(train.items())[:3]))
        metrics = self.meta.get("metrics") or {}
        if metrics:
            parts.append(", ".join(f"{k} {_fmt(v)}" for k, v in list(metrics.items())[:3]))
        return "; ".join(parts)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# --- paths -------------------------------------------------------------------------------------


def checkpoint_files(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(`NAME.safetensors`, `NAME.json`) for a stem, a .json or a .safetensors path."""
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


# --- writing -----------------------------------------------------------------------------------


def save_checkpoint(
    stem_path: str | os.PathLike[str],
    method: str,
    modules_or_states: Mapping[str, nn.Module | Mapping[str, torch.Tensor]],
    components: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any] | None = None,
    *,
    half: bool = False,
) -> Path:
    """Write `stem.safetensors` + `stem.json` atomically and return the .safetensors path.

    components: {component: {"network": registered network name, "config": constructor kwargs}};
    meta: optional "channel_order" (default RGB), "source", "training", "metrics" and any extra
    JSON-serialisable fields. half=True stores float tensors as float16 (loaded back as float32).
    """
    import torch
    from safetensors.torch import save_file

    if set(modules_or_states) != set(components):
        raise CheckpointError(
            f"components {sorted(components)} do not match the weights given {sorted(modules_or_states)}"
        )
    meta = dict(meta or {})
    channel_order = str(meta.pop("channel_order", "RGB")).upper()
    if channel_order not in CHANNEL_ORDERS:
        raise CheckpointError(f"channel_order must be RGB or BGR, not {channel_order!r}")

    flat: dict[str, torch.Tensor] = {}
    for comp, obj in modules_or_states.items():
        state = obj.state_dict() if isinstance(obj, torch.nn.Module) else obj
        for key, tensor in state.items():
            # safetensors refuses shared or non-contiguous storage: give each tensor its own copy.
            t = tensor.detach().to("cpu").contiguous().clone()
            if half and t.is_floating_point():
                t = t.to(torch.float16)
            flat[f"{comp}.{key}"] = t

    doc: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "method": method,
        "components": {
            c: {"network": str(spec["network"]), "config": dict(spec.get("config") or {})}
            for c, spec in components.items()
        },
        "channel_order": channel_order,
        "dtype": "float16" if half else "float32",
        "source": {},
        "training": {},
        "metrics": {},
    }
    doc.update(meta)
    try:
        text = json.dumps(doc, indent=1, sort_keys=False)
    except TypeError as exc:
        raise CheckpointError(f"checkpoint metadata is not JSON-serialisable: {exc}") from None

    st_path, json_path = checkpoint_files(stem_path)
    atomic_write(
        st_path, lambda tmp: save_file(flat, str(tmp), metadata={"format": CHECKPOINT_FORMAT})
    )
    # The JSON goes last: find_checkpoints() only lists a checkpoint once its JSON exists.
    atomic_write(json_path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    return st_path


# --- reading -----------------------------------------------------------------------------------


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated JSON of a checkpoint, without touching the tensors (cheap, no torch)."""
    st_path, json_path = checkpoint_files(path)
    if not json_path.is_file():
        raise CheckpointError(
            f"checkpoint metadata {json_path.name} is missing (expected next to {st_path.name})"
        )
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"checkpoint metadata {json_path.name} is unreadable: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{json_path.name} is not an Inpaint Studio checkpoint (format field missing or wrong)"
        )
    if doc.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{json_path.name} has checkpoint version {doc.get('version')!r}; this build reads {CHECKPOINT_VERSION}"
        )
    comps = doc.get("components")
    if not isinstance(doc.get("method"), str) or not isinstance(comps, dict) or not comps:
        raise CheckpointError(f"{json_path.name} lacks 'method' or 'components'")
    for cname, spec in comps.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("network"), str):
            raise CheckpointError(f"{json_path.name}: component '{cname}' has no network name")
        spec.setdefault("config", {})
    if str(doc.get("channel_order", "RGB")).upper() not in CHANNEL_ORDERS:
        raise CheckpointError(f"{json_path.name}: channel_order must be RGB or BGR")
    return doc


def update_metadata(
    path: str | os.PathLike[str], change: Callable[[dict[str, Any]], None], *, method: str | None = None
) -> dict[str, Any]:
    """The one way to change a checkpoint's JSON after it was written (measured numbers, tuned settings):
    read it, let `change` edit the dict in place, write it back atomically; returns the new document.
    `method` refuses a checkpoint of another method before anything is written."""
    _, json_path = checkpoint_files(path)
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read {json_path.name}: {exc}") from None
    if not isinstance(doc, dict):
        raise CheckpointError(f"{json_path.name} is not an Inpaint Studio checkpoint")
    if method is not None and doc.get("method") != method:
        raise CheckpointError(f"{json_path.name} is a '{doc.get('method')}' checkpoint, not {method}")
    change(doc)
    try:
        text = json.dumps(doc, indent=1)
    except TypeError as exc:
        raise CheckpointError(f"checkpoint metadata is not JSON-serialisable: {exc}") from None
    atomic_write(json_path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    return doc


def _read_safetensors(st_path: Path) -> dict[str, torch.Tensor]:
    import torch
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(st_path), device="cpu")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint weights {st_path.name} are missing") from None
    except Exception as exc:  # safetensors raises its own SafetensorError, OSError, ...
        raise CheckpointError(f"checkpoint weights {st_path.name} are truncated or corrupt ({exc})") from None
    return {k: (v.to(torch.float32) if v.is_floating_point() else v) for k, v in tensors.items()}


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and validate a checkpoint (JSON + every tensor). Raises CheckpointError with one clear line."""
    st_path, _ = checkpoint_files(path)
    meta = read_metadata(st_path)
    if not st_path.is_file():
        raise CheckpointError(f"checkpoint weights {st_path.name} are missing")
    ckpt = Checkpoint(st_path, meta)
    tensors = ckpt.tensors()
    comps = set(meta["components"])
    orphans = sorted({k.split(".", 1)[0] for k in tensors} - comps)
    if orphans:
        raise CheckpointError(
            f"{st_path.name} holds tensors of undeclared component(s): {', '.join(orphans)}"
        )
    empty = sorted(c for c in comps if not any(k.startswith(c + ".") for k in tensors))
    if empty:
        raise CheckpointError(f"{st_path.name} has no tensors for component(s): {', '.join(empty)}")
    return ckpt


def describe_mismatch(
    expected: Mapping[str, Any], actual: Mapping[str, Any], limit: int = _MISMATCH_LIMIT
) -> str:
    """'' when both state dicts have the same keys and shapes, else a one-line account naming the first
    few missing, unexpected and mis-shaped keys. Values may be tensors or shapes."""

    def shape(v: Any) -> tuple[int, ...]:
        return tuple(v.shape) if hasattr(v, "shape") else tuple(v)

    missing = [k for k in expected if k not in actual]
    unexpected = [k for k in actual if k not in expected]
    misshaped = [
        f"{k} {list(shape(actual[k]))} vs expected {list(shape(expected[k]))}"
        for k in expected
        if k in actual and shape(actual[k]) != shape(expected[k])
    ]
    parts = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", misshaped)):
        if items:
            more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:limit])}{more}")
    return "; ".join(parts)


def load_state_strict(module: nn.Module, state: Mapping[str, torch.Tensor], what: str = "checkpoint") -> None:
    """load_state_dict(strict=True) with a readable CheckpointError instead of torch's wall of text.
    Float tensors are cast to the module's dtype first."""
    own = module.state_dict()
    problem = describe_mismatch(own, state)
    if problem:
        raise CheckpointError(f"{what} does not fit the network: {problem}")
    cast = {
        k: (v.to(own[k].dtype) if v.is_floating_point() and own[k].is_floating_point() else v)
        for k, v in state.items()
    }
    module.load_state_dict(cast, strict=True)


def build_modules(
    checkpoint: Checkpoint, device: str = "cpu", only: Sequence[str] | None = None
) -> dict[str, nn.Module]:
    """Rebuild each component (registered network + config), or just those in `only`; load its weights
    strictly; eval mode."""
    from inpaint_studio.networks.registry import create_network

    modules: dict[str, nn.Module] = {}
    for comp, spec in checkpoint.components.items():
        if only is not None and comp not in only:
            continue
        try:
            net = create_network(spec["network"], **spec.get("config", {}))
        except KeyError as exc:
            raise CheckpointError(f"{checkpoint.name}: {exc.args[0] if exc.args else exc}") from None
        except TypeError as exc:
            raise CheckpointError(f"{checkpoint.name}: bad config for {spec['network']}: {exc}") from None
        load_state_strict(net, checkpoint.state_dict(comp), f"{checkpoint.name} component '{comp}'")
        modules[comp] = net.to(device).eval()
    return modules


# --- discovery ---------------------------------------------------------------------------------


def _scan(directory: Path, method: str) -> list[Path]:
    found = []
    if not directory.is_dir():
        return found
    for json_path in directory.glob("*.json"):
        st_path = json_path.with_suffix(".safetensors")
        if not st_path.is_file():
            continue
        try:
            doc = read_metadata(st_path)
        except CheckpointError:
            continue  # someone else's JSON, or a broken one: not ours to list
        if doc["method"] == method:
            found.append(st_path)
    return found


def find_checkpoints(method: str) -> list[Path]:
    """.safetensors paths whose JSON names `method`, the one used by default first: those shipped in the
    repository's `models/` (by name), then the user's imported/trained ones (newest first). An import sits
    beside the shipped weights and runs when picked by name (`engine.named_checkpoints`); it is the default
    only for a method that ships none."""
    user = sorted(_scan(paths.user_models_dir(), method), key=lambda p: (-p.stat().st_mtime, p.name))
    shipped = sorted(_scan(paths.SHIPPED_MODELS_DIR, method), key=lambda p: p.name)
    seen: set[Path] = set()
    out = []
    for p in shipped + user:
        rp = p.resolve()
        if rp not in seen:
            seen.add(rp)
            out.append(p)
    return out
