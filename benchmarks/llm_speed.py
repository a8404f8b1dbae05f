"""How long do a language model's assessment and recommendation from its configuration take? Target: `assess` of a
70B configuration over the whole catalog under 2 s.

Times assess() of Llama-3-70B over every bundled card (GPU counts 1-8, bf16/fp8/int8/int4, vllm, concurrency 1, 8,
32) and recommend from the configuration with the chatbot-24x7 preset for Llama-3-8B and Llama-3-70B: the first run
(the simulation cache cold) and the best of 5. The configurations are the published ones in
profiles/validation/llm_configs.json.

Usage: python benchmarks/llm_speed.py
"""

import json
import time
from pathlib import Path

from advisor.catalog.catalog import bundled_catalog
from advisor.performance.llm.architecture import architecture
from advisor.performance.llm.assess import assess
from advisor.recommend.llm import recommend_llm
from advisor.recommend.workload import load_preset

CONFIGS = json.loads((Path(__file__).parents[1] / "profiles" / "validation" / "llm_configs.json").read_text())


def best_of(runs: int, call) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return times[0], min(times), result


def main() -> None:
    catalog = bundled_catalog()
    big = architecture(CONFIGS["Llama-3-70B"], "Llama-3-70B")
    first, best, rows = best_of(5, lambda: assess(big, list(catalog.cards)))
    print(f"assess Llama-3-70B over {len(catalog.cards)} cards ({len(rows)} rows): first {first:.3f} s, best {best:.3f} s "
          f"(target < 2 s: {'met' if first < 2 else 'MISSED'})")
    for name in ("Llama-3-8B", "Llama-3-70B"):
        arch = architecture(CONFIGS[name], name)
        first, best, rec = best_of(5, lambda arch=arch: recommend_llm(arch, "config", load_preset("chatbot-24x7"), catalog))
        choice = rec.verdict.choice
        print(f"recommend {name} chatbot-24x7: first {first:.3f} s, best {best:.3f} s  verdict {rec.verdict.action} "
              f"({choice.label if choice else '-'}, {choice.devices if choice else 0} GPUs)")


if __name__ == "__main__":
    main()
