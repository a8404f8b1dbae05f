"""The inference GPU advisor: profile a model here, then decide where it should run."""

__version__ = "0.1.0"
