"""The bottom layer: the types every other part of the project exchanges.

The profile request, the input specs, the event stream, the report and the device listing, with their
schema versions. Nothing here imports the rest of the project (only ``advisor.errors``, a leaf of
exception classes): profiling, workloads, reports, devices and the front ends all build on it, so no
two of them need each other to agree on a type. The contract is checked by import-linter (pyproject).
"""
