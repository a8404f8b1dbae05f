"""`gpu-advisor doctor`: each problem found with the fix, and the app refusing to start without its Qt libraries."""

from advisor import doctor
from advisor.devices import nvml
from tests.fixtures.fake_nvml import FakeNvml, synthetic_trace


def test_missing_qt_libraries_name_the_packages_to_install(monkeypatch):
    monkeypatch.setattr(doctor, "missing_qt_libraries", lambda: ["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    check = doctor.check_qt()
    assert check.status == "fail" and "libxcb-cursor.so.0" in check.detail
    assert "apt-get install libxcb-cursor0 libxcb-icccm4" in check.fix and "dnf install xcb-util-cursor xcb-util-wm" in check.fix
    monkeypatch.setattr(doctor, "missing_qt_libraries", lambda: [])
    assert doctor.check_qt().status == "ok"


def test_a_cpu_only_torch_on_a_machine_with_an_nvidia_gpu_is_a_failure_with_its_fix(monkeypatch):
    import torch

    nvml.use_library(FakeNvml(synthetic_trace(lambda t: 100.0)))
    try:
        monkeypatch.setattr(torch.version, "cuda", None)
        check = doctor.check_torch()
        assert check.status == "fail" and "CPU-only build" in check.detail and "CUDA build matching the driver" in check.fix
        assert doctor.check_nvml().status == "ok"
    finally:
        nvml.use_library(None)


def test_without_rapl_or_nvml_the_checks_warn_and_say_what_still_works():
    checks = {c.name: c for c in doctor.run_checks()}
    rapl = checks["CPU energy (RAPL)"]
    assert (rapl.status, rapl.fix is None) == ("ok", True) or (rapl.status == "warn" and "--cpu-tdp-w" in rapl.fix)
    assert checks["catalog"].status in ("ok", "warn") and "catalog audit" in checks["catalog"].detail


def test_the_doctor_command_exits_non_zero_only_when_something_fails(monkeypatch, capsys):
    from advisor.cli import main

    monkeypatch.setattr(doctor, "run_checks", lambda: [doctor.Check("x", "warn", "less", "do y")])
    assert main(["doctor"]) == 0 and "[WARN] x: less" in capsys.readouterr().out
    monkeypatch.setattr(doctor, "run_checks", lambda: [doctor.Check("x", "fail", "broken", "do z")])
    assert main(["doctor", "--json"]) == 1 and '"status": "fail"' in capsys.readouterr().out


def test_the_torch_build_is_named_from_torch_version_cuda_not_from_the_gpus_found(monkeypatch):
    """PyPI's Linux torch on a machine with no NVIDIA GPU is the CUDA build: doctor says so, and that the CPU build is
    smaller (issue 26: it said "CPU build" for 2.13.0+cu130)."""
    import torch

    monkeypatch.setattr(nvml, "gpus", lambda: [])
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    check = doctor.check_torch()
    assert check.status == "warn" and "(CUDA 13.0 build, no NVIDIA GPU" in check.detail and "CPU build" not in check.detail
    assert "CPU build is about 3.8 GB smaller" in check.fix and "TORCH_SPEC" in check.fix
    monkeypatch.setattr(torch.version, "cuda", None)
    check = doctor.check_torch()
    assert (check.status, check.fix) == ("ok", None) and "(CPU build, no NVIDIA GPU)" in check.detail
