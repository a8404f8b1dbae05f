"""Hardware discovery (and, later, telemetry). The only package that imports pynvml."""
