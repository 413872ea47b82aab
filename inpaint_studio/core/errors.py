"""The errors a user can see. Each carries one clear line; the CLI prints it and the UI shows it."""

from __future__ import annotations


class InpaintStudioError(Exception):
    """Base class: a problem with the user's input or environment, reported without a traceback."""


class ImageLoadError(InpaintStudioError):
    """An image file could not be read (missing, corrupt, unsupported, too large)."""


class ImageSaveError(InpaintStudioError):
    """An image could not be written (or would overwrite its source without permission)."""


class MaskError(InpaintStudioError):
    """A mask is unusable: wrong size for its image, unreadable, or empty where a hole is required."""


class CheckpointError(InpaintStudioError):
    """A checkpoint is missing, truncated, unsafe, or does not match the network."""


class UnknownModelError(InpaintStudioError):
    """No method is registered under the requested name."""


class ModelUnavailableError(InpaintStudioError):
    """The method exists but cannot run here (no weights found, device missing)."""


class Cancelled(InpaintStudioError):
    """The user cancelled a running job; its partial result is discarded."""


class OptionError(InpaintStudioError):
    """A method option the method does not have, or a value it cannot take (a usage error on the command line)."""
