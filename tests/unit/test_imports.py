"""The front-end side of the core starts fast: torch is loaded only in the worker."""

import subprocess
import sys


def test_cli_runner_and_reports_do_not_import_torch():
    code = ("import sys; import advisor.cli, advisor.profiling.runner, advisor.report.io, advisor.report.builder, "
            "advisor.catalog.cards, advisor.devices.nvml, advisor.devices.cpu; "
            "print(sorted(m for m in ('torch', 'torchao', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
