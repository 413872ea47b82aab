"""Base class for methods that run networks: checkpoint lookup, lazy loading, device, padding, compositing.

torch is imported only inside methods, so registering/listing learned methods stays cheap.

Writing a learned method (engineer D2: EdgeConnect, VCNet; see engine/deepfill_v2_method.py)::

    from inpaint_studio.engine.base import Capabilities, register_method
    from inpaint_studio.engine.learned import LearnedMethod

    @register_method
    class EdgeConnectMethod(LearnedMethod):
        name = "edgeconnect"
        description = "EdgeConnect: edges first, then colours (accepts drawn edges)"
        capabilities = Capabilities(needs_mask=True, accepts_edges=True, predicts_edges=True, learned=True)
        required_components = ("edge_generator", "inpaint_generator")   # checked at load()
        pad_multiple = 4                                                  # the network's size multiple

        def predict(self, image, mask, edges):
            # image: float tensor 1×3×H×W in [0, 1], already in the checkpoint's channel order, on
            #        self.device, H and W padded (by reflection) to pad_multiple;
            # mask:  1×1×H×W, 1 = hole; edges: 1×1×H×W in {0, 1} or None.
            # Runs under torch.inference_mode() with every module in eval mode.
            g = self.modules["inpaint_generator"]
            ...
            return out   # 1×3×H×W in [0, 1]; the base crops, composites and converts to uint8 RGB

The base `inpaint()` validates the arrays, loads lazily, pads, calls `predict`, crops, and composites
`out·m + img·(1−m)` so that every pixel outside the mask is bit-identical to the input. A method that
needs a different flow (blind VCNet: predict_mask) overrides `inpaint`/`predict_mask` and uses the
helpers `ensure_loaded`, `to_tensor`, `mask_to_tensor`, `to_uint8`, `pad`, `composite`, `running()`.

Options every learned method accepts: `checkpoint` (path; None → best of `find_checkpoints(name)`),
`device` ("auto" | "cpu" | "cuda" | "mps"), `half` (float16 on CUDA only; ignored elsewhere).
`Method.from_modules({"generator": net}, channel_order="RGB")` runs in-memory networks without files
(tests, the trainer's validation).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inpaint_studio.core.errors import CheckpointError, InpaintStudioError, MaskError, ModelUnavailableError
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    ProgressFn,
    check_cancel,
    report,
)
from inpaint_studio.engine.checkpoints import (
    build_modules,
    find_checkpoints,
    load_checkpoint,
    read_metadata,
)
from inpaint_studio.engine.prefill import classical_prefill, prefill_spec

if TYPE_CHECKING:
    import torch
    from torch import nn


def composite(filled: np.ndarray, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`filled` where mask > 0, `image` bit-for-bit elsewhere (uint8 RGB)."""
    out = image.copy()
    hole = mask > 0
    out[hole] = filled[hole]
    return out


def weights_missing(name: str, recipe: str, published_file: str = "") -> str:
    """What a learned method without weights tells the model list and the picker: the commands that import
    or train them."""
    get = f"`inpaint-studio models import {published_file}` or " if published_file else ""
    return (
        f"weights missing — import or train: {get}`python -m trainer train {recipe} --preset small`, then "
        f"`python -m trainer export RUN_DIR --name {name}-mine` (into your models folder: `--model {name}-mine`)"
    )


