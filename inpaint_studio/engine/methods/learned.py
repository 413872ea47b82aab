"""Base class for methods that run networks: checkpoint lookup, lazy loading, device, padding.

torch is imported only inside methods, so registering/listing learned methods stays cheap.

Writing a learned method (engineer D2: EdgeConnect, VCNet; see engine/methods/deepfill_v2.py)::

    from inpaint_studio.engine.base import Capabilities, register_method
    from inpaint_studio.engine.methods.learned import LearnedMethod

    @register_method
    class EdgeConnectMethod(LearnedMethod):
        name = "edgeconnect"
        description = "EdgeConnect: edges first, then colours (accepts drawn edges)"
        capabilities = Capabilities(needs_mask=True, accepts_edges=True, predicts_edges=True, learned=True)
        required_components = ("edge_generator", "inpaint_generator")   # checked at load()
        network_family = "edgeconnect"              # networks/edgeconnect.py: SIZE_MULTIPLE, PUBLISHED

        def predict(self, image, mask, edges):
            # image: float tensor 1×3×H×W in [0, 1], already in the checkpoint's channel order, on
            #        self.device, H and W padded (by reflection) to the family's SIZE_MULTIPLE;
            # mask:  1×1×H×W, 1 = hole; edges: 1×1×H×W in {0, 1} or None.
            # Runs under torch.inference_mode() with every module in eval mode.
            g = self.modules["inpaint_generator"]
            ...
            return out   # 1×3×H×W in [0, 1]; the base crops and converts to uint8 RGB

The base `fill_hole()` pads, calls `predict` and crops; everything around it (checks, threshold, HD
strategy, working size, the composite `out·m + img·(1−m)` that keeps every pixel outside the mask
bit-identical) is the pipeline's (engine.pipeline). A method that needs a different flow (VCNet,
EdgeConnect) overrides `fill_hole` (and `blind_hole`/`predict_mask`) and uses the helpers `to_tensor`,
`mask_to_tensor`, `to_uint8`, `pad`, `crop`, `running()`.

Options every learned method accepts: `checkpoint` (path; None → best of `find_checkpoints(name)`),
`device` ("auto" | "cpu" | "cuda" | "mps"), `half` (float16 on CUDA only; ignored elsewhere).
`Method.from_modules({"generator": net}, channel_order="RGB")` runs in-memory networks without files
(tests, the trainer's validation).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from inpaint_studio.core.errors import CheckpointError, ModelUnavailableError
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    ProgressFn,
    check_cancel,
    create_method,
    report,
)
from inpaint_studio.engine.checkpoints import (
    build_modules,
    find_checkpoints,
    load_checkpoint,
    read_metadata,
)
from inpaint_studio.engine.methods.prefill import classical_prefill, prefill_spec

TEXTURE_COMPONENT = "texture_fusion"
TEXTURE_MARGIN = 96  # px of context around a hole for its texture fill, at least
EDGE_BAND = 2  # px on each side of a drawn line where the edge-guided fill is kept as it is


def smooth_spec(meta: dict[str, Any]) -> dict[str, Any]:
    """The smooth classical fill a three-way texture stage mixes in (`texture.smooth`; Navier–Stokes when unnamed)."""
    return prefill_spec((meta.get("texture") or {}).get("smooth") or "navier_stokes") or {}


def texture_window(hole: np.ndarray, margin: int = TEXTURE_MARGIN) -> tuple[slice, slice]:
    """Rows and columns around the hole's bounding box, widened by the box's own size (at least `margin`)."""
    ys, xs = np.nonzero(hole)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    pad = max(margin, y1 - y0, x1 - x0)
    h, w = hole.shape[:2]
    return slice(max(0, y0 - pad), min(h, y1 + pad)), slice(max(0, x0 - pad), min(w, x1 + pad))

if TYPE_CHECKING:
    import torch
    from torch import nn


def network_family(family: str) -> ModuleType:
    """`inpaint_studio.networks.<family>`, which owns the family's published configs (`PUBLISHED`) and the
    size its images are padded to (`SIZE_MULTIPLE`, and `MIN_SIDE` where the networks need one)."""
    return importlib.import_module(f"inpaint_studio.networks.{family}")


class PublishedComponents(Mapping[str, Mapping[str, Any]]):
    """The components ({name: {"network", "config"}}) a network family records for one published layout,
    read from its `PUBLISHED` when first used: that module imports torch, and registering the layout
    (listing the methods) must not. `only` keeps some of them (a published file holding one)."""

    def __init__(self, family: str, layout: str, only: tuple[str, ...] = ()) -> None:
        self.family, self.layout, self.only = family, layout, only

    def _specs(self) -> Mapping[str, Mapping[str, Any]]:
        specs = network_family(self.family).PUBLISHED[self.layout]
        return {k: v for k, v in specs.items() if not self.only or k in self.only}

    def __getitem__(self, component: str) -> Mapping[str, Any]:
        return self._specs()[component]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs())

    def __len__(self) -> int:
        return len(self._specs())


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
    # Built when the checkpoint has them: a texture stage after the fill (`networks.texture_fusion`).
    optional_components: tuple[str, ...] = (TEXTURE_COMPONENT,)
    # networks/<family>.py: its SIZE_MULTIPLE (and MIN_SIDE) decide how images are padded for the networks.
    network_family: ClassVar[str] = ""
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
        texture: bool | None = None,
    ):
        if working_size is not None and int(working_size) < 0:
            raise ValueError(f"working_size must be 0 (off) or a size in pixels, not {working_size}")
        self._working_size = working_size
        self._texture = texture  # None: the checkpoint's (on when it has a texture stage)
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
            wanted = [*self.required_components, *(c for c in self.optional_components if c in ckpt.components)]
            modules = build_modules(ckpt, device, only=wanted or None)
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

    @property
    def pad_multiple(self) -> int:
        """The network family's size multiple (8 for a method without one)."""
        return int(network_family(self.network_family).SIZE_MULTIPLE) if self.network_family else 8

    @property
    def min_side(self) -> int:
        """Smallest padded height/width the networks accept (tiny photos are padded up to it)."""
        return int(getattr(network_family(self.network_family), "MIN_SIDE", 0)) if self.network_family else 0

    def pad(self, arr: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Reflect-pad to the network's size multiple (never crop the user's image)."""
        return _pad(arr, self.pad_multiple, self.min_side)

    @staticmethod
    def crop(arr: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        return _crop(arr, hw)

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
    def predict(self, image: torch.Tensor, mask: torch.Tensor, edges: torch.Tensor | None) -> torch.Tensor:
        """Subclasses: padded 1×3×H×W [0,1] image, 1×1×H×W mask (1 = hole), optional edges → 1×3×H×W [0,1]."""
        raise NotImplementedError

    @property
    def prefill(self) -> dict[str, Any] | None:
        """The classical fill the checkpoint's network starts from (its metadata's `prefill`), or None."""
        return prefill_spec(self.meta.get("prefill"))

    @property
    def working_size(self) -> int:  # type: ignore[override]  # the base's class attribute, per checkpoint here
        """Long side (px) fills run at: the pipeline fills larger images on a shrunk copy and enlarges only
        the hole pixels back. A network trained on small crops fills far better at the scale it learned (the
        checkpoint's `inference.working_size`, chosen by measurement); 0 = always at full size."""
        if self._working_size is not None:
            return int(self._working_size)
        value = (self.meta.get("inference") or {}).get("working_size", 0)
        return int(value) if isinstance(value, int | float) and value > 0 else 0

    @property
    def texture(self) -> dict[str, Any] | None:
        """The classical fill whose texture the checkpoint's fusion stage adds (its metadata's `texture`), or None
        when it has none or the `texture` option is off."""
        if self._texture is False or TEXTURE_COMPONENT not in self.modules:
            return None
        return prefill_spec(self.meta.get("texture"))

    @property
    def finishes_fill(self) -> bool:
        return self.texture is not None

    def finish_fill(self, image: np.ndarray, hole: np.ndarray, filled: np.ndarray, edges: np.ndarray | None,
                    progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """With a texture stage: the classical fill (PatchMatch) of the same hole at this size, and the fusion
        network mixing its texture into the learned fill (`networks.texture_fusion`). With edges drawn, the
        checkpoint's `with_edges` fill (the edge-guided PatchMatch, which copies each side of a line only from
        that side) replaces it, so the texture does not cross the lines either (a three-way stage's smooth
        candidate, Navier–Stokes without edges, is then the edge-guided fill's diffusion), and within EDGE_BAND px of a line its
        crisp step is kept as it is (measured with the photo's own edges: edge recall 0.53 / 0.56 → 0.66 / 0.71 on
        the 20–30 / 30–40 % holes, hole L1 22.61 / 20.99 → 23.13 / 21.46; a 4 px band: 0.69 / 0.73, 23.43 / 21.75)."""
        spec = self.texture
        if spec is None:
            return filled
        # PatchMatch's cost grows with the image: it (and the fusion) run on a window around the hole, with as
        # much context as the hole is large (at least TEXTURE_MARGIN px), not on the whole photo.
        ys, xs = texture_window(hole)
        image, hole_w, edges = image[ys, xs], hole[ys, xs], edges[ys, xs] if edges is not None else None
        with_edges = (self.meta.get("texture") or {}).get("with_edges")
        fusion = self.modules[TEXTURE_COMPONENT]
        three_way = bool(getattr(fusion, "smooth", False))
        smooth = None
        if edges is not None and with_edges:
            report(progress, 0.0, f"{with_edges} texture for {self.name}")
            textured = create_method(str(with_edges)).inpaint(image, hole_w, edges)
            if three_way:  # the smooth candidate must not cross the lines either: the edge-guided fill's diffusion
                smooth = create_method(str(with_edges), fill="navier_stokes").inpaint(image, hole_w, edges)
        else:
            report(progress, 0.0, f"{spec['method']} texture for {self.name}")
            textured = classical_prefill(image, hole_w, spec)
            if three_way:
                smooth = classical_prefill(image, hole_w, smooth_spec(self.meta))
        check_cancel(cancel)
        with self.running():
            import torch

            def t(a: np.ndarray) -> torch.Tensor:
                x = torch.from_numpy(np.ascontiguousarray(a)).to(self.device, torch.float32)
                return x.permute(2, 0, 1)[None] / 255.0

            m = torch.from_numpy(hole_w > 0).to(self.device, torch.float32)[None, None]
            out = fusion(t(filled[ys, xs]), t(textured), m, t(smooth) if smooth is not None else None)
            mixed = (out[0].permute(1, 2, 0) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
        if edges is not None and with_edges:
            # A mix blurs the crisp step the edge-guided fill draws along each line: next to the lines, keep it.
            line = cv2.dilate(np.where((edges > 0) & (hole_w > 0), 255, 0).astype(np.uint8),
                              np.ones((2 * EDGE_BAND + 1,) * 2, np.uint8)) > 0
            mixed[line] = textured[line]
        result = filled.copy()
        result[ys, xs] = mixed
        report(progress, 1.0, "done")
        return result

    def fill_hole(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        """The fill at the size handed over, networks loaded: pad, `predict`, crop (subclasses with more
        steps than one `predict` override this)."""
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
        return self.crop(filled, hw)
