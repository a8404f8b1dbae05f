"""gpu-advisor fleet profile on a real local two-node Ray cluster: a report per accelerator type and a
comparison, a model file shipped with its SHA-256, a node killed mid-run, and Ctrl+C."""

from __future__ import annotations

import json
import threading

import psutil
import pytest

pytest.importorskip("ray")

from advisor import cli  # noqa: E402
from advisor.fleet import profile as fleet  # noqa: E402
from advisor.report.io import load_report  # noqa: E402
from advisor.schema.request import ModelSpec, ProfileRequest  # noqa: E402

FAST = ["--size", "tiny", "--precision", "fp32", "--batch", "1", "--budget", "2", "--rounds", "1", "--no-energy"]


def test_one_report_per_accelerator_type_and_a_comparison(cluster, tmp_path, capsys):
    out = tmp_path / "fleet"
    assert cli.main(["fleet", "profile", "embedding", *FAST, "--address", cluster, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    reports = sorted(out.glob("*.json"))
    assert [p.name.split("-")[0] for p in reports] == ["T4", "cpu"]  # one node per kind: the label, and the head
    assert all(load_report(p).status == "complete" for p in reports)
    assert (out / "comparison.html").is_file() and "saved" in printed.out
    assert "[T4-" in printed.err  # progress per node
    again = cli.main(["fleet", "profile", "embedding", *FAST, "--address", cluster, "--out", str(out)])
    assert again == 2 and "not an empty folder" in capsys.readouterr().err  # nothing overwritten


def test_a_model_file_travels_with_its_sha256(cluster, tmp_path, capsys):
    import torch

    path = tmp_path / "mlp.pt2"
    module = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU()).eval()
    torch.export.save(torch.export.export(module, (torch.randn(1, 16),)), str(path))
    out = tmp_path / "fleet"
    code = cli.main(["fleet", "profile", str(path), "--precision", "fp32", "--batch", "1",
                     "--budget", "2", "--rounds", "1", "--no-energy", "--per", "node", "--address", cluster,
                     "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    reports = [load_report(p) for p in sorted(out.glob("*.json"))]
    assert len(reports) == 2 and all(r.model.sha256 == reports[0].model.sha256 for r in reports)


def test_a_damaged_model_is_refused_on_arrival():
    request = ProfileRequest(model=ModelSpec(builtin="embedding"))
    with pytest.raises(ValueError, match="arrived damaged"):
        fleet._on_node(request.model_dump_json(), b"model bytes", "0" * 64, "m.pt", "cpu-x", None)


def _kill_node(node_id: str) -> bool:
    """The node's raylet (it carries the node's id on its command line) and everything it started."""
    for proc in psutil.process_iter(["name", "cmdline"]):
        if "raylet" in (proc.info["name"] or "") and f"--node_id={node_id}" in (proc.info["cmdline"] or []):
            for child in proc.children(recursive=True):
                child.kill()
            proc.kill()
            return True
    return False


def test_ctrl_c_cancels_every_node_and_keeps_what_was_saved(cluster, tmp_path):
    pressed = []

    def say(run, text: str) -> None:
        if "sent" not in text and not pressed:  # Ctrl-C, once, while the driver waits on the nodes
            pressed.append(text)
            raise KeyboardInterrupt

    request = ProfileRequest(model=ModelSpec(builtin="embedding", size="tiny"), precisions=["fp32"], batch_sizes=[1],
                             budget_s=20, rounds=3, energy=False)
    runs = fleet.fleet_profile(cluster, request, "accelerator", tmp_path / "fleet", say)
    assert pressed and runs and all(run.status == "cancelled" for run in runs)
    assert json.dumps([run.reason for run in runs]).count("Ctrl-C") == len(runs)


def test_the_app_s_cancel_stops_every_node_and_each_row_hears_it(cluster, tmp_path):
    stop, heard = threading.Event(), []

    def say(run, text: str) -> None:
        heard.append((run.label if run else None, text))
        if "sent" not in text:  # the first progress from a node: the user presses Cancel
            stop.set()

    request = ProfileRequest(model=ModelSpec(builtin="embedding", size="tiny"), precisions=["fp32"], batch_sizes=[1],
                             budget_s=20, rounds=3, energy=False)
    runs = fleet.fleet_profile(cluster, request, "accelerator", tmp_path / "fleet", say, stop)
    assert runs and all(run.status == "cancelled" and run.reason == "cancelled by the user (Cancel)" for run in runs)
    assert {label for label, text in heard if text == "cancelled by the user (Cancel)"} == {r.label for r in runs}


def test_a_node_lost_mid_run_is_a_row_with_its_reason_and_the_other_report_is_kept(cluster, tmp_path):
    """Last in the module: it takes a node away from the cluster."""
    killed = []

    def say(run, text: str) -> None:
        if run is not None and run.label.startswith("T4-") and "sent" not in text and not killed:
            runs = [r for r in fleet.choose(fleet.list_nodes(address).nodes, "accelerator") if r.label.startswith("T4")]
            killed.append(_kill_node(runs[0].node.node_id))

    address = cluster
    request = ProfileRequest(model=ModelSpec(builtin="embedding", size="tiny"), precisions=["fp32"], batch_sizes=[1],
                             budget_s=6, rounds=2, energy=False)
    runs = fleet.fleet_profile(address, request, "accelerator", tmp_path / "fleet", say)
    by_kind = {run.label.split("-")[0]: run for run in runs}
    assert killed == [True] and by_kind["T4"].status == "failed" and "went away" in by_kind["T4"].reason
    assert by_kind["cpu"].status == "saved", by_kind["cpu"].reason
    assert load_report(by_kind["cpu"].report).status == "complete"


def test_a_shipped_folder_cannot_write_outside_its_place():
    import hashlib
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    blob = buffer.getvalue()
    request = ProfileRequest(model=ModelSpec(builtin="embedding"))
    with pytest.raises(ValueError, match="leaves its folder"):
        fleet._on_node(request.model_dump_json(), blob, hashlib.sha256(blob).hexdigest(), "model.tar", "cpu-x", None)
