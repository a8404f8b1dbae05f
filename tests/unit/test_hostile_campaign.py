"""The second hostile-input campaign (benchmarks/hostile_inputs.py, issue 25) kept in CI: every case of its
destinations, inputs, numbers, integrity and stop-signal part, each judged as the campaign judges it."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("hostile_inputs", Path(__file__).parents[2] / "benchmarks" /
                                               "hostile_inputs.py")
assert _spec and _spec.loader
campaign = importlib.util.module_from_spec(_spec)
sys.modules["hostile_inputs"] = campaign
_spec.loader.exec_module(campaign)


@pytest.mark.slow
@pytest.mark.parametrize("case", campaign.integrity_cases(), ids=lambda case: case.name)
def test_hostile_case_is_clean(case):
    campaign.run(case)
    assert not case.problems, case.problems
