"""Classical (non-learned) fills from OpenCV: diffusion (Telea, Navier-Stokes), frequency-selective
reconstruction (FSR, fast and best) and exemplar-based ShiftMap.

All of them take and return RGB uint8; each converts to what its OpenCV routine expects (BGR for FSR,
Lab for ShiftMap). xphoto also touches pixels outside the hole: the pipeline's one composite undoes that.
Reported on photos at 256² with 20-30 % holes: FSR-fast hole L1 21.1 vs Telea 22.1, but ~2-3 s per image;
ShiftMap copies texture yet scores far worse on L1. Measured here on the four sample photos (same setting):
hole L1 telea 22.6, navier_stokes 22.1, fsr_fast 21.2, shiftmap 34.4; per image telea 0.16 s, fsr_fast
~4.5 s, shiftmap ~17 s, fsr_best ~100 s (2 loaded CPU cores).

OpenCV's ShiftMap reads a few bytes out of bounds on some inputs (valgrind), so on degenerate images such
as smooth synthetic gradients its result can differ between processes; on photo-like images it is stable.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from inpaint_studio.core.errors import Cancelled, InpaintStudioError
from inpaint_studio.engine.base import (
    CancelFn,
    Capabilities,
    InpaintMethod,
    ProgressFn,
    check_cancel,
    register_method,
    report,
)


class ClassicalMethod(InpaintMethod):
    """A fill without weights: `_fill` (or `_fill_guided`, for one that follows drawn edges) on the arrays
    the pipeline hands over."""

    capabilities = Capabilities()

    def fill_hole(self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        report(progress, 0.0, self.name)
        filled = self._fill_guided(image, hole, edges, cancel)
        check_cancel(cancel)
        report(progress, 1.0, "done")
        return filled

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        raise NotImplementedError

    def _fill_guided(
        self, image: np.ndarray, hole: np.ndarray, edges: np.ndarray | None, cancel: CancelFn | None
    ) -> np.ndarray:
        """A fill that follows caller-given edges overrides this; the others ignore edges."""
        return self._fill(image, hole, cancel)


class _DiffusionMethod(ClassicalMethod):
    flag: int = cv2.INPAINT_TELEA
    option_ranges = {"radius": (1, 1e9)}  # forms and the CLI offer what __init__ accepts

    def __init__(self, radius: int = 5) -> None:
        if int(radius) < 1:
            raise ValueError(f"radius must be at least 1, got {radius}")
        self.radius = int(radius)

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        # cv2.inpaint treats the three channels independently, so RGB order needs no conversion.
        return cv2.inpaint(image, hole, self.radius, self.flag)


@register_method
class TeleaMethod(_DiffusionMethod):
    name = "telea"
    description = "Fast marching diffusion (Telea 2004): quick, smooth fills for scratches and small holes"
    flag = cv2.INPAINT_TELEA


@register_method
class NavierStokesMethod(_DiffusionMethod):
    name = "navier_stokes"
    description = "Navier-Stokes diffusion (Bertalmio 2001): continues isophotes into thin holes"
    flag = cv2.INPAINT_NS


# Runs one xphoto fill in a child interpreter (see `run_in_child`).
_XPHOTO_CHILD = """
import sys
import cv2
import numpy as np
src, valid = np.load(sys.argv[1] + "/src.npy"), np.load(sys.argv[1] + "/valid.npy")
dst = np.zeros_like(src)
cv2.xphoto.inpaint(src, valid, dst, int(sys.argv[2]))
np.save(sys.argv[1] + "/dst.npy", dst)
"""


def run_in_child(
    script: str, arrays: dict[str, np.ndarray], args: list[str], cancel: CancelFn, name: str = "fill"
) -> np.ndarray | None:
    """Run `script` in a child interpreter that is killed as soon as `cancel()` turns true.

    A blocking native call (OpenCV's xphoto, PatchMatch) cannot be interrupted in-process. The child gets a
    temporary folder as argv[1] holding ARRAY.npy for each of `arrays`, then `args`; it must write dst.npy there.
    Only numpy and what the script imports load there (no main-module re-import, unlike multiprocessing's
    spawn). Returns None when no interpreter can be started (embedded Python): the caller then runs in-process.
    """
    with tempfile.TemporaryDirectory(prefix="inpaint-studio-") as tmp:
        for key, array in arrays.items():
            np.save(Path(tmp) / f"{key}.npy", array)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", script, tmp, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError:
            return None
        try:
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    if cancel():
                        raise Cancelled("cancelled") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
        if proc.returncode != 0:
            last = err.strip().splitlines()[-1] if err.strip() else f"exit status {proc.returncode}"
            raise InpaintStudioError(f"{name} failed: {last}")
        return np.load(Path(tmp) / "dst.npy")


def xphoto_fill(src: np.ndarray, valid: np.ndarray, algorithm: int) -> np.ndarray:
    dst = np.zeros_like(src)
    cv2.xphoto.inpaint(src, valid, dst, algorithm)
    return dst


def xphoto_fill_cancellable(
    src: np.ndarray, valid: np.ndarray, algorithm: int, cancel: CancelFn, name: str = "fill"
) -> np.ndarray:
    """xphoto_fill in a child process that is killed as soon as `cancel()` turns true."""
    dst = run_in_child(_XPHOTO_CHILD, {"src": src, "valid": valid}, [str(int(algorithm))], cancel, f"{name} (OpenCV)")
    return dst if dst is not None else xphoto_fill(src, valid, algorithm)


class _XPhotoMethod(ClassicalMethod):
    algorithm: int = 0
    # Above this many hole pixels, and when the caller can cancel, the fill runs in a killable child process.
    cancellable_above: int = 20_000

    def __init__(self) -> None:
        pass

    def _fill(self, image: np.ndarray, hole: np.ndarray, cancel: CancelFn | None) -> np.ndarray:
        src = self._to_native(image)
        valid = cv2.bitwise_not(hole)  # xphoto: nonzero = valid, 0 = missing
        if cancel is not None and np.count_nonzero(hole) > self.cancellable_above:
            dst = xphoto_fill_cancellable(src, valid, self.algorithm, cancel, self.name)
        else:
            dst = xphoto_fill(src, valid, self.algorithm)
        return self._from_native(dst)

    def _to_native(self, image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)

    def _from_native(self, image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@register_method
class FSRFastMethod(_XPhotoMethod):
    name = "fsr_fast"
    description = "Frequency-selective reconstruction, fast mode: sharper than diffusion on textures, a few seconds"
    algorithm = cv2.xphoto.INPAINT_FSR_FAST


@register_method
class FSRBestMethod(_XPhotoMethod):
    name = "fsr_best"
    description = "Frequency-selective reconstruction, best mode: best classical quality, very slow (minutes on big holes)"
    algorithm = cv2.xphoto.INPAINT_FSR_BEST
    cancellable_above = 1_000  # ~1 s and more: worth the child's start-up


@register_method
class ShiftMapMethod(_XPhotoMethod):
    name = "shiftmap"
    description = "ShiftMap (He & Sun 2012): copies whole patches of texture from elsewhere in the image"
    algorithm = cv2.xphoto.INPAINT_SHIFTMAP

    # ShiftMap wants intensity first, then two colour components.
    def _to_native(self, image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2Lab)

    def _from_native(self, image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_Lab2RGB)
