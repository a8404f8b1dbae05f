"""Discovery, sampling and energy windows, proven against a fake NVML that replays readings."""

import json
from pathlib import Path

import pytest

from advisor.devices import cpu, nvml, rapl
from advisor.profiling import energy
from advisor.profiling.telemetry import CpuProbe, GpuProbe, Sampler
from tests.fixtures.fake_nvml import FakeNvml, synthetic_trace


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def step_profile(t: float) -> float:
    return 100.0 if t < 2.0 else 400.0  # idle, then a workload


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    def install(**kwargs):
        library = FakeNvml(synthetic_trace(step_profile, **kwargs), clock=clock)
        nvml.use_library(library)
        return library
    yield install
    nvml.use_library(None)


def _sampler(clock, gpu=True, tmp_path=None):
    stopped = []
    sampler = Sampler(0.1, clock, GpuProbe(0) if gpu else None, CpuProbe(rapl_root=tmp_path or Path("/nonexistent")),
                      on_batch=lambda s: None, on_stop_gpu=stopped.append)
    return sampler, stopped


def test_discovery_reads_the_facts_and_power_sources(fake):
    fake()
    (gpu,) = nvml.gpus()
    assert gpu["name"] == "NVIDIA H100 80GB HBM3" and gpu["compute_capability"] == "9.0"
    assert gpu["power_limit_w"] == 700 and gpu["power_default_limit_w"] == 700
    assert (gpu["pcie_generation_max"], gpu["pcie_width_max"], gpu["mig_mode"]) == (5, 16, "disabled")
    assert gpu["max_sm_clock_mhz"] == 1980
    assert gpu["power_sources"] == {"nvml_energy_counter": True, "nvml_instant_power": True, "nvml_average_power": True}
    assert nvml.driver_version() == "550.54.15" and nvml.cuda_driver_version() == "12.4"


def test_an_old_card_and_missing_permissions_give_missing_values_with_reasons(fake):
    fake(name="Tesla P100", cc=(6, 0), unsupported=["nvmlDeviceGetTotalEnergyConsumption", "power_instant"],
         denied=["nvmlDeviceGetPowerManagementLimit"])
    (gpu,) = nvml.gpus()
    assert gpu["power_limit_w"] is None
    assert gpu["power_sources"]["nvml_energy_counter"] is False
    assert "Volta" in gpu["power_sources_missing"]["nvml_energy_counter"]
    assert gpu["power_sources"]["nvml_instant_power"] is False
    assert gpu["power_sources"]["nvml_average_power"] is True


def test_no_driver_means_a_cpu_only_machine_with_a_reason():
    nvml.use_library(FakeNvml(None))
    try:
        assert nvml.gpus() == []
        assert "no NVIDIA driver found" in nvml.unavailable_reason()
        assert nvml.memory_used_bytes(0) is None
    finally:
        nvml.use_library(None)


def test_repeated_power_readings_are_dropped_by_timestamp(fake, clock):
    fake()
    sampler, _ = _sampler(clock)
    powers = []
    for t in (0.00, 0.03, 0.06, 0.10, 0.13, 2.5):
        clock.t = t
        powers.append(sampler.sample_once().gpu_power_w)
    # Readings update every 100 ms: samples between updates carry no new power value.
    assert powers == [100.0, None, None, 100.0, None, 400.0]
    last = sampler.samples[-1]
    assert last.gpu_util_pct == 95 and last.gpu_sm_clock_mhz == 1980 and last.gpu_throttle == []
    assert sampler.samples[0].gpu_throttle == ["GpuIdle"]


H100_TRACE = Path(__file__).parents[2] / "profiles" / "nvml-traces" / "nvidia-h100-80gb-hbm3.json"


def test_a_real_h100_trace_replays_into_agreeing_counter_and_sampled_energy(clock):
    """Recorded on an H100 (benchmarks/record_nvml_trace.py): idle, a bf16 matrix-product load, idle."""
    trace = json.loads(H100_TRACE.read_text())
    nvml.use_library(FakeNvml(trace, clock=clock))
    try:
        sampler, _ = _sampler(clock)
        assert sampler.gpu.sources.energy_counter and sampler.gpu.sources.instant_power
        counter = energy.choose_meter("cuda", sampler, None, "", None, None, None)
        assert counter.method == "nvml_energy_counter"
        clock.t = 3.0
        with energy.EnergyWindow(counter, sampler, clock) as window:
            for step in range(1, 51):  # the sampler's 100 ms period, through the loaded phase (2.2 to 8.2 s)
                clock.t = 3.0 + step * 0.1
                sampler.sample_once()
        loaded = [s.gpu_power_w for s in sampler.samples]
        # This card stamps each read with the time of the read: no sample is dropped as a repeat.
        assert None not in loaded and 500 < sum(loaded) / len(loaded) <= 800
        sampled_j = sum(loaded) * 0.1
        assert window.joules() == pytest.approx(sampled_j, rel=0.03)
        assert window.joules() / window.seconds == pytest.approx(700, rel=0.05)  # held at its 700 W limit
        # ... by lowering its clocks, which NVML reports as the software power cap.
        assert all(s.gpu_throttle == ["SwPowerCap"] and s.gpu_sm_clock_mhz < 1980 for s in sampler.samples)
    finally:
        nvml.use_library(None)


