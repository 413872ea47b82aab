"""Shared layers: gated conv, contextual attention, spectral norm, probabilistic context normalization."""
