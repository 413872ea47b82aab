"""Imports every network module so that its constructors register. One line per model file."""
