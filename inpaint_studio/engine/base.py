"""The one interface that the UI, the CLI and the trainer's evaluation call, and the registry of methods.

Array convention at this boundary (and every other): images are RGB uint8 H×W×3, masks uint8 H×W with
255 = hole, edge maps uint8 H×W (255 = edge). A method converts only inside its own pre/post-processing.

Each method takes its own options as constructor keyword arguments (Telea's radius, a network's
checkpoint), never a shared request object carrying every model's options.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inpaint_studio.core.errors import UnknownModelError

# The methods take the callbacks of core.progress; they import them from here with the rest of their API.
from inpaint_studio.core.progress import CancelFn as CancelFn
from inpaint_studio.core.progress import ProgressFn as ProgressFn
from inpaint_studio.core.progress import check_cancel as check_cancel
from inpaint_studio.core.progress import report as report


@dataclass(frozen=True)
class Capabilities:
    needs_mask: bool = True  # inpaint() requires a user mask
    predicts_mask: bool = False  # predict_mask() is implemented
    accepts_edges: bool = False  # inpaint() honours caller-supplied edges
    predicts_edges: bool = False  # predict_edges() is implemented
    blind: bool = False  # can restore an image with no mask at all (predicts its own)
    learned: bool = False  # needs network weights


@dataclass(frozen=True)
class MaskPrediction:
    probability: np.ndarray  # float32 H×W in [0, 1]
    mask: np.ndarray  # uint8 H×W, 255 where probability >= threshold (blind methods: the opaque damage only)
    threshold: float = 0.5
    # float32 H×W 0..1 or None: damage judged translucent (a tint over the photo, core.translucent), shown as a
    # soft mask; a blind restore removes its tint where that is trusted and never paints over it
    translucent: np.ndarray | None = None


class InpaintMethod(ABC):
    """A way to fill holes. Subclasses set the class attributes and implement `fill_hole` (and, when blind,
    `blind_hole`); everything around the fill is the pipeline's (engine.pipeline)."""

    name: str = ""
    description: str = ""
    capabilities: Capabilities = Capabilities()
    # For option forms (engine.options): the allowed values of a text option, the range of a number one.
    option_choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    # Long side (px) the fill runs at: the pipeline fills larger images (or crops) on a shrunk copy and
    # enlarges only the hole back. 0 = always at the size handed over. Learned methods read theirs from
    # the checkpoint.
    working_size: int = 0

    # --- weights / lifecycle (classical methods keep these defaults) ---------------------------
    def is_available(self) -> bool:
        """True when the method can run here (weights found, dependencies present)."""
        return True

    def resolved_options(self, names: Iterable[str]) -> dict[str, Any]:
        """What each named "auto" option (default None) resolves to here; learned methods read their
        checkpoint's recorded settings. Classical methods have none."""
        return {}

    def weights_info(self) -> str:
        """Where the weights come from, for `inpaint-studio models` and the model picker."""
        return "no weights needed"

    def load(self) -> None:
        """Load weights (lazily called before first use). Raise CheckpointError on failure."""

    def unload(self) -> None:
        """Free weights and device memory."""

    @property
    def loaded(self) -> bool:
        return True

    # --- work ------------------------------------------------------------------------------------
    def inpaint(self, image: np.ndarray, mask: np.ndarray | None = None, edges: np.ndarray | None = None,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None, *,
                hd_config: HDConfig | None = None) -> np.ndarray:
        """Return a new RGB uint8 image, bit-identical to `image` wherever mask == 0 (None: a blind method
        finds its own hole). Runs the one fill pipeline, exactly as `ModelManager.run` does."""
        from inpaint_studio.engine.pipeline import run_fill

        return run_fill(self, image, mask, edges, progress, cancel, hd_config=hd_config)

    @abstractmethod
    def fill_hole(self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """Fill `hole` in `image` and return an RGB uint8 array of the same shape; only its hole pixels are
        used. The pipeline hands checked arrays: RGB uint8, a binary 0/255 hole that is not empty and not
        the whole image, at the size this fill runs at (a crop, a shrunk copy); edges (255 = edge) only to
        a method that accepts them. The weights are loaded already."""

    @property
    def finishes_fill(self) -> bool:
        """Whether `finish_fill` does anything (the pipeline then gives it a share of the progress)."""
        return False

    def finish_fill(self, image: np.ndarray, hole: np.ndarray, filled: np.ndarray, edges: np.ndarray | None,
                    progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """A step after the fill at the size the pipeline hands over (`image`, `hole`), after any working-size
        enlargement: where texture is added, so it is the photo's own resolution's (default: none)."""
        return filled

    def blind_input(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """Blind methods: the photo a blind run fills, at full size (default: the photo itself; a method that
        corrects the whole photo first, such as un-tinting stains, returns the corrected copy)."""
        return image

    def remove_stains(self, image: np.ndarray, stains: np.ndarray) -> np.ndarray:
        """`image` with the tint of the stains in `stains` (uint8 H×W strength, the Auto mask's amber part as
        the person left it) removed: by default the tint fitted to that map (`core.tint`: only one it
        trusts); a method with its own stain correction applies it where the map is."""
        from inpaint_studio.core.tint import remove_tint

        return remove_tint(image, stains.astype(np.float32) / 255)

    def blind_hole(self, image: np.ndarray, progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """Blind methods: the hole to fill in `image` (uint8 H×W, 255 = hole), found without a user mask.
        The pipeline may hand a shrunk copy of the photo and enlarge the hole found."""
        raise NotImplementedError(f"{self.name} needs a mask")

    def predict_mask(
        self, image: np.ndarray, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> MaskPrediction:
        raise NotImplementedError(f"{self.name} does not predict masks")

    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} does not predict edges")


if TYPE_CHECKING:
    from inpaint_studio.core.hd import HDConfig


# --- registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodSpec:
    name: str
    description: str
    capabilities: Capabilities
    factory: Callable[..., InpaintMethod]
    defaults: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, MethodSpec] = {}


def register_method(cls: type[InpaintMethod], **defaults: Any) -> type[InpaintMethod]:
    """Register a method class under its `name`. Usable as a decorator or called with defaults."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = MethodSpec(cls.name, cls.description, cls.capabilities, cls, dict(defaults))
    return cls


def _ensure_builtin_methods() -> None:
    # Importing the modules registers their methods; kept lazy so that importing the engine is cheap
    # and torch is only imported when a learned method is actually listed or used.
    from inpaint_studio.engine import methods  # noqa: F401


def method_names() -> list[str]:
    _ensure_builtin_methods()
    return list(_REGISTRY)


def method_specs() -> list[MethodSpec]:
    _ensure_builtin_methods()
    return list(_REGISTRY.values())


def get_spec(name: str) -> MethodSpec:
    _ensure_builtin_methods()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownModelError(f"unknown model '{name}' (known: {known})") from None


def create_method(name: str, **options: Any) -> InpaintMethod:
    spec = get_spec(name)
    return spec.factory(**{**spec.defaults, **options})
