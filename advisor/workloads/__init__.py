"""Models to profile: the built-in reference workloads and loaders for the user's own files."""
