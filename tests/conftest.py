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


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (bash packaging/dev.sh test --all passes it)")


def pytest_collection_modifyitems(config, items):
    """Slow tests are skipped by default so the everyday run stays short; --run-slow, a -m expression or
    naming the test itself (path::name) runs them."""
    if config.getoption("--run-slow") or config.getoption("markexpr"):
        return
    def short(test_id: str) -> str:  # file name and test name: the same whatever folder pytest ran from
        path, _, name = test_id.partition("::")
        return f"{Path(path).name}::{name.split('[')[0]}"

    named = {short(arg) for arg in config.args if "::" in arg}
    skip = pytest.mark.skip(reason="slow: run with --run-slow (bash packaging/dev.sh test --all)")
    for item in items:
        if "slow" in item.keywords and short(item.nodeid) not in named:
            item.add_marker(skip)


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
