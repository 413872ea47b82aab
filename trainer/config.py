"""Training configuration: recipe defaults (the papers') ← TOML file (`--config`) ← command line.

One flat dataclass so a run's config is a plain dict of primitives, stored in every checkpoint and in the
exported model's metadata. Recipe-specific knobs (loss weights, network options) live in `weights` and
`network` dicts so that the shared loop never needs to know them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint_studio.core.errors import InpaintStudioError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (the project supports it): TOML configs need 3.11
    tomllib = None  # type: ignore[assignment]


class ConfigError(InpaintStudioError):
    """A configuration file or option is invalid."""


@dataclass
class TrainConfig:
    recipe: str = "deepfill_v2"
    stage: str = ""  # recipe stage (edgeconnect: edge/inpaint/joint; vcnet: mpn/rin/joint)
    data: str = ""  # folder of training images (recursive); default: the fetched photo set
    val_data: str = ""  # folder of validation images; default: the photo set's val split
    run_dir: str = ""
    mask_dir: str = ""  # folder of irregular masks (white = hole); replaces synthetic masks when set
    mask_kind: str = "deepfill"  # deepfill (box ∪ strokes) | free_form | box | bucket
    hole_ratio: list[float] = field(default_factory=list)  # [lo, hi] for mask_kind = bucket
    damage: list[str] = field(default_factory=lambda: ["contamination"])  # VCNet: kinds drawn per sample
    hold_out: list[str] = field(default_factory=list)  # VCNet: damage kinds validated on ("unseen_*"), never trained on
    edge_sigma: float = 2.0
    mask_tau_max: float = 1.0  # VCNet: cap on τ in the mask BCE (1 = the paper; see losses.tau_weighted_bce)
    # VCNet: translucent damage (stain, coffee, water, foxing, fading, yellowing) drawn with an empty mask — not a
    # hole to fill, so the mask network learns to leave it to the tint removal (`core.translucent`)
    translucent_negatives: bool = False
    image_size: int = 256
    batch_size: int = 16
    width: float = 1.0  # channel-width multiplier of every network (small variants for a laptop CPU)
    steps: int = 1000
    lr: float = 1e-4  # generator (or first network) learning rate
    d_lr: float = 1e-4  # discriminator learning rate
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    # Learning-rate schedule, a factor on every optimizer's base rate: "constant" (the papers') or "cosine"
    # (linear warm-up over `warmup_steps`, then cosine down to `lr_min_ratio` at `steps`; extending `steps`
    # on resume stretches the rest of the curve).
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    lr_min_ratio: float = 0.05
    weights: dict[str, float] = field(default_factory=dict)  # loss weights, recipe-specific keys
    network: dict[str, Any] = field(default_factory=dict)  # extra constructor kwargs, recipe-specific
    init_from: str = ""  # run dirs or training checkpoints (comma-separated) whose networks seed this stage
    vgg_weights: str = ""  # torchvision vgg19 .pth; without it the VGG-based terms are off
    feature_trunk: str = ""  # vgg19 | hed | none; "" = vgg19 with vgg_weights, else hed once fetched, else none
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # only takes effect on CUDA
    channels_last: bool = False  # NHWC memory layout for networks and batches (faster convolutions on GPUs)
    workers: int = 0
    cache_mb: int = 2048  # decoded training photos kept in memory per process (0 = decode every time)
    threads: int = 0  # CPU threads for torch (0 = torch's default); 1 is fastest on a shared, loaded machine
    log_every: int = 10
    sample_every: int = 200
    val_every: int = 200
    checkpoint_every: int = 200
    val_images: int = 16
    crop_min: float = 0.6  # random crops span this fraction of the short side or more
    progress: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        return merge(cls(), d, source="checkpoint")


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _coerce(name: str, value: Any, current: Any, source: str) -> Any:
    kind = type(current)
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise ValueError(value)
            return {**current, **value}
        if isinstance(current, list):
            items = value.split(",") if isinstance(value, str) else list(value)
            if name in ("betas", "hole_ratio"):
                return [float(v) for v in items]
            return [str(v).strip() for v in items if str(v).strip()]
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: '{name}' must be a {kind.__name__}, got {value!r}") from None


def merge(cfg: TrainConfig, overrides: dict[str, Any], source: str) -> TrainConfig:
    """A copy of `cfg` with `overrides` applied (unknown keys rejected with the list of known ones)."""
    out = dataclasses.replace(cfg, weights=dict(cfg.weights), network=dict(cfg.network))
    for key, value in overrides.items():
        key = key.replace("-", "_")
        if key not in _FIELDS:
            raise ConfigError(f"{source}: unknown option '{key}' (known: {', '.join(sorted(_FIELDS))})")
        if value is None:
            continue
        setattr(out, key, _coerce(key, value, getattr(out, key), source))
    return out


def init_sources(init_from: str) -> list[Path]:
    """`init_from` as a list of run directories or checkpoints (comma-separated, in order)."""
    return [Path(p.strip()) for p in init_from.split(",") if p.strip()]


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config. Top-level keys are TrainConfig fields; [weights] and [network] are tables."""
    if tomllib is None:
        raise ConfigError("--config needs Python 3.11 or newer (tomllib); pass the options on the command line")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """`--set weights.l1=2 --set width=0.25` → {"weights": {"l1": 2.0}, "width": "0.25"}."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE, got '{item}'")
        key, value = item.split("=", 1)
        if "." in key:
            table, sub = key.split(".", 1)
            parsed: Any = value  # a bare string unless it reads as a TOML value
            if tomllib is not None:
                with contextlib.suppress(tomllib.TOMLDecodeError):
                    parsed = tomllib.loads(f"v = {value}")["v"]
            out.setdefault(table, {})[sub] = parsed
        else:
            out[key] = value
    return out
