"""The OpenVINO backend (CPU): the model read from its ONNX file (advisor/engines/onnx_export.py), compiled for the
CPU with a latency hint, in fp32 (inference precision pinned to f32: OpenVINO otherwise runs bf16 on CPUs that have
it), bf16 (inference precision bf16, where the CPU has bf16 arithmetic) and int8 weight-only (NNCF's weight
compression; activations stay in floating point)."""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

from advisor.engines.base import Unsupported, Variant, not_served, scratch
from advisor.engines.onnx_export import EXPORTER, onnx_file
from advisor.errors import first_line
from advisor.schema.engines import EngineSpec
from advisor.schema.report import QuantMethod
from advisor.schema.request import ProfileRequest
from advisor.software import package_version

# Nothing leaves the machine (the product runs in air-gapped sites). `import openvino` starts its converter's
# telemetry (openvino.tools.ovc), which posts a usage event to Google Analytics unless a consent file in the user's
# home says no: seen under strace as a DNS lookup of www.google-analytics.com (packaging/test_offline.sh). With
# openvino_telemetry unimportable, OpenVINO falls back to its own stub (openvino/tools/ovc/telemetry_stub.py) and
# NNCF to its no-op; NNCF_CI is NNCF's documented switch besides.
if "openvino_telemetry" not in sys.modules:
    sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]
os.environ.setdefault("NNCF_CI", "1")

INFERENCE_PRECISION = {"fp32": "f32", "bf16": "bf16", "int8_weight_only": "f32"}


def _feeds(args: tuple, kwargs: dict) -> list:
    return [np.ascontiguousarray(v.detach().cpu().numpy()) for v in [*args, *kwargs.values()]]


class OpenVinoBackend:
    def __init__(self, spec: EngineSpec, request: ProfileRequest) -> None:
        self.spec = spec
        self.threads = request.threads

    def missing(self) -> str | None:
        return self.spec.missing()

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant:
        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        import openvino as ov

        core = ov.Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise Unsupported("this CPU has no bf16 arithmetic OpenVINO can use (no AVX512_BF16 or AMX)")
        source = onnx_file(loaded)
        model = core.read_model(str(source))
        exported = "the ONNX file as given" if loaded.onnx_path else EXPORTER
        api = f"{exported}, then openvino.Core.compile_model(CPU, INFERENCE_PRECISION_HINT={INFERENCE_PRECISION[precision]})"
        library, version = "openvino", package_version("openvino") or "?"
        notes: list[str] = []
        if precision == "int8_weight_only":
            import nncf

            try:
                model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
            except Exception as exc:
                raise Unsupported(f"NNCF could not compress this model's weights: {first_line(exc)}") from None
            library, version = "nncf", package_version("nncf") or "?"
            api = "nncf.compress_weights(mode=INT8_ASYM), then " + api
            notes.append("weights int8 (asymmetric, per channel), activations and arithmetic in fp32")
        folder = scratch("openvino-")
        ov.save_model(model, str(folder / "model.xml"), compress_to_fp16=False)
        size = sum(f.stat().st_size for f in folder.iterdir())
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[precision]}
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = str(self.threads)
        compiled = core.compile_model(model, "CPU", config)
        method = QuantMethod(library=library, library_version=version, api=api,
                             compute_dtype="bf16" if precision == "bf16" else "fp32", notes=notes)
        return Variant(precision, compiled, method, torch.float32, engine=self.spec.name, extra={"size_bytes": size})

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        request = variant.module.create_infer_request()
        request.infer(_feeds(args, kwargs))
        return torch.from_numpy(np.array(request.get_output_tensor(0).data, copy=True))

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        request = variant.module.create_infer_request()
        feeds = _feeds(args, kwargs)  # converted once, outside the timed call
        infer = request.infer

        def call(timer) -> None:
            infer(feeds, share_inputs=True)

        return call

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "OpenVINO IR size (model.xml + model.bin)"


Backend = OpenVinoBackend
