"""What this machine and its software are, recorded in every report."""

from __future__ import annotations

import platform
import socket

import torch

from advisor.devices import cpu, nvml
from advisor.schema.report import EnvironmentInfo, GpuInfo
from advisor.software import package_version


def collect() -> EnvironmentInfo:
    info = cpu.describe()
    gpus = []
    driver = nvml.driver_version()
    for g in nvml.gpus():
        gpus.append(GpuInfo(index=g["index"], name=g["name"], memory_total_bytes=g["memory_total_bytes"],
                            compute_capability=g["compute_capability"], uuid=g["uuid"], driver_version=driver))
    if not gpus and torch.cuda.is_available():  # a GPU torch sees but NVML does not (e.g. another vendor's)
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            gpus.append(GpuInfo(index=i, name=p.name, memory_total_bytes=p.total_memory,
                                compute_capability=f"{p.major}.{p.minor}"))
    return EnvironmentInfo(
        os=platform.system(), os_release=platform.release(), machine=platform.machine(),
        python_version=platform.python_version(), hostname=socket.gethostname(),
        cpu_model=info["model"], cpu_cores_physical=info["cores_physical"],
        cpu_threads_logical=info["threads_logical"], memory_total_bytes=info["memory_total_bytes"],
        cpu_clock_ghz=cpu.clock_ghz(), cpu_extensions=cpu.extensions(),
        torch_version=torch.__version__, torchao_version=package_version("torchao"),
        transformers_version=package_version("transformers"), cuda_runtime_version=torch.version.cuda,
        cuda_driver_version=nvml.cuda_driver_version(), gpus=gpus,
        torch_threads=torch.get_num_threads(), torch_interop_threads=torch.get_num_interop_threads())
