"""The ONNX Runtime backend: the model exported to ONNX (advisor/engines/onnx_export.py), run by an InferenceSession on
the CPU execution provider, or on an NVIDIA GPU by the CUDA one (advisor/engines/ort_device.py: its providers, the
checks that it runs there, the timed call with IO binding).

Variants: fp32 everywhere. fp16 on a GPU only: the fp32 file converted by ONNX Runtime's own converter
(``onnxruntime.transformers.float16.convert_float_to_float16`` with ``keep_io_types=True``) rather than a second
export of the model cast to fp16: one export serves every variant, the inputs and outputs stay fp32 as the profiler
feeds them, and the converter leaves in fp32 the operators on its block list (mostly those without fp16 kernels).
Not on a CPU: the CPU provider has few fp16 kernels and runs fp16 nodes in fp32 behind inserted casts
(microsoft/onnxruntime, onnxruntime/core/optimizer/insert_cast_transformer.h, commit
5bbbd754f2900aae44631a2c91cf02133e76330f), so a CPU fp16 row would time casts.

int8 by ONNX Runtime's dynamic quantization (weights int8, activations quantized per call) and by its static
quantization (QDQ, activation scales calibrated beforehand on generated inputs, not on real data), on a CPU only: ONNX
Runtime quantizes for GPUs through the TensorRT execution provider, not the CUDA one (its documentation, "Quantization
on GPU": https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html, source microsoft/onnxruntime
docs/performance/model-optimizations/quantization.md, commit 053270ce9a1f42c13f6bc17a4812184c66885ef7, read
2026-12-07), so an int8 row on the CUDA provider would not be int8 compute."""

from __future__ import annotations

from pathlib import Path

import torch

from advisor.engines.base import Unsupported, Variant, not_served, scratch
from advisor.engines.onnx_export import EXPORTER, onnx_file
from advisor.engines.ort_device import bound_call, check_build, check_placement, feeds, providers
from advisor.errors import first_line
from advisor.schema.engines import EngineSpec
from advisor.schema.report import QuantMethod
from advisor.schema.request import ProfileRequest
from advisor.software import package_version
from advisor.workloads.model import make_inputs

CALIBRATION_BATCHES = 8  # seeded generated batches the static quantizer takes its activation ranges from
CALIBRATION_SEED = 1000  # apart from the timing (0) and quality (1) inputs' seeds


def _without_shapes(source: Path, folder: Path) -> Path:
    """A copy without the exporter's recorded intermediate shapes: the quantizer infers them again and refuses a
    model where its inference and the recorded ones differ (the dynamo exporter records some as static)."""
    import onnx

    model = onnx.load(str(source))
    del model.graph.value_info[:]
    path = folder / "float.onnx"
    onnx.save(model, str(path))
    return path


def to_fp16(source: Path, path: Path) -> None:
    """The fp32 file converted to fp16 by ONNX Runtime's converter, its inputs and outputs kept fp32."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    onnx.save(convert_float_to_float16(onnx.load(str(source)), keep_io_types=True), str(path))


class OnnxRuntimeBackend:
    def __init__(self, spec: EngineSpec, request: ProfileRequest) -> None:
        self.spec = spec
        self.threads = request.threads
        self.seed = request.seed

    def missing(self) -> str | None:
        return self.spec.missing()

    def _session(self, path: Path, device: torch.device):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would flood the worker's stderr
        session = ort.InferenceSession(str(path), options, providers=providers(device))
        check_placement(session, device)
        return session

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant:
        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        check_build(device)
        source = onnx_file(loaded)
        version = package_version("onnxruntime") or package_version("onnxruntime-gpu") or "?"
        exported = "the ONNX file as given" if loaded.onnx_path else EXPORTER
        provider = providers(device)[0]
        provider_name = provider if isinstance(provider, str) else provider[0]
        notes: list[str] = []
        size = None
        if precision == "fp32":
            import onnx

            path, api = source, f"{exported}, then InferenceSession ({provider_name})"
            size = onnx.load(str(source)).ByteSize()  # with the weights a given file may keep beside it
        elif precision == "fp16":
            path = scratch("onnxruntime-") / "fp16.onnx"
            try:
                to_fp16(source, path)
            except Exception as exc:
                raise Unsupported(f"ONNX Runtime's fp16 converter could not convert this model: {first_line(exc)}") from None
            api = (f"{exported}, then onnxruntime.transformers.float16.convert_float_to_float16(keep_io_types=True), "
                   f"InferenceSession ({provider_name})")
            notes.append("inputs and outputs stay fp32 (keep_io_types): the graph casts them at its ends")
        else:
            path, api = self._quantized(precision, loaded, source, notes)
        session = self._session(path, device)
        method = QuantMethod(library="onnxruntime", library_version=version, api=api,
                             compute_dtype="int8" if precision.startswith("int8") else precision, notes=notes)
        return Variant(precision, session, method, torch.float32, engine=self.spec.name,
                       extra={"size_bytes": size or path.stat().st_size, "device": device})

    def _quantized(self, precision: str, loaded, source: Path, notes: list[str]) -> tuple[Path, str]:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

        folder = scratch("onnxruntime-")
        path = folder / f"{precision}.onnx"
        try:
            source = _without_shapes(source, folder)
            if precision == "int8_dynamic":
                quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8)
                return path, "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)"
            quantize_static(str(source), str(path), self._calibration(loaded, source),
                            quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8)
        except Exception as exc:
            raise Unsupported(f"ONNX Runtime's quantizer could not quantize this model: {first_line(exc)}") from None
        notes.append(f"calibrated on {CALIBRATION_BATCHES} batches of generated (seeded random) inputs, "
                     "not on real data: on real inputs its activation ranges, and so its quality, differ")
        return path, "onnxruntime.quantization.quantize_static(QDQ, activations QUInt8, weights QInt8)"

    def _calibration(self, loaded, source: Path):
        from onnxruntime.quantization import CalibrationDataReader

        session = self._session(source, torch.device("cpu"))
        batch = loaded.fixed_batch or 1
        batches = [feeds(session, *make_inputs(loaded.inputs, batch, CALIBRATION_SEED + self.seed + i))
                   for i in range(CALIBRATION_BATCHES)]

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter(batches)

            def get_next(self):
                return next(self.items, None)

        return Reader()

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        session = variant.module
        return torch.from_numpy(session.run(None, feeds(session, args, kwargs))[0])

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        session = variant.module
        device = variant.extra["device"]
        if device.type == "cuda":
            return bound_call(session, args, kwargs, device)
        host_feeds = feeds(session, args, kwargs)  # converted once, outside the timed call
        run = session.run

        def call(timer) -> None:
            run(None, host_feeds)

        return call

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "ONNX model size (serialized, weights included)"


Backend = OnnxRuntimeBackend
