"""Which compute device a learned method runs on. torch is imported inside the functions so that listing
devices (or importing this module) costs nothing until a network is actually needed."""

from __future__ import annotations

from inpaint_studio.core.errors import ModelUnavailableError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """Devices usable here: cpu always, then cuda and mps when present."""
    devices = ["cpu"]
    try:
        import torch
    except ImportError:  # a core-only install can still run the classical methods
        return devices
    if torch.cuda.is_available():
        devices.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(pref: str = "auto") -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit choice must exist here."""
    pref = (pref or "auto").strip().lower()
    if pref not in DEVICE_CHOICES:
        raise ModelUnavailableError(f"unknown device '{pref}' (choose from {', '.join(DEVICE_CHOICES)})")
    devices = available_devices()
    if pref == "auto":
        for candidate in ("cuda", "mps"):
            if candidate in devices:
                return candidate
        return "cpu"
    if pref not in devices:
        raise ModelUnavailableError(
            f"device '{pref}' is not available on this machine (available: {', '.join(devices)})"
        )
    return pref