def _pad(arr: np.ndarray, multiple: int, minimum: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
    from inpaint_studio.core.hd import pad_to_multiple

    return pad_to_multiple(arr, multiple, minimum)


def _crop(arr: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    from inpaint_studio.core.hd import crop_to

    return crop_to(arr, hw)


def _is_oom(exc: BaseException) -> bool:
    # torch.cuda.OutOfMemoryError subclasses RuntimeError; MPS and older builds only say it in the text.
    return "out of memory" in str(exc).lower()


class LearnedMethod(InpaintMethod):
    """A method backed by one or more networks stored in one checkpoint."""

    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components: tuple[str, ...] = ()
    pad_multiple: int = 8
    min_side: int = 0  # smallest padded height/width the networks accept (tiny photos are padded up to it)
    # For "weights missing" (no checkpoint found): the trainer recipe that makes weights, and the published
    # file `inpaint-studio models import` takes ("" = none). Empty recipe: the plain import hint.
    train_recipe: ClassVar[str] = ""
    published_file: ClassVar[str] = ""
    option_ranges: ClassVar[dict[str, tuple[float, float]]] = {"working_size": (0, 4096)}

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "auto",
        half: bool = False,
        working_size: int | None = None,
    ):
        if working_size is not None and int(working_size) < 0:
            raise ValueError(f"working_size must be 0 (off) or a size in pixels, not {working_size}")
        self._working_size = working_size
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.device_pref = device
        self.half = bool(half)
        self.modules: dict[str, nn.Module] = {}
        self.channel_order = "RGB"
        self.meta: dict[str, Any] = {}
        self._device: str | None = None
        self._in_memory = False

    # --- construction without files -------------------------------------------------------------
    @classmethod
    def from_modules(
        cls,
        modules: Mapping[str, nn.Module],
        *,
        channel_order: str = "RGB",
        device: str = "cpu",
        meta: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> LearnedMethod:
        """Wrap networks already in memory (not copied; their train/eval mode is restored after each run)."""
        method = cls(device=device, **options)
        method.modules = dict(modules)
        method.channel_order = channel_order.upper()
        method.meta = dict(meta or {})
        method._in_memory = True
        method._device = method._resolve_device()
        for m in method.modules.values():
            m.to(method._device)
        method._check_components(method.modules, "in-memory networks")
        return method

    # --- weights ---------------------------------------------------------------------------------
    def checkpoint_path(self) -> Path | None:
        """The given checkpoint, else the best found one that holds every required component (a partial
        import, e.g. only EdgeConnect's edge generator, is passed over while a complete one exists)."""
        if self.checkpoint is not None:
            return self.checkpoint
        found = find_checkpoints(self.name)
        complete = [p for p in found if self._is_complete(p)]
        return (complete or found or [None])[0]

    def _is_complete(self, path: Path) -> bool:
        try:
            components = read_metadata(path)["components"]
        except CheckpointError:
            return False
        return all(c in components for c in self.required_components)

    def is_available(self) -> bool:
        if self._in_memory:
            return True
        path = self.checkpoint_path()
        return path is not None and self._is_complete(path)

    def weights_info(self) -> str:
        if self._in_memory:
            return "in-memory networks"
        path = self.checkpoint_path()
        if path is None:
            return self._missing_text()
        try:
            meta = read_metadata(path)
        except CheckpointError as exc:
            return f"{path}: {exc}"
        from inpaint_studio.engine.checkpoints import Checkpoint

        return f"{path} — {Checkpoint(Path(path), meta).summary()}"

    def _missing_text(self) -> str:
        if self.train_recipe:
            return weights_missing(self.name, self.train_recipe, self.published_file)
        return f"no checkpoint found: import one with `inpaint-studio models import FILE.pth` ({self.name})"

    def resolved_options(self, names: Iterable[str]) -> dict[str, Any]:
        """The value each named "auto" option (default None) takes with the checkpoint in use: the recorded
        inference settings, read from its JSON alone when the weights are not loaded yet."""
        meta = self.meta
        if not self.loaded and not self._in_memory:
            path = self.checkpoint_path()
            try:
                meta = read_metadata(path) if path is not None else {}
            except CheckpointError:
                meta = {}
        saved, self.meta = self.meta, dict(meta)
        try:
            return {n: getattr(self, n) for n in names if isinstance(getattr(type(self), n, None), property)}
        finally:
            self.meta = saved

    @property
    def loaded(self) -> bool:
        return bool(self.modules)

    @property
    def device(self) -> str:
        if self._device is None:
            self._device = self._resolve_device()
        return self._device

    def _resolve_device(self) -> str:
        from inpaint_studio.engine.device import resolve_device

        return resolve_device(self.device_pref)

    def _check_components(self, modules: Mapping[str, Any], what: str) -> None:
        missing = [c for c in self.required_components if c not in modules]
        if missing:
            raise CheckpointError(f"{what} lack(s) component(s) {', '.join(missing)} needed by {self.name}")

    def load(self) -> None:
        """Build the networks from the checkpoint. On failure raise CheckpointError and keep the old state."""
        if self.loaded:
            return
        path = self.checkpoint_path()
        if path is None:
            if self.train_recipe:
                raise ModelUnavailableError(f"{self.name}: {self._missing_text()}")
            raise ModelUnavailableError(
                f"{self.name} has no weights: import a checkpoint with `inpaint-studio models import FILE.pth`"
            )
        ckpt = load_checkpoint(path)
        if ckpt.method != self.name:
            raise CheckpointError(f"{Path(path).name} is a '{ckpt.method}' checkpoint, not '{self.name}'")
        self._check_components(ckpt.components, Path(path).name)
        self.upgrade_metadata(ckpt.meta)
        device = self._resolve_device()
        try:
            # Inference needs only the generators; discriminators stay on disk.
            modules = build_modules(ckpt, device, only=self.required_components or None)
            if self.half and device == "cuda":
                modules = {k: m.half() for k, m in modules.items()}
        except RuntimeError as exc:
            if not _is_oom(exc):
                raise
            raise self._oom_error("loading") from None
        self.modules, self.channel_order, self.meta, self._device = (
            modules,
            ckpt.channel_order,
            ckpt.meta,
            device,
        )

    def upgrade_metadata(self, meta: dict[str, Any]) -> None:
        """Fill in, in place, network options that checkpoints written before the option existed lack (the
        value they were made with), so an old file keeps running as it always did. Default: nothing."""

    def ensure_loaded(self) -> None:
        if not self.loaded:
            self.load()

    def unload(self) -> None:
        if self._in_memory:
            return  # the caller owns these networks
        self.modules = {}
        if self._device == "cuda":
            import torch

            torch.cuda.empty_cache()

    # --- tensor helpers --------------------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        import torch

        return torch.float16 if self.half and self.device == "cuda" else torch.float32

    def to_tensor(self, image: np.ndarray) -> torch.Tensor:
        """uint8 RGB H×W×3 → 1×3×H×W in [0, 1], in the checkpoint's channel order, on the device."""
        import torch

        arr = image[..., ::-1] if self.channel_order == "BGR" else image
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None]
        return t.to(self.device, self.dtype) / 255.0

    def mask_to_tensor(self, mask: np.ndarray) -> torch.Tensor:
        """uint8 H×W (non-zero = hole) → 1×1×H×W with 1 = hole."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(mask > 0)).to(self.device, self.dtype)[None, None]

    def to_uint8(self, t: torch.Tensor) -> np.ndarray:
        """1×3×H×W in [0, 1] (checkpoint channel order) → uint8 RGB H×W×3."""
        import torch

        arr = (t[0].float().clamp(0, 1) * 255.0).round().to("cpu", dtype=torch.uint8)
        out = arr.permute(1, 2, 0).numpy()
        if self.channel_order == "BGR":
            out = out[..., ::-1]
        return np.ascontiguousarray(out)

    def pad(self, arr: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Reflect-pad to the network's size multiple (never crop the user's image)."""
        return _pad(arr, self.pad_multiple, self.min_side)

    @staticmethod
    def crop(arr: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        return _crop(arr, hw)

    composite = staticmethod(composite)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Inference mode with every module in eval(); restores train flags; CUDA OOM → clear error."""
        import torch

        flags = {k: m.training for k, m in self.modules.items()}
        try:
            for m in self.modules.values():
                m.eval()
            with torch.inference_mode():
                yield
        except RuntimeError as exc:
            if not _is_oom(exc):
                raise
            raise self._oom_error("running") from None
        finally:
            for k, m in self.modules.items():
                m.train(flags.get(k, False))

    def _oom_error(self, doing: str) -> ModelUnavailableError:
        with contextlib.suppress(Exception):
            import torch

            torch.cuda.empty_cache()
        return ModelUnavailableError(
            f"{self.name} ran out of {self.device} memory while {doing}: use device=cpu or the "
            "resize/crop HD strategy"
        )

    # --- work ------------------------------------------------------------------------------------
    def check_inputs(
        self, image: np.ndarray, mask: np.ndarray | None, edges: np.ndarray | None = None
    ) -> np.ndarray:
        if not (
            isinstance(image, np.ndarray)
            and image.dtype == np.uint8
            and image.ndim == 3
            and image.shape[2] == 3
        ):
            raise InpaintStudioError(f"{self.name} needs an RGB uint8 H×W×3 image")
        if mask is None:
            raise MaskError(f"{self.name} needs a mask: paint the area to fill")
        if mask.shape != image.shape[:2]:
            raise MaskError(
                f"mask is {mask.shape[1] if mask.ndim > 1 else '?'}×{mask.shape[0]} but the image is "
                f"{image.shape[1]}×{image.shape[0]}"
            )
        if edges is not None and (edges.dtype != np.uint8 or edges.shape != image.shape[:2]):
            raise MaskError(
                f"the edge map must be uint8 {image.shape[1]}×{image.shape[0]} like the image (255 = edge)"
            )
        return mask

    def predict(self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor | None) -> torch.Tensor:
        """Subclasses: padded 1×3×H×W [0,1] image, 1×1×H×W mask (1 = hole), optional edges → 1×3×H×W [0,1]."""
        raise NotImplementedError

    @property
    def prefill(self) -> dict[str, Any] | None:
        """The classical fill the checkpoint's network starts from (its metadata's `prefill`), or None."""
        return prefill_spec(self.meta.get("prefill"))

    @property
    def working_size(self) -> int:
        """Long side (px) fills run at: larger images are filled on a shrunk copy and only the hole pixels
        are enlarged back. A network trained on small crops fills far better at the scale it learned (the
        checkpoint's `inference.working_size`, chosen by measurement); 0 = always at full size."""
        if self._working_size is not None:
            return int(self._working_size)
        value = (self.meta.get("inference") or {}).get("working_size", 0)
        return int(value) if isinstance(value, int | float) and value > 0 else 0

    def inpaint(
        self,
        image: np.ndarray,
        mask: np.ndarray | None,
        edges: np.ndarray | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> np.ndarray:
        mask = self.check_inputs(image, mask, edges)
        if not mask.any():
            return image.copy()
        report(progress, 0.0, f"loading {self.name}")
        self.ensure_loaded()
        check_cancel(cancel)
        size = self.working_size
        if size and max(image.shape[:2]) > size:
            from inpaint_studio.core.hd import fill_resized

            report(progress, 0.1, f"running {self.name} at {size} px")
            hole = np.where(mask > 0, np.uint8(255), np.uint8(0))
            filled = fill_resized(image, hole, lambda i, m, e: self.fill_loaded(i, m, e, None, cancel), edges, size)
            report(progress, 1.0, "done")
            return composite(filled, image, mask)
        return self.fill_loaded(image, mask, edges, progress, cancel)

    def fill_loaded(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        edges: np.ndarray | None,
        progress: ProgressFn | None,
        cancel: CancelFn | None,
    ) -> np.ndarray:
        """The fill at the image's own size, inputs checked and networks loaded (subclasses with more
        steps than one `predict` override this, not `inpaint`)."""
        img_p, hw = self.pad(image)
        mask_p, _ = self.pad(mask)
        edges_p = self.pad(edges)[0] if edges is not None else None
        prefill_p = None
        spec = self.prefill
        if spec is not None:
            # the classical fill this network learned to correct, at the image's own size, then padded like it
            report(progress, 0.05, f"{spec['method']} fill for {self.name} to start from")
            prefill_p = self.pad(classical_prefill(image, mask, spec))[0]
            check_cancel(cancel)
        report(progress, 0.1, f"running {self.name}")
        with self.running():
            e = None
            if edges_p is not None:
                e = self.mask_to_tensor(edges_p)
            extra = {"prefill": self.to_tensor(prefill_p)} if prefill_p is not None else {}
            out = self.predict(self.to_tensor(img_p), self.mask_to_tensor(mask_p), e, **extra)
            filled = self.to_uint8(out)
        check_cancel(cancel)
        report(progress, 1.0, "done")
        return composite(self.crop(filled, hw), image, mask)
