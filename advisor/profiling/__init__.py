"""The profiler: a model measured in an isolated worker, variant by variant, into a report (docs/profiling.md)."""