def test_average_power_is_used_where_no_instant_reading_exists(fake, clock):
    fake(unsupported=["power_instant"])
    sampler, _ = _sampler(clock)
    clock.t = 3.5
    sample = sampler.sample_once()
    assert sample.gpu_power_kind == "average" and sample.gpu_power_w == pytest.approx(400, rel=0.01)


def test_energy_counter_window_and_idle_baseline(fake, clock):
    fake()
    sampler, _ = _sampler(clock)
    meter = energy.choose_meter("cuda", sampler, None, "", None, None, None)
    assert meter.method == "nvml_energy_counter" and "GPU board" in meter.scope
    with energy.EnergyWindow(meter, sampler, clock) as idle:
        clock.t = 1.5
    assert idle.joules() / idle.seconds == pytest.approx(100, rel=0.05)
    clock.t = 3.0
    with energy.EnergyWindow(meter, sampler, clock) as window:
        clock.t = 8.0
    assert window.joules() == pytest.approx(400 * 5, rel=0.02)  # the counter steps every 100 ms
    result = energy.summarise(meter, [(window, 1000, 32000)], idle_power_w=100.0, idle_reason=None)
    assert result.energy_per_item_j == pytest.approx(2.0, rel=0.02)
    assert result.energy_per_item_net_j == pytest.approx(1.5, rel=0.03)
    assert result.tokens_per_j == pytest.approx(16, rel=0.02)
    assert result.estimated is False


def test_a_card_without_counter_integrates_sampled_power(fake, clock):
    fake(unsupported=["nvmlDeviceGetTotalEnergyConsumption"])
    sampler, _ = _sampler(clock)
    meter = energy.choose_meter("cuda", sampler, None, "", None, None, None)
    assert meter.method == "nvml_power_samples"
    clock.t = 3.0
    with energy.EnergyWindow(meter, sampler, clock) as window:
        for step in range(1, 51):
            clock.t = 3.0 + step * 0.1
            sampler.sample_once()
    assert window.joules() == pytest.approx(2000, rel=0.02)
    assert window.peak_power_w() == 400


def test_the_driver_disappearing_mid_run_stops_gpu_sampling_only(fake, clock):
    fake(lost_after_s=0.5)
    sampler, stopped = _sampler(clock)
    clock.t = 0.2
    assert sampler.sample_once().gpu_power_w == 100
    clock.t = 0.6
    sample = sampler.sample_once()
    assert sample.gpu_power_w is None and sample.process_rss_bytes > 0
    assert sampler.gpu is None and "stopped answering" in stopped[0]
    clock.t = 0.7
    assert sampler.sample_once().process_rss_bytes > 0  # the CPU side goes on
    meter = energy.choose_meter("cuda", sampler, None, "", None, None, None)
    assert meter.method is None and "stopped answering" in meter.reason


def test_sampler_thread_batches_samples(fake):
    fake()
    import time
    batches = []
    sampler = Sampler(0.02, time.monotonic, GpuProbe(0), CpuProbe(rapl_root=Path("/nonexistent")),
                      on_batch=batches.append, on_stop_gpu=lambda why: None)
    sampler.start()
    deadline = time.monotonic() + 30  # waits for the samples, not a fixed time: a busy machine only slows it
    while (len(batches) < 2 or len(sampler.samples) < 10) and time.monotonic() < deadline:
        time.sleep(0.02)
    sampler.stop()
    assert sum(len(b) for b in batches) == len(sampler.samples) >= 10
    assert len(batches) >= 2


def _rapl_tree(root: Path, package_uj: int, dram_uj: int, max_uj: int = 1_000_000) -> None:
    for path, name, value in (("intel-rapl:0", "package-0", package_uj), ("intel-rapl:0/intel-rapl:0:0", "core", 7),
                              ("intel-rapl:0/intel-rapl:0:1", "dram", dram_uj)):
        folder = root / path
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "name").write_text(name + "\n")
        (folder / "energy_uj").write_text(f"{value}\n")
        (folder / "max_energy_range_uj").write_text(f"{max_uj}\n")


