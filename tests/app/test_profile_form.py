"""The profile form's engines against the device chosen: CUDA-only engines ticked alone on a CPU, and int8_static,
which only an engine's own quantizer makes (ui/profile_form.py)."""

import json
from pathlib import Path

import pytest

from advisor.schema.devices import parse_listing

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_start_says_why_when_no_engine_ticked_runs_on_the_device(window):
    """tensorrt (or graphs) alone on a CPU would time nothing: the form says so in the profile's words, Start waits."""
    found = parse_listing((FIXTURES / "devices-h100.json").read_text())
    window.form.on_machine(found)
    window.form.device.setCurrentText("cpu")
    if not window.form.engine_boxes["tensorrt"].isEnabled():
        pytest.skip("onnxruntime is not installed: the tensorrt box is greyed out")
    for name, box in window.form.engine_boxes.items():
        box.setChecked(name == "tensorrt")
    assert window.form.problem.text().startswith("--engine tensorrt: TensorRT is profiled on CUDA only")
    assert not window.form.start_button.isEnabled()
    window.form.device.setCurrentText("cuda:0")
    assert window.form.problem.text() == "" and window.form.start_button.isEnabled()
    window.form.device.setCurrentText("cpu")
    window.form.engine_boxes["eager"].setChecked(True)  # eager runs; tensorrt's rows will say why they do not
    assert window.form.problem.text() == "" and window.form.start_button.isEnabled()


def test_int8_static_follows_the_engines_that_make_it(window):
    """The listing asks torch, which refuses int8_static (an engine's own quantizer makes it): the box was greyed out
    whatever the engines, so no profile started in the app could have it, TensorRT's int8 included."""
    listing = json.loads((FIXTURES / "devices-h100.json").read_text())
    for device in listing["devices"]:  # what `devices --json` writes for it now
        device["precisions"]["int8_static"] = "int8_static is made by an engine's own quantizer, not by torch"
    form = window.form
    form.on_machine(parse_listing(json.dumps(listing)))
    box = form.precision_boxes["int8_static"]
    for device, engine in (("cpu", "onnxruntime"), ("cuda:0", "tensorrt")):
        form.device.setCurrentText(device)
        if not form.engine_boxes[engine].isEnabled():
            continue  # its package is not installed here
        for name, engine_box in form.engine_boxes.items():
            engine_box.setChecked(name == "eager")
        assert not box.isEnabled() and f"tick {engine} to profile it on {device.split(':')[0]}" in box.toolTip()
        form.engine_boxes[engine].setChecked(True)
        box.setChecked(True)
        assert box.isEnabled() and "int8_static" in form.request().precisions
        form.engine_boxes[engine].setChecked(False)
        assert not box.isEnabled() and "int8_static" not in form.request().precisions
