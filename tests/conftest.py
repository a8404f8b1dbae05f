import os
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from advisor.schema.request import ModelSpec, ProfileRequest

FIXTURES = Path(__file__).parent / "fixtures"

# The per-user catalog folder lives under the config home: never read or write the real one in tests.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="gpu-advisor-test-config-")
os.environ.pop("GPU_ADVISOR_CATALOG", None)


def fast_request(**overrides) -> ProfileRequest:
    """A request that measures briefly: enough samples to exercise the rule, seconds not minutes."""
    fields = dict(model=ModelSpec(builtin="embedding", size="tiny"), device="cpu", precisions=["fp32"],
                  batch_sizes=[1], budget_s=1.0, rounds=2, warmup_s=0.02, min_samples=5)
    fields.update(overrides)
    return ProfileRequest(**fields)


@pytest.fixture
def worker_env():
    """The environment of a worker that can unpickle the misbehaving fixture models."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(FIXTURES), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.fixture
def pickled(tmp_path):
    """Save a fixture model as a full pickle and return its path."""
    sys.path.insert(0, str(FIXTURES))
    try:
        def save(model, name="model.pt"):
            path = tmp_path / name
            torch.save(model, path)
            return path
        yield save
    finally:
        sys.path.remove(str(FIXTURES))
