"""The OpenVINO backend (CPU): the model read from its ONNX file (advisor/engines/onnx_export.py), compiled for the
CPU with a latency hint, in fp32 (inference precision pinned to f32: OpenVINO otherwise runs bf16 on CPUs that have
it), bf16 (inference precision bf16, where the CPU has bf16 arithmetic) and int8 weight-only (NNCF's weight
compression; activations stay in floating point). A language model with a KV cache: its prefill and decode graphs
(advisor/engines/onnx_generation.py), each compiled, generated greedily by a loop over their infer requests."""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

from advisor.engines.base import Unsupported, Variant, not_served, scratch
from advisor.engines.onnx_export import EXPORTER, onnx_file
from advisor.engines.onnx_generation import generation_graphs, greedy, prompt
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
        generation = loaded.generation_step is not None
        graphs = generation_graphs(loaded) if generation else None
        sources = [graphs.prefill, graphs.decode] if graphs else [onnx_file(loaded)]
        models = [core.read_model(str(source)) for source in sources]
        exported = "the ONNX file as given" if loaded.onnx_path else EXPORTER
        if generation:
            exported += " (a prefill and a decode graph, each compiled)"
        api = f"{exported}, then openvino.Core.compile_model(CPU, INFERENCE_PRECISION_HINT={INFERENCE_PRECISION[precision]})"
        library, version = "openvino", package_version("openvino") or "?"
        notes: list[str] = []
        if precision == "int8_weight_only":
            import nncf

            try:
                models = [nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM) for model in models]
            except Exception as exc:
                raise Unsupported(f"NNCF could not compress this model's weights: {first_line(exc)}") from None
            library, version = "nncf", package_version("nncf") or "?"
            api = "nncf.compress_weights(mode=INT8_ASYM), then " + api
            notes.append("weights int8 (asymmetric, per channel), activations and arithmetic in fp32")
        if generation:
            notes.append("prefill and decode graphs, each with its own copy of the weights; the timed call is a greedy "
                         "loop over their infer requests, the KV cache fed back as numpy arrays between steps")
        folder = scratch("openvino-")
        for source, model in zip(sources, models):
            ov.save_model(model, str(folder / f"{source.stem}.xml"), compress_to_fp16=False)
        size = sum(f.stat().st_size for f in folder.iterdir())
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": INFERENCE_PRECISION[precision]}
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = str(self.threads)
        compiled = [core.compile_model(model, "CPU", config) for model in models]
        method = QuantMethod(library=library, library_version=version, api=api,
                             compute_dtype="bf16" if precision == "bf16" else "fp32", notes=notes)
        extra = {"size_bytes": size, **({"decode": compiled[1]} if generation else {})}
        return Variant(precision, compiled[0], method, torch.float32, engine=self.spec.name, extra=extra)

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        request = variant.module.create_infer_request()
        request.infer(_feeds(args, kwargs))
        return torch.from_numpy(np.array(request.get_output_tensor(0).data, copy=True))

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        if (decode := variant.extra.get("decode")) is not None:
            ids, prefill_run, decode_run = prompt(args, kwargs), _runner(variant.module), _runner(decode)

            def generate(timer) -> None:
                greedy(prefill_run, decode_run, ids, new_tokens or 1, timer)

            return generate
        request = variant.module.create_infer_request()
        feeds = _feeds(args, kwargs)  # converted once, outside the timed call
        infer = request.infer

        def call(timer) -> None:
            infer(feeds, share_inputs=True)

        return call

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "OpenVINO IR size (model.xml + model.bin)"


def _runner(compiled):
    """One graph's call with its inputs in order (onnx_generation.greedy's contract): its outputs are copies
    (share_outputs off), so feeding them back as the next step's inputs never aliases the request's buffers."""
    infer = compiled.create_infer_request().infer
    return lambda inputs: list(infer(inputs, share_inputs=True).values())


Backend = OpenVinoBackend
