"""What does the fleet add? The wall time of `fleet profile` on a local two-node Ray cluster against the longest
of its nodes' own runs (each report's duration_s): the difference is dispatch, model shipping, start-up and
collection. Target (issue 14): the fleet run within the slowest node's time plus 15%, and under 5 s added
per node. On one machine the two nodes share its cores, so the nodes' own runs are slower than alone; the
overhead is what this measures.

Usage: python benchmarks/fleet_overhead.py [--budget 6]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=6.0)
    args = parser.parse_args()
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray_cli is None:
        raise SystemExit("needs the fleet extra: pip install '.[fleet]'")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus", "1", "--disable-usage-stats", "--node-ip-address", "127.0.0.1"]
    subprocess.run([ray_cli, "start", "--head", "--port", str(port), "--include-dashboard=false", *common],
                   check=True, env=env, capture_output=True)
    try:
        subprocess.run([ray_cli, "start", "--address", f"127.0.0.1:{port}", "--resources",
                        json.dumps({"accelerator_type:T4": 1}), *common], check=True, env=env, capture_output=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "fleet"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "advisor", "fleet", "profile", "embedding", "--size", "tiny",
                            "--precision", "fp32,int8_dynamic", "--batch", "1,8", "--budget", str(args.budget),
                            "--no-energy", "--quiet", "--address", f"127.0.0.1:{port}", "--out", str(out)],
                           check=True, env=env, capture_output=True)
            wall = time.perf_counter() - start
            durations = {p.stem: json.loads(p.read_text())["duration_s"] for p in out.glob("*.json")}
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True)
    slowest = max(durations.values())
    print(f"fleet profile over {len(durations)} nodes: {wall:.1f} s wall; the nodes' own runs "
          + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(durations.items())))
    print(f"against the slowest node: {wall / slowest:.2f}x (target at most 1.15x); added "
          f"{(wall - slowest) / len(durations):.1f} s per node (target under 5 s)")


if __name__ == "__main__":
    main()
