"""The command line contract: exit codes, one-line errors, --json, the default run."""

import io
import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from advisor import cli, options
from advisor.cli.render import Progress
from advisor.report.io import load_report
from advisor.schema.events import ProgressEvent, StageEvent, TelemetryEvent


def run_cli(*args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


FAST = ["--size", "tiny", "--budget", "2", "--rounds", "1", "--batch", "1"]


@pytest.mark.slow
def test_profile_json_prints_the_report_and_saves_it(tmp_path):
    out = tmp_path / "r.json"
    result = run_cli("profile", "embedding", *FAST, "--precision", "fp32,int8", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    saved = load_report(out)
    assert printed["report_id"] == saved.report_id
    assert [v.precision for v in saved.variants] == ["fp32", "int8_dynamic"]
    assert "Traceback" not in result.stderr


def test_profile_prints_a_summary_table(tmp_path):
    result = run_cli("profile", "vision", *FAST, "--precision", "fp32,fp8", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    assert "vision-tiny" in result.stdout and "p50 ms" in result.stdout
    assert "fp8: fp8 needs an NVIDIA GPU" in result.stdout
    assert f"report: {tmp_path / 'r.json'}" in result.stderr
    # the next step, ready to paste (issue 26); none with --quiet, nor with --json (stdout stays the JSON alone)
    assert f"next: gpu-advisor recommend {tmp_path / 'r.json'} --preset internal-tool" in result.stderr
    assert f"gpu-advisor show {tmp_path / 'r.json'}" in result.stderr
    quiet = run_cli("profile", "vision", *FAST, "--precision", "fp32", "--quiet", "--json", "--out", str(tmp_path / "q.json"))
    assert quiet.returncode == 0 and "next:" not in quiet.stderr and json.loads(quiet.stdout)["kind"]


@pytest.mark.slow
def test_the_default_run_profiles_a_builtin_and_writes_where_the_readme_says(tmp_path):
    result = run_cli("profile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reports = list((tmp_path / "gpu-advisor-reports").glob("embedding-default-cpu-*.json"))
    assert len(reports) == 1
    report = load_report(reports[0])
    assert report.status == "complete"
    assert [v.precision for v in report.variants] == ["fp32", "bf16", "int8_dynamic", "int8_weight_only"]
    assert all(b.status == "ok" for v in report.variants for b in v.batches)


def test_devices_lists_the_machine():
    result = run_cli("devices", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["cpu"]["cores_physical"] >= 1
    assert found["devices"][0]["device"] == "cpu"
    if not found["nvidia"]["gpus"]:
        assert found["nvidia"]["unavailable_reason"]


def test_no_subcommand_prints_help():
    result = run_cli()
    assert result.returncode == 0 and "profile" in result.stdout


@pytest.mark.parametrize("args, code, message", [
    (["profile", "--precision", "int3"], 2, "unknown precision 'int3'"),
    (["profile", "--batch", "1,x"], 2, "--batch: 'x' is not a batch size"),
    (["profile", "--batch", "8..2"], 2, "is not a batch size"),
    (["profile", "nowhere/model.pt"], 2, "neither a built-in"),
    (["profile", "--input", "float32[1,,"], 3, "is not understood"),
    (["profile", "--json", "--events"], 2, "choose one"),
    (["profile", "--device", "tpu"], 2, "unknown device 'tpu'"),
    (["profile", "--budget", "-1"], 2, "--budget: Input should be greater than 0"),
    (["profile", "--rounds", "0"], 2, "--rounds: Input should be greater than or equal to 1"),
    (["show", "missing.json"], 2, "does not exist"),
    (["profile", "--precision", ""], 2, "--precision: give a comma-separated list"),
    (["profile", "--batch", ""], 2, "--batch: give a comma-separated list"),
    (["profile", "--batch", "100000000"], 2, "--batch: Input should be less than or equal to 65536"),
    (["profile", "--budget", "inf"], 2, "--budget: Input should be a finite number"),
    (["profile", "--budget", "nan"], 2, "--budget: Input should be a finite number"),
    (["profile", "--threads", "5000"], 2, "--threads 5000: this machine has"),
    (["profile", "--memory-limit-gib", "inf"], 2, "--memory-limit-gib: inf is not a memory size"),
    (["profile", "--input", "float32[1,,16]"], 3, "an empty dimension"),
])
def test_bad_arguments_give_one_line_and_an_exit_code(capsys, args, code, message):
    assert cli.main(args) == code
    err = capsys.readouterr().err
    assert err.startswith("gpu-advisor: error:") and message in err
    assert "Traceback" not in err


def test_an_existing_out_path_is_refused_before_running(tmp_path, capsys):
    out = tmp_path / "keep.json"
    out.write_text("precious")
    assert cli.main(["profile", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == "precious"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a usable GPU")
def test_asking_for_a_gpu_on_a_machine_without_one(tmp_path):
    result = run_cli("profile", *FAST, "--device", "cuda", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 2
    assert "use --device cpu" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1  # no worker started, no table of not_run rows
    assert not (tmp_path / "r.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a usable GPU")
def test_engines_that_run_on_cuda_only_are_refused_on_a_cpu_in_one_line(tmp_path):
    """`profile --engine tensorrt` on a CPU used to load the model, print a table of unsupported rows and suggest
    `recommend`, which then refused the report: now one line before the model loads, and no report."""
    result = run_cli("profile", *FAST, "--engine", "tensorrt", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("gpu-advisor: error:")]
    assert error == ["gpu-advisor: error: --engine tensorrt: TensorRT is profiled on CUDA only, and this run is on cpu: "
                     "profile it on a machine with a CUDA GPU (--device cuda); or choose an engine profiled on cpu: "
                     "eager, compile, onnxruntime, openvino"]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.slow
def test_a_profile_that_timed_nothing_says_so_instead_of_suggesting_recommend(tmp_path):
    result = run_cli("profile", *FAST, "--engine", "eager,graphs", "--precision", "fp8", "--device", "cpu",
                     "--no-energy", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0 and (tmp_path / "r.json").exists()
    assert "next: gpu-advisor recommend" not in result.stderr
    assert "nothing was timed: profile again with other precisions, engines or batch sizes" in result.stderr


def test_a_mistyped_model_name_gets_the_built_in_it_resembles(capsys):
    assert cli.main(["profile", "vison"]) == 2
    assert "did you mean 'vision'?" in capsys.readouterr().err
    assert cli.main(["profile", "no-such-model.pt"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "neither a built-in" in err


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _events():
    """A run's events as the worker sends them: a long preparation with telemetry every 0.5 s, then measuring."""
    seq = iter(range(10_000))
    yield StageEvent(seq=next(seq), t_s=0.5, stage="loading_model", message="loading vision")
    for i in range(1, 60):
        yield TelemetryEvent(seq=next(seq), t_s=0.5 + i / 2, samples=[])
    yield StageEvent(seq=next(seq), t_s=30.0, stage="measuring", message="measuring 2 variants")
    for done in range(1, 40):
        yield ProgressEvent(seq=next(seq), t_s=30.0 + done, done=done, total=40, eta_s=40.0 - done,
                            current=f"fp32 batch {done}")


def test_progress_in_a_log_is_a_plain_line_per_stage_and_every_ten_seconds():
    stream = FakeStream(tty=False)
    progress = Progress(stream, enabled=True)
    for event in _events():
        progress(event)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and "\033" not in stream.getvalue()
    assert lines[0] == "[    0.5s] loading vision"
    assert lines[1] == "[   10.5s] loading vision (10s so far)"  # preparation too, not only measuring
    assert lines[3] == "[   30.0s] measuring 2 variants"
    assert lines[4] == "[   40.0s] measuring 2 variants: 10/40 fp32 batch 10, ETA 30s"
    assert len(lines) == 7  # 0.5, 10.5, 20.5; 30, 40, 50, 60


def test_progress_on_a_terminal_redraws_one_line_with_the_time_so_far_and_quiet_prints_nothing():
    stream = FakeStream(tty=True)
    progress = Progress(stream, enabled=True)
    for event in _events():
        progress(event)
    drawn = stream.getvalue().split("\r\033[K")
    assert "\n" not in stream.getvalue()
    assert any(text.startswith("loading vision (") and text.endswith("s)") for text in drawn)
    assert drawn[-1].startswith("[") and "/40 fp32 batch" in drawn[-1] and "ETA" in drawn[-1]
    quiet = FakeStream(tty=False)
    for event in _events():
        Progress(quiet, enabled=False)(event)
    assert quiet.getvalue() == ""


class Needs3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 2)

    def forward(self, x):
        return self.linear(x.mean(dim=(1, 2)))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_shape_the_model_rejects_gives_its_message_and_the_spec(tmp_path):
    path = tmp_path / "needs3d.ts"
    torch.jit.script(Needs3d().eval()).save(str(path))
    result = run_cli("profile", str(path), "--input", "float32[1,8]", *FAST[2:], "--out", str(tmp_path / "r.json"))
    assert result.returncode == 3
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("gpu-advisor: error: the model rejected the inputs float32[1,8]:")
    assert "--input" in line and "Traceback" not in result.stderr
    ok = run_cli("profile", str(path), "--input", "float32[1,4,4,8]", *FAST[2:], "--out", str(tmp_path / "ok.json"))
    assert ok.returncode == 0, ok.stderr
    report = load_report(tmp_path / "ok.json")
    assert report.model.source == "torchscript"
    assert report.variant("int8_dynamic").status == "unsupported"
    assert "TorchScript" in report.variant("int8_dynamic").reason


def test_show_prints_a_saved_report_and_rejects_a_damaged_one(tmp_path, capsys):
    from pathlib import Path
    golden = Path(__file__).parents[1] / "fixtures" / "report-v1-llm-tiny.json"
    assert cli.main(["show", str(golden)]) == 0
    assert "TTFT ms" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(golden.read_text()[:500])
    assert cli.main(["show", str(bad)]) == 2
    assert "truncated" in capsys.readouterr().err


def test_batch_ranges_are_powers_of_two():
    assert options.parse_batches("1..64") == [1, 2, 4, 8, 16, 32, 64]
    assert options.parse_batches("3,1..4") == [1, 2, 3, 4]


def _export(tmp_path, dynamic: bool):
    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(16, 32), nn.Linear(32, 4)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)))

    shapes = ({0: torch.export.Dim("batch", min=1, max=64)},) if dynamic else None
    path = tmp_path / ("dynamic.pt2" if dynamic else "static.pt2")
    torch.export.save(torch.export.export(Mlp().eval(), (torch.randn(2 if dynamic else 1, 16),),
                                          dynamic_shapes=shapes), str(path))
    return path


@pytest.mark.slow
def test_a_static_export_measures_its_own_batch_and_names_the_others_failed(tmp_path):
    path = _export(tmp_path, dynamic=False)
    result = run_cli("profile", str(path), *FAST[2:6], "--batch", "1,8", "--precision", "fp32,int8",
                     "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    report = load_report(tmp_path / "r.json")
    b1, b8 = report.variant("fp32").batches
    assert b1.status == "ok" and report.variant("fp32").quality.items == 8  # quality ran item by item
    assert b8.status == "failed" and "Guard failed" in b8.reason
    assert "flattened graph" in report.variant("int8_dynamic").reason
    assert any("dynamic dimensions" in w for w in report.warnings)


class OnlyBatchOne(nn.Module):
    def forward(self, x):
        torch._assert(x.shape[0] == 1, "this model takes one item at a time")
        return x * 2


def test_a_profile_where_nothing_can_be_measured_exits_non_zero(tmp_path):
    import warnings

    path = tmp_path / "one.ts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated, and still a format users have
        torch.jit.script(OnlyBatchOne()).save(str(path))
    result = run_cli("profile", str(path), "--input", "float32[1,4]", *FAST[2:6], "--batch", "2,4", "--precision",
                     "fp32", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 3
    assert "no variant could be measured; first failure: the model failed at batch 2" in result.stderr


@pytest.mark.slow
def test_a_static_export_asked_for_other_batches_names_the_one_it_takes(tmp_path):
    path = _export(tmp_path, dynamic=False)  # exported at batch 1
    result = run_cli("profile", str(path), *FAST[2:6], "--batch", "2,4", "--precision", "fp32",
                     "--out", str(tmp_path / "r.json"))
    assert result.returncode == 3 and "exported for batch 1 only" in result.stderr and "--batch 1" in result.stderr


@pytest.mark.slow
def test_a_hugging_face_language_model_is_profiled_with_generation_figures(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=200, n_positions=128)
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(tmp_path / "gpt2", safe_serialization=True)
    result = run_cli("profile", str(tmp_path / "gpt2"), "--seq-len", "16", "--new-tokens", "4", *FAST[2:6],
                     "--batch", "1", "--precision", "fp32,int8_weight_only", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    report = load_report(tmp_path / "r.json")
    assert report.model.source == "hf" and report.model.task == "llm"
    for variant in report.variants:
        gen = variant.batches[0].generation
        assert variant.status == "ok" and 0 < gen.ttft_p50_ms < variant.batches[0].latency.p50_ms
        assert gen.new_tokens == 4 and gen.tokens_per_s > 0
    notes = report.variant("int8_weight_only").method.notes
    assert any("Conv1D layers stay in floating point" in n for n in notes)


@pytest.mark.slow
def test_energy_on_a_cpu_without_rapl_is_explained_estimated_or_user_supplied(tmp_path):
    base = ["profile", "vision", *FAST[:6], "--precision", "fp32", "--energy-window", "0.5"]
    plain = run_cli(*base, "--out", str(tmp_path / "plain.json"))
    assert plain.returncode == 0, plain.stderr
    report = load_report(tmp_path / "plain.json")
    assert len(report.telemetry.samples) > 3
    cell = report.variant("fp32").batches[0]
    if not report.telemetry.sources["rapl"]:
        assert cell.energy is None and "--cpu-tdp-w" in cell.energy_unavailable_reason
        estimated = run_cli(*base, "--cpu-tdp-w", "150", "--out", str(tmp_path / "est.json"))
        assert "ESTIMATE (TDP)" in estimated.stdout and "~" in estimated.stdout
        energy = load_report(tmp_path / "est.json").variant("fp32").batches[0].energy
        assert energy.estimated and energy.method == "estimate_tdp" and "ESTIMATE" in energy.method_detail
    wall = run_cli(*base, "--wall-power-w", "80", "--out", str(tmp_path / "wall.json"))
    assert wall.returncode == 0, wall.stderr
    energy = load_report(tmp_path / "wall.json").variant("fp32").batches[0].energy
    assert energy.method == "user_supplied" and not energy.estimated
    assert energy.avg_power_w == 80 and energy.energy_per_item_net_j is None
    assert "--idle-wall-power-w" in energy.idle_unavailable_reason


@pytest.mark.slow
def test_no_energy_and_no_telemetry_are_honoured(tmp_path):
    result = run_cli("profile", "vision", *FAST[:6], "--precision", "fp32", "--no-energy",
                     "--telemetry-interval-ms", "0", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    report = load_report(tmp_path / "r.json")
    assert report.telemetry is None
    assert "turned off" in report.variant("fp32").batches[0].energy_unavailable_reason


def test_running_out_of_memory_outside_a_measurement_is_exit_4_with_one_line(tmp_path):
    result = run_cli("profile", "vision", "--size", "tiny", "--batch", "60000", "--memory-limit-gib", "1", "--no-energy",
                     "--precision", "fp32", "--out", str(tmp_path / "r.json"))
    # the worker's own allocation failure or the parent's watchdog, whichever comes first: exit 4, one line
    assert result.returncode == 4 and ("ran out of memory outside a measurement" in result.stderr
                                       or "over its memory limit" in result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_model_path_that_is_a_fifo_is_refused_before_it_is_opened(tmp_path, capsys):
    import os

    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)  # opening it would block forever
    assert cli.main(["profile", str(fifo), "--input", "float32[1,4]"]) == 3
    assert "not a regular file or folder (a FIFO" in capsys.readouterr().err
    from advisor.errors import ModelLoadError
    from advisor.workloads.files import detect_format

    with pytest.raises(ModelLoadError, match="FIFO"):  # the worker checks too (a request built elsewhere)
        detect_format(fifo)


@pytest.mark.slow
def test_a_static_export_made_for_another_batch_profiles_at_its_own_batch(tmp_path):
    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(16, 4)

        def forward(self, x):
            return self.a(x)

    path = tmp_path / "static4.pt2"
    torch.export.save(torch.export.export(Mlp().eval(), (torch.randn(4, 16),)), str(path))  # the default: static
    result = run_cli("profile", str(path), *FAST[2:6], "--batch", "4", "--input", "float32[4,16]", "--precision",
                     "fp32", "--no-energy", "--out", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    cell = load_report(tmp_path / "r.json").variant("fp32").batches[0]
    assert cell.batch_size == 4 and cell.status == "ok"
    other = run_cli("profile", str(path), *FAST[2:6], "--precision", "fp32", "--out", str(tmp_path / "o.json"))
    assert other.returncode == 3 and "exported for batch 4 only" in other.stderr and "--batch 4" in other.stderr


def test_recommend_without_a_report_says_in_one_line_what_to_give_and_names_the_newest(tmp_path, monkeypatch, capsys):
    """Issue 26: no report printed argparse's 30-line usage; a built-in's name said "report embedding does not exist"."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["recommend", "--preset", "internal-tool"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recommend needs a report from 'gpu-advisor profile'" in err
    assert "none in gpu-advisor-reports/ here yet" in err
    folder = tmp_path / "gpu-advisor-reports"
    folder.mkdir()
    (folder / "old.json").write_text("{}")
    (folder / "new.json").write_text("{}")
    os.utime(folder / "old.json", (1, 1))
    assert cli.main(["recommend", "embedding"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "embedding is a built-in model, not a report: profile it first" in err
    assert err.rstrip().endswith("newest here: gpu-advisor-reports/new.json")


def test_a_missing_argument_of_any_command_is_one_line_naming_its_help(capsys):
    for argv, command in ((["show"], "show"), (["compare"], "compare"), (["catalog", "nope"], "catalog")):
        with pytest.raises(SystemExit) as stopped:
            cli.main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and err.count("\n") == 1 and "usage:" not in err
        assert err.startswith(f"gpu-advisor: error: {command}: ") and err.rstrip().endswith(f"see gpu-advisor {command} --help")
