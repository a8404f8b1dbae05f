"""A real local Ray cluster for the fleet tests: a head node on 127.0.0.1 and a second node carrying a custom
accelerator label (accelerator_type:T4; there is no GPU on CI, so NVML cannot confirm it)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    port = free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                    "--include-dashboard=false", *common], check=True, env=env, capture_output=True)
    try:
        subprocess.run([ray_cli, "start", "--address", f"127.0.0.1:{port}", "--node-ip-address", "127.0.0.1",
                        "--resources", json.dumps({"accelerator_type:T4": 1}), *common],
                       check=True, env=env, capture_output=True)
        yield f"127.0.0.1:{port}"
    finally:
        import ray

        if ray.is_initialized():  # leave before the cluster goes: a driver that loses its cluster exits
            ray.shutdown()
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True)
