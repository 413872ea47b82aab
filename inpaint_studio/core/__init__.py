"""Arrays, image I/O, masks, metrics, tiling and synthesis. Imports neither Qt nor torch."""
