"""How fast a measured model would run on another card: per-operator costs, peaks, engines, projection."""