def test_rapl_sums_package_and_dram_and_survives_the_counter_wrapping(tmp_path):
    _rapl_tree(tmp_path, 900_000, 100_000)
    domains, reason = rapl.discover(tmp_path)
    assert reason is None and [d.name for d in domains] == ["package-0", "dram"]  # core is part of the package
    counter = rapl.RaplCounter(domains)
    _rapl_tree(tmp_path, 50_000, 300_000)  # the package counter wrapped past 1 J
    assert counter.read_j() == pytest.approx((1_000_001 - 900_000 + 50_000 + 200_000) / 1e6)
    probe = CpuProbe(rapl_root=tmp_path)
    sampler = Sampler(0.1, Clock(), None, probe, lambda s: None, lambda w: None)
    assert energy.choose_meter("cpu", sampler, None, "", None, None, None).method == "rapl"


def test_rapl_permission_denied_and_absence_are_explained(tmp_path, monkeypatch):
    assert "no RAPL interface" in rapl.discover(tmp_path / "none")[1]
    _rapl_tree(tmp_path, 1, 1)
    real = Path.read_text

    def denied(self, *args, **kwargs):
        if self.name == "energy_uj":
            raise PermissionError("denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    domains, reason = rapl.discover(tmp_path)
    assert domains == [] and "root only" in reason and "CVE-2020-8694" in reason


def test_cpu_energy_without_rapl_is_an_estimate_only_when_the_tdp_is_known(clock):
    sampler = Sampler(0.1, clock, None, CpuProbe(rapl_root=Path("/nonexistent")), lambda s: None, lambda w: None)
    unknown = energy.choose_meter("cpu", sampler, None, "", 1, None, None)
    assert unknown.method is None and "--cpu-tdp-w" in unknown.reason and "--wall-power-w" in unknown.reason
    estimate = energy.choose_meter("cpu", sampler, 200.0, "given by the user", 2, None, None)
    assert estimate.method == "estimate_tdp" and estimate.detail.startswith("ESTIMATE, not a measurement")
    assert estimate.power_w(100.0) == pytest.approx(400.0) and estimate.power_w(0.0) == pytest.approx(40.0)
    wall = energy.choose_meter("cpu", sampler, 200.0, "", 1, 95.0, None)
    assert wall.method == "user_supplied"  # the user's own measurement takes precedence


def test_cpu_tdp_table_matches_the_names_the_kernel_reports():
    assert cpu.tdp("AMD EPYC 7763 64-Core Processor")[0] == 280
    assert cpu.tdp("Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz")[0] == 205
    tdp, why = cpu.tdp("AMD EPYC")
    assert tdp is None and "--cpu-tdp-w" in why


def test_monitor_shows_each_gpu_and_survives_one_disappearing(fake, clock):
    import io
    import json

    from advisor import monitor

    fake(lost_after_s=1.0)
    view = monitor.Monitor()
    clock.t = 0.5
    text = view.render(view.sample(), 0.5)
    assert "NVIDIA H100 80GB HBM3" in text and "/700 W" in text and "throttle: GpuIdle" in text
    clock.t = 1.5
    text = view.render(view.sample(), 0.5)
    assert "GPU 0  not readable: the GPU stopped answering" in text and "CPU" in text
    out = io.StringIO()
    assert monitor.run(0.01, 2, as_json=True, stream=out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["device"] for line in lines} == {"cpu"}  # the GPU is gone: only the CPU remains
    assert all("process_cpu_pct" not in line for line in lines)


def test_sparkline_scales_to_the_power_limit():
    from advisor.monitor import sparkline
    assert sparkline([0, 350, 700, None], 700) == "▁▄█ "


def test_a_telemetry_thread_that_fails_says_so_instead_of_dying_silently(tmp_path):
    class Broken(CpuProbe):
        def read(self, sample):
            raise OSError("sensor gone")

    said = []
    import time

    sampler = Sampler(0.01, time.monotonic, None, Broken(rapl_root=Path("/nonexistent")), lambda s: None,
                      lambda w: None, on_stop=said.append)
    sampler.start()
    sampler.stop()
    assert said == ["telemetry stopped: OSError: sensor gone"] and sampler.stopped_reason == said[0]


def test_a_memory_limit_that_cannot_be_set_is_a_warning(monkeypatch):
    import resource

    from advisor.profiling import worker

    def refuse(*args):
        raise ValueError("not allowed to raise maximum limit")

    monkeypatch.setattr(resource, "setrlimit", refuse)
    assert worker._limit_cpu_memory(2**30) == "not allowed to raise maximum limit"


def test_a_lost_gpu_is_listed_with_its_reason_not_dropped(fake, clock):
    from advisor.inventory import discover, format_devices

    fake(lost_after_s=0.0)
    assert nvml.gpus() == []
    lost = nvml.lost_gpus()
    assert lost and lost[0]["index"] == 0 and "lost" in lost[0]["reason"].lower()
    found = discover()
    assert [g.model_dump() for g in found.nvidia.lost_gpus] == lost
    assert f"GPU 0 cannot be read: {lost[0]['reason']}" in format_devices(found)
