"""The backends that load a model into an engine (advisor/engines/base.py says what each does). The registry
(advisor/schema/engines.py) names each engine's backend module here; this package finds it."""

from __future__ import annotations

import importlib

from advisor.engines.base import Backend
from advisor.schema.engines import engine
from advisor.schema.request import ProfileRequest


def load_backend(name: str, request: ProfileRequest) -> Backend:
    """The backend of an engine the registry says can be profiled."""
    spec = engine(name)
    if spec.backend is None:
        raise ValueError(f"{spec.label} is projected only: no backend profiles it here")
    module = importlib.import_module(f"advisor.engines.{spec.backend}")
    return module.Backend(spec, request)
