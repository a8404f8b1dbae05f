"""The ONNX Runtime backend (CPU execution provider): the model exported to ONNX (advisor/engines/onnx_export.py),
in fp32, int8 by ONNX Runtime's dynamic quantization (weights int8, activations quantized per call) and int8 by its
static quantization (QDQ, activation scales calibrated beforehand on generated inputs, not on real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from advisor.engines.base import Unsupported, Variant, not_served, scratch
from advisor.engines.onnx_export import EXPORTER, onnx_file
from advisor.errors import first_line
from advisor.schema.engines import EngineSpec
from advisor.schema.report import QuantMethod
from advisor.schema.request import ProfileRequest
from advisor.software import package_version
from advisor.workloads.model import make_inputs

CALIBRATION_BATCHES = 8  # seeded generated batches the static quantizer takes its activation ranges from
CALIBRATION_SEED = 1000  # apart from the timing (0) and quality (1) inputs' seeds


def _feeds(session, args: tuple, kwargs: dict) -> dict:
    values = [*args, *kwargs.values()]
    return {i.name: np.ascontiguousarray(v.detach().cpu().numpy()) for i, v in zip(session.get_inputs(), values)}


def _without_shapes(source: Path, folder: Path) -> Path:
    """A copy without the exporter's recorded intermediate shapes: the quantizer infers them again and refuses a
    model where its inference and the recorded ones differ (the dynamo exporter records some as static)."""
    import onnx

    model = onnx.load(str(source))
    del model.graph.value_info[:]
    path = folder / "float.onnx"
    onnx.save(model, str(path))
    return path


class OnnxRuntimeBackend:
    def __init__(self, spec: EngineSpec, request: ProfileRequest) -> None:
        self.spec = spec
        self.threads = request.threads
        self.seed = request.seed

    def missing(self) -> str | None:
        return self.spec.missing()

    def _session(self, path: Path):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would flood the worker's stderr
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant:
        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        source = onnx_file(loaded)
        version = package_version("onnxruntime") or "?"
        exported = "the ONNX file as given" if loaded.onnx_path else EXPORTER
        notes: list[str] = []
        size = None
        if precision == "fp32":
            import onnx

            path, api = source, f"{exported}, then InferenceSession (CPUExecutionProvider)"
            size = onnx.load(str(source)).ByteSize()  # with the weights a given file may keep beside it
        else:
            from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

            folder = scratch("onnxruntime-")
            path = folder / f"{precision}.onnx"
            try:
                source = _without_shapes(source, folder)
                if precision == "int8_dynamic":
                    quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8)
                    api = "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)"
                else:
                    quantize_static(str(source), str(path), self._calibration(loaded, source),
                                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                                    weight_type=QuantType.QInt8)
                    api = "onnxruntime.quantization.quantize_static(QDQ, activations QUInt8, weights QInt8)"
                    notes.append(f"calibrated on {CALIBRATION_BATCHES} batches of generated (seeded random) inputs, "
                                 "not on real data: on real inputs its activation ranges, and so its quality, differ")
            except Exception as exc:
                raise Unsupported(f"ONNX Runtime's quantizer could not quantize this model: {first_line(exc)}") from None
        session = self._session(path)
        method = QuantMethod(library="onnxruntime", library_version=version, api=api,
                             compute_dtype="fp32" if precision == "fp32" else "int8", notes=notes)
        return Variant(precision, session, method, torch.float32, engine=self.spec.name,
                       extra={"size_bytes": size or path.stat().st_size})

    def _calibration(self, loaded, source: Path):
        from onnxruntime.quantization import CalibrationDataReader

        session = self._session(source)
        batch = loaded.fixed_batch or 1
        batches = [_feeds(session, *make_inputs(loaded.inputs, batch, CALIBRATION_SEED + self.seed + i))
                   for i in range(CALIBRATION_BATCHES)]

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter(batches)

            def get_next(self):
                return next(self.items, None)

        return Reader()

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        session = variant.module
        return torch.from_numpy(session.run(None, _feeds(session, args, kwargs))[0])

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        session = variant.module
        feeds = _feeds(session, args, kwargs)  # converted once, outside the timed call
        run = session.run

        def call(timer) -> None:
            run(None, feeds)

        return call

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "ONNX model size (serialized, weights included)"


Backend = OnnxRuntimeBackend
