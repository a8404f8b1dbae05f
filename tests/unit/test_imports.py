"""The front-end side of the core starts fast: torch is loaded only in the worker."""

import subprocess
import sys


def test_the_core_loads_neither_torch_nor_qt_for_its_front_ends():
    """torch lives in the worker; Qt and ui/ are front ends the core never imports."""
    code = ("import sys; import advisor.cli, advisor.profiling.runner, advisor.report.io, advisor.profiling.builder, "
            "advisor.catalog.cards, advisor.devices.nvml, advisor.devices.cpu; "
            "import advisor.recommend.decide, advisor.documents.html, advisor.documents.compare; "
            "print(sorted(m for m in ('torch', 'torchao', 'transformers', 'PySide6', 'pyqtgraph', 'ui') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
