"""Headless engine: methods behind one interface, checkpoint loading, devices. No Qt."""
