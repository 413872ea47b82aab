"""What a recipe provides to the shared training loop.

A recipe owns its networks (`nets`), optimizers (`optims`), the names trained in the current stage, one
training step, batched inference for validation, and the description of what `export` writes. The loop
owns everything else (data order, devices, AMP, DDP, logging, checkpoints, resume).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from trainer.config import ConfigError, TrainConfig
from trainer.vgg import VGG19Features


@dataclass(frozen=True)
class ExportComponent:
    name: str  # component key in the app checkpoint (e.g. "generator")
    network: str  # registered network name
    config: dict[str, Any]


@dataclass(frozen=True)
class BatchNeeds:
    """What the dataset must produce for this recipe/stage."""

    edges: bool = False  # Canny edges of the whole image
    damage: bool = False  # VCNet contamination (input + exactly-changed mask) instead of plain masks
    prefill: dict[str, Any] | None = None  # the classical fill of the hole (`engine.methods.prefill` spec) a network corrects


class Recipe(ABC):
    name: ClassVar[str]
    method: ClassVar[str]  # engine method the export loads into
    stages: ClassVar[tuple[str, ...]] = ("",)
    # Networks a seed run may fill only in part (a layout option changed some layers' shapes): those layers start
    # as built, every other weight is taken. Any other network must match its seed key for key.
    partial_seed: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: TrainConfig, device: torch.device, vgg: VGG19Features | nn.Module | None) -> None:
        # `vgg`: the feature trunk (VGG19Features or trainer.hed.HEDFeatures, same forward(x, layers))
        if cfg.stage not in self.stages:
            raise ConfigError(f"recipe '{self.name}' has stages {', '.join(self.stages)}, not '{cfg.stage}'")
        self.cfg = cfg
        self.device = device
        self.vgg = vgg
        self.nets: dict[str, nn.Module] = {}
        self.optims: dict[str, torch.optim.Optimizer] = {}
        self.trained: tuple[str, ...] = ()
        self.step = 0  # optimizer steps done before the current one (the loop sets it; gates staged terms)
        self._wrapped: dict[str, nn.Module] = {}
        self.scaler: torch.amp.GradScaler | None = None
        self.autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext

    # --- defaults and scale knobs ---------------------------------------------------------------
    @classmethod
    def defaults(cls, stage: str) -> dict[str, Any]:
        """The paper's settings for a stage, as TrainConfig overrides."""
        return {}

    @classmethod
    def loss_terms(cls, stage: str) -> tuple[str, ...] | None:
        """The default loss weights a stage uses (for its model card); None: all of them."""
        return None

    @classmethod
    def trained_in(cls, stage: str, names: tuple[str, ...]) -> tuple[str, ...]:
        """Which of a stage's networks (`names`) it trains; the others are only carried along (and must not
        override a trained copy when several runs seed one stage, `trainer.seeding`)."""
        return names

    @classmethod
    def default_stage(cls) -> str:
        return cls.stages[0]

    def best_key(self) -> str:
        """The validation metric (lower is better) that picks best.pt."""
        return "l1_hole"

    def width(self, channels: int, minimum: int = 4) -> int:
        """Scale a channel count by the width multiplier (kept even, at least `minimum`)."""
        return max(minimum, int(round(channels * self.cfg.width / 2)) * 2)

    # --- built by the loop ------------------------------------------------------------------------
    @abstractmethod
    def build(self) -> None:
        """Create `nets` (on self.device), `optims` and `trained`."""

    def needs(self) -> BatchNeeds:
        return BatchNeeds()

    def wrap(self, fn: Callable[[nn.Module], nn.Module]) -> None:
        """Wrap the trained networks (DistributedDataParallel); `net()` then returns the wrapper."""
        self._wrapped = {k: fn(self.nets[k]) for k in self.trained}

    def net(self, name: str) -> nn.Module:
        """The module to run in a training forward whose gradients must be synchronised."""
        return self._wrapped.get(name, self.nets[name])

    def train_mode(self, on: bool) -> None:
        for k, m in self.nets.items():
            m.train(on and k in self.trained)

    def optimize(self, loss: Tensor, *names: str) -> None:
        """Backward `loss` and step the named optimizers (through the AMP scaler when there is one)."""
        for n in names:
            self.optims[n].zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            for n in names:
                self.scaler.step(self.optims[n])
        else:
            loss.backward()
            for n in names:
                self.optims[n].step()

    @contextlib.contextmanager
    def frozen(self, *names: str) -> Iterator[None]:
        """Temporarily stop gradients into the named networks (a D's parameters in the G step)."""
        saved = {n: [p.requires_grad for p in self.nets[n].parameters()] for n in names}
        for n in names:
            self.nets[n].requires_grad_(False)
        try:
            yield
        finally:
            for n in names:
                for p, flag in zip(self.nets[n].parameters(), saved[n], strict=True):
                    p.requires_grad_(flag)

    def adam(self, names: list[str] | str, lr: float, betas: list[float]) -> torch.optim.Adam:
        names = [names] if isinstance(names, str) else names
        params = [p for n in names for p in self.nets[n].parameters()]
        return torch.optim.Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])))

    def vgg_features(self, x: Tensor, layers: list[str]) -> list[Tensor]:
        assert self.vgg is not None
        return self.vgg(x.float(), layers)

    # --- work ---------------------------------------------------------------------------------------
    @abstractmethod
    def train_step(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """One optimisation step; returns detached scalar losses (for logging and the NaN check)."""

    @abstractmethod
    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Inference on a validation batch: `output` (N×3×H×W in [0, 1], composited with the known
        pixels), and where the recipe has them `edges` (N×1 probabilities) and `mask_prob` (N×1)."""

    @abstractmethod
    def export_components(self) -> list[ExportComponent]:
        """The networks an exported app checkpoint holds (their names must be keys of `nets`)."""

    supports_prefill: ClassVar[bool] = False  # a generator variant that corrects a classical fill exists

    def prefill(self) -> dict[str, Any] | None:
        """The classical fill the generator corrects (`network.prefill`, options in `network.prefill_options`;
        an `engine.methods.prefill` spec), or None (the default: the paper's generator)."""
        name = self.cfg.network.get("prefill") or None
        if name is None:
            return None
        if not self.supports_prefill:
            raise ConfigError(f"recipe '{self.name}' has no prefill variant (network.prefill)")
        from inpaint_studio.core.errors import CheckpointError
        from inpaint_studio.engine.methods.prefill import prefill_spec

        try:
            return prefill_spec({"method": name, "options": self.cfg.network.get("prefill_options") or {}})
        except CheckpointError as exc:  # the engine's words for a bad record; here it is a config mistake
            raise ConfigError(f"network.prefill: {exc}") from None

    def export_meta(self) -> dict[str, Any]:
        """Extra metadata the exported checkpoint needs at inference (a prefill network's `prefill`)."""
        spec = self.prefill()
        return {"prefill": spec} if spec else {}

    def variant(self) -> str:
        """The variant in plain words for the model card (e.g. 'DeepFill v2 with a Navier–Stokes prefill')."""
        return ""

    def vgg_terms(self) -> list[str]:
        """Loss terms that need VGG19 and are therefore off without `--vgg-weights`."""
        return []

    def init_from_state(self, models: dict[str, dict[str, Tensor]]) -> list[str]:
        """Seed networks from an earlier stage's checkpoint (matching names only). Returns the names, each of a
        `partial_seed` network with the layers that start afresh."""
        loaded = []
        for name, state in models.items():
            if name not in self.nets:
                continue
            if name not in self.partial_seed:
                self.nets[name].load_state_dict(state)
                loaded.append(name)
                continue
            own = self.nets[name].state_dict()
            fits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
            fresh = sorted(set(own) - set(fits))
            self.nets[name].load_state_dict(fits, strict=False)
            loaded.append(f"{name} (new: {', '.join(fresh)})" if fresh else name)
        return loaded


def detach_all(losses: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.detach().float() for k, v in losses.items()}
