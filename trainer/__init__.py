"""Training package: trains every network from a folder of photos and exports checkpoints the app loads."""
