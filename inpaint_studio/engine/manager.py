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

from inpaint_studio.core.errors import ModelUnavailableError, OptionError
from inpaint_studio.core.hd import HDConfig
from inpaint_studio.core.masks import binary, check_mask
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    MaskPrediction,
    ProgressFn,
    create_method,
    get_spec,
)
from inpaint_studio.engine.pipeline import run_fill, validate_image


def _accepts(factory: Any, option: str) -> bool:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


class ModelManager:
    """Holds the active method and runs it through the fill pipeline (engine.pipeline), one job at a time."""

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
        stains: np.ndarray | None = None,
    ) -> np.ndarray:
        """Fill the hole with the active method; pixels where mask == 0 come back bit-identical (where `stains`
        are given, un-tinted first: `pipeline.run_fill`).

        The pipeline checks the inputs, thresholds the mask, short-cuts an empty one (without loading),
        applies the HD strategy (`hd_config`, else the manager's) and the method's working size, and
        pastes the fill back once; a failed load falls back to the previous model (`ensure_loaded`)."""
        with self._lock:
            method = self._active
            if method is None:
                raise ModelUnavailableError("no model selected")
            config = hd_config if hd_config is not None else self.hd_config
            return run_fill(method, image, mask, edges, progress, cancel, hd_config=config, load=self.ensure_loaded,
                            stains=stains)

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
        hole = binary(mask)
        with self._lock:
            if self._active is None or not self._active.capabilities.predicts_edges:
                raise ModelUnavailableError(f"model '{self._active_name}' cannot predict edges")
            method = self.ensure_loaded()
            return method.predict_edges(image, hole)
