"""Inpaint Studio: desktop image inpainting and the engine behind it."""

__version__ = "0.1.0"
