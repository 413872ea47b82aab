"""The editor's data model: plain Python and numpy, no Qt, so it is unit-testable without a display."""
