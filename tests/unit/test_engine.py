"""The torch.compile engine, recorded in the report (slow: inductor compiles C++ on the CPU)."""

import shutil

import pytest

from advisor.profiling.runner import run_profile
from tests.conftest import fast_request


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                    reason="torch.compile on the CPU needs a C++ compiler")
def test_compiled_engine_is_profiled_and_recorded():
    run = run_profile(fast_request(engines=["compile"], precisions=["fp32", "int8_dynamic"]))
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    assert report.request.engines == ["compile"]
    for variant in report.variants:
        assert variant.engine == "compile"
        assert variant.status == "ok", variant.reason
        assert variant.prepare_s > 0
    # Compiled, int8 dynamic goes through torchao (torch.ao's kernels are an eager-mode path).
    assert report.variant("int8_dynamic").method.library == "torchao"
