"""The device profiled counts as owned only when it ran on this machine and this machine is not rented."""

from pathlib import Path

from advisor.catalog.catalog import bundled_catalog
from advisor.devices.machine import Machine, virtual_reason
from advisor.recommend.decide import recommend
from advisor.recommend.workload import load_preset
from advisor.report.io import load_report
from tests.unit.scenarios import scenario_report

CATALOG = bundled_catalog()
REFERENCE = Path(__file__).parents[2] / "profiles" / "reference" / "vision-default-nvidia-h100-80gb-hbm3.json"


def test_a_hypervisor_flag_or_a_cloud_dmi_vendor_marks_a_machine_virtual(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2\n")
    assert virtual_reason(tmp_path) is None  # bare metal, no DMI readable
    dmi = tmp_path / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Dell Inc.\n")
    (dmi / "product_name").write_text("PowerEdge R760\n")
    assert virtual_reason(tmp_path) is None
    (dmi / "sys_vendor").write_text("Amazon EC2\n")
    assert "Amazon EC2" in virtual_reason(tmp_path)
    (tmp_path / "proc" / "cpuinfo").write_text("flags\t\t: fpu sse2 hypervisor avx2\n")
    assert "hypervisor" in virtual_reason(tmp_path)


def test_the_cpu_profiled_here_on_bare_metal_is_owned_elsewhere_or_virtual_it_is_not():
    report = scenario_report()
    host = report.environment.hostname
    preset = load_preset("internal-tool")
    here = recommend(report, preset, CATALOG, machine=Machine(host, None))
    assert here.verdict.action == "keep"
    virtual = recommend(report, preset, CATALOG, machine=Machine(host, "the CPU reports a hypervisor"))
    assert all(o.action != "keep" for o in virtual.ranked)
    assert "rented, not owned: the CPU reports a hypervisor" in virtual.assumptions["owned"]
    # issue 26: it read "none: the this machine's CPU profiled is not counted as owned"
    assert virtual.assumptions["owned"].startswith("none: this machine's CPU, the device profiled, is not counted as owned")
    elsewhere = recommend(report, preset, CATALOG, machine=Machine("another-host", None))
    assert all(o.action != "keep" for o in elsewhere.ranked)
    assert f"profiled on {host!r}, not on this machine" in elsewhere.assumptions["owned"]


def test_a_bundled_reference_is_never_owned_even_on_a_machine_of_the_same_name():
    report = load_report(REFERENCE)
    rec = recommend(report, load_preset("realtime-vision"), CATALOG, machine=Machine(report.environment.hostname, None))
    assert all(o.action != "keep" for o in rec.ranked)
    assert "bundled reference profile" in rec.assumptions["owned"]
