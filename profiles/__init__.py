"""Bundled data: the catalog, workload presets and reference profiles (read via importlib.resources)."""
