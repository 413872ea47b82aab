"""nn.Modules, one file per method, registered by name. Imports torch only (never Qt, never the engine)."""
