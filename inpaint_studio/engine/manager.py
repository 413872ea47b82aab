"""The one active inpainting method, shared by the UI's worker thread and the CLI.

Switching models is lazy: `activate()` only creates the new method; its weights load on first use (or at
once with `load=True`). The previous method is freed only after the new one has loaded, so a failing load
(missing or corrupt checkpoint) leaves the previous model active and the error propagates to the caller.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import numpy as np

from inpaint_studio.core.errors import InpaintStudioError, MaskError, ModelUnavailableError, OptionError
from inpaint_studio.core.hd import HDConfig, apply_hd_strategy
from inpaint_studio.core.masks import binary, check_fillable, check_mask
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    MaskPrediction,
    ProgressFn,
    check_cancel,
    create_method,
    get_spec,
    report,
)
from inpaint_studio.engine.classical import keep_known


def _accepts(factory: Any, option: str) -> bool:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def validate_image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InpaintStudioError(f"image must be RGB uint8 H×W×3, got {got}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InpaintStudioError("image is empty (0 pixels)")
    return np.ascontiguousarray(image)


def validate_edges(edges: Any, image: np.ndarray) -> np.ndarray:
    if not isinstance(edges, np.ndarray) or edges.dtype != np.uint8 or edges.shape != image.shape[:2]:
        got = f"{edges.dtype} {edges.shape}" if isinstance(edges, np.ndarray) else type(edges).__name__
        raise MaskError(f"edge map must be uint8 {image.shape[1]}×{image.shape[0]} like the image, got {got}")
    return edges


class ModelManager:
    """Holds the active method; `run()` validates, applies the HD strategy and re-composites."""

    def __init__(self, device: str = "auto", hd_config: HDConfig | None = None) -> None:
        self.device = device
        self.hd_config = hd_config if hd_config is not None else HDConfig()
        self._lock = threading.RLock()
        self._active: InpaintMethod | None = None
        self._active_name: str | None = None
        # The method that was active before a lazy switch; kept until the new one has loaded.
        self._fallback: tuple[str, InpaintMethod] | None = None

    # --- state -----------------------------------------------------------------------------------
    @property
    def active_name(self) -> str | None:
        return self._active_name

    @property
    def method(self) -> InpaintMethod | None:
        return self._active

    @property
    def capabilities(self) -> Capabilities | None:
        return self._active.capabilities if self._active is not None else None

    # --- switching -------------------------------------------------------------------------------
    def activate(self, name: str, *, load: bool = False, **options: Any) -> InpaintMethod:
        """Make `name` the active method (UnknownModelError for a bad name, nothing changes then)."""
        spec = get_spec(name)
        if "device" not in options and _accepts(spec.factory, "device"):
            options["device"] = self.device
        try:
            method = create_method(name, **options)
        except (TypeError, ValueError) as exc:  # an option the method does not take, or a bad value
            raise OptionError(f"model '{name}' rejected its options: {exc}") from None
        with self._lock:
            if load:
                self._load(name, method)  # raises: nothing changed
                if self._active is not None:
                    self._active.unload()
                self._active_name, self._active = name, method
                self._drop_fallback()
                return method
            current = (self._active_name or "", self._active) if self._active is not None else None
            if current is not None and current[1].loaded:
                # The newest loaded method is what we fall back to if the new one fails to load.
                self._drop_fallback()
                self._fallback = current
            elif current is not None:
                current[1].unload()
            self._active_name, self._active = name, method
        return method

    def _drop_fallback(self) -> None:
        if self._fallback is not None and self._fallback[1] is not self._active:
            self._fallback[1].unload()
        self._fallback = None

    def _load(self, name: str, method: InpaintMethod) -> None:
        if not method.is_available():
            info = method.weights_info()
            hint = "" if "import" in info else " (import weights with `inpaint-studio models import FILE`)"
            raise ModelUnavailableError(f"model '{name}' cannot run: {info}{hint}")
        try:
            method.load()
        except BaseException:
            method.unload()
            raise

    def ensure_loaded(self) -> InpaintMethod:
        """Load the active method if needed; on failure the previous method becomes active again."""
        with self._lock:
            method = self._active
            if method is None:
                raise ModelUnavailableError("no model selected")
            if not method.loaded:
                try:
                    self._load(self._active_name or method.name, method)
                except BaseException:
                    if self._fallback is not None:
                        self._active_name, self._active = self._fallback
                        self._fallback = None
                    raise
            self._drop_fallback()
            return method

    def unload(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.unload()
            self._drop_fallback()

    # --- work ------------------------------------------------------------------------------------
    def run(
        self,
        image: np.ndarray,
        mask: np.ndarray | None,
        edges: np.ndarray | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        *,
        hd_config: HDConfig | None = None,
    ) -> np.ndarray:
        """Fill the hole with the active method; pixels where mask == 0 come back bit-identical."""
        image = validate_image(image)
        with self._lock:
            method = self._active
            if method is None:
                raise ModelUnavailableError("no model selected")
            caps = method.capabilities
            if mask is None and not caps.blind:
                raise MaskError(f"model '{self._active_name}' needs a mask: paint the area to fill")
            if mask is not None:
                check_mask(image, mask)
                # One threshold everywhere (core.masks: > 127 is hole), so a soft mask's faint pixels are
                # neither filled by the method nor pasted back by the HD strategy.
                mask = binary(mask)
                check_fillable(mask)
            if edges is not None:
                edges = validate_edges(edges, image) if caps.accepts_edges else None
            check_cancel(cancel)
            if mask is not None and not mask.any():
                report(progress, 1.0, "nothing to fill")
                return image.copy()
            method = self.ensure_loaded()
            if mask is None:
                # Blind restoration: the method finds its own hole; no crop plan without a mask.
                result = method.inpaint(image, None, None, progress, cancel)
                return self._checked(result, image)

            def fill(img: np.ndarray, m: np.ndarray, e: np.ndarray | None) -> np.ndarray:
                return method.inpaint(img, m, e, None, cancel)

            config = hd_config if hd_config is not None else self.hd_config
            result = apply_hd_strategy(image, mask, fill, edges=edges, config=config, progress=progress, cancel=cancel)
            check_cancel(cancel)
            return keep_known(image, self._checked(result, image), mask)

    @staticmethod
    def _checked(result: Any, image: np.ndarray) -> np.ndarray:
        if not isinstance(result, np.ndarray) or result.shape != image.shape or result.dtype != np.uint8:
            got = f"{result.dtype} {result.shape}" if isinstance(result, np.ndarray) else type(result).__name__
            raise InpaintStudioError(f"model returned {got}, expected uint8 {image.shape}")
        return result

    def predict_mask(
        self, image: np.ndarray, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> MaskPrediction:
        image = validate_image(image)
        with self._lock:
            if self._active is None or not self._active.capabilities.predicts_mask:
                raise ModelUnavailableError(f"model '{self._active_name}' cannot detect damage; pick a blind model")
            method = self.ensure_loaded()
            return method.predict_mask(image, progress, cancel)

    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        image = validate_image(image)
        check_mask(image, mask)
        with self._lock:
            if self._active is None or not self._active.capabilities.predicts_edges:
                raise ModelUnavailableError(f"model '{self._active_name}' cannot predict edges")
            method = self.ensure_loaded()
            return method.predict_edges(image, mask)
