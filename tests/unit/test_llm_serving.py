"""Language models as they are served: the shape read from a configuration, weights and KV-cache arithmetic on
hand-worked examples, tensor parallelism, goodput against the SLO, and `gpu-advisor assess`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from advisor.catalog.catalog import load_catalog
from advisor.cli import main
from advisor.errors import UsageError
from advisor.performance.llm import engine_memory, work
from advisor.performance.llm.architecture import architecture, load_architecture
from advisor.performance.llm.assess import REQUIRED_KEYS, Request, assess
from advisor.performance.llm.interconnect import allreduce_ms
from advisor.performance.llm.serving import (
    Setup,
    engine_for,
    first_tokens_ms,
    goodput,
    memory_fit,
    poisson_p95,
    prefill_budget,
    step_in_progress_ms,
    step_ms,
    timing,
)

# Published configurations (their config.json on the Hugging Face hub, copied by hand: nothing is downloaded).
LLAMA3_8B = dict(model_type="llama", hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                 num_key_value_heads=8, num_hidden_layers=32, vocab_size=128256, max_position_embeddings=8192,
                 tie_word_embeddings=False, torch_dtype="bfloat16")
LLAMA3_70B = dict(LLAMA3_8B, hidden_size=8192, intermediate_size=28672, num_attention_heads=64, num_hidden_layers=80)
LLAMA2_7B = dict(model_type="llama", hidden_size=4096, intermediate_size=11008, num_attention_heads=32,
                 num_key_value_heads=32, num_hidden_layers=32, vocab_size=32000, max_position_embeddings=4096)
MIXTRAL_8X7B = dict(model_type="mixtral", hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                    num_key_value_heads=8, num_hidden_layers=32, vocab_size=32000, num_local_experts=8,
                    num_experts_per_tok=2, max_position_embeddings=32768)


def card(name: str):
    return next(c for c in load_catalog().cards if c.name == name)


def setup(config: dict, card_name: str, gpus: int = 1, precision: str = "bf16", engine: str = "vllm",
          kv: str = "bf16"):
    return Setup(card(card_name), gpus, precision, engine_for(engine), kv), architecture(config)


def test_llama3_8b_by_hand():
    a = architecture(LLAMA3_8B)
    assert a.attention.startswith("GQA")
    # 32 layers x 8 KV heads x 128 x 2 (K and V) x 2 bytes = 131,072 B = 128 KiB per token.
    assert work.kv_bytes_per_token(a, "bf16") == 32 * 8 * 128 * 2 * 2 == 128 * 1024
    assert work.kv_bytes_per_token(a, "fp8") == 64 * 1024
    p = work.parameters(a)
    # attention 32 x (2 x 4096 x 4096 + 2 x 4096 x 1024), MLP 32 x 3 x 4096 x 14336, embedding and head 128256 x 4096
    assert p.attention == 32 * (2 * 4096 * 4096 + 2 * 4096 * 1024) == 1_342_177_280
    assert p.mlp_total == 32 * 3 * 4096 * 14336 == 5_637_144_576
    assert p.embedding == p.head == 128256 * 4096
    # 8,030,261,248 in the published checkpoint, which adds 65 norm vectors of 4096 (left out: 0.003%)
    assert p.total == 8_030_261_248 - 65 * 4096
    assert work.weights_bytes(a, "bf16") == 2 * p.total
    # int4: the layers' matrices at 0.5 + 2.5/128 bytes, embedding and head in 16 bits
    assert work.weights_bytes(a, "int4") == round((p.attention + p.mlp_total) * (0.5 + 2.5 / 128) + 2 * 2 * 128256 * 4096)


def test_gqa_mqa_and_mha():
    mha, gqa = architecture(LLAMA2_7B), architecture(LLAMA3_8B)
    assert mha.attention == "MHA"
    assert work.kv_bytes_per_token(mha, "bf16") == 32 * 32 * 128 * 2 * 2 == 512 * 1024  # 4x Llama-3-8B's
    mqa = architecture(dict(LLAMA2_7B, num_key_value_heads=1))
    assert mqa.attention == "MQA" and work.kv_bytes_per_token(mqa, "bf16") == 32 * 128 * 2 * 2
    # The same card holds four times the sequences with GQA's 8 KV heads as with 32 (the weights aside).
    h100 = card("NVIDIA H100 SXM")
    fits = [memory_fit(Setup(h100, 1, "bf16", engine_for("vllm"), "bf16"), arch, 4096) for arch in (mha, gqa)]
    assert fits[1].kv_capacity_tokens > 3 * fits[0].kv_capacity_tokens


def test_mixture_of_experts_counts_active_parameters():
    a = architecture(MIXTRAL_8X7B)
    p = work.parameters(a)
    assert 46.6e9 < p.total < 46.8e9  # Mistral AI: 46.7B in all
    assert 12.8e9 < p.active_per_token + p.vocab_matrix < 13.0e9  # 12.9B per token, counting the embedding as Mistral does
    # One sequence reads 2 experts per layer; 64 sequences read nearly all 8.
    assert work.expected_experts(a, 1) == pytest.approx(2.0)
    assert work.expected_experts(a, 64) == pytest.approx(8 * (1 - 0.75 ** 64))
    assert work.step_weight_bytes(a, "bf16", 1) < 0.35 * work.step_weight_bytes(a, "bf16", 64)


def test_70b_in_bf16_fits_two_80gb_cards_and_not_one():
    for gpus, fits in ((1, False), (2, True)):
        s, a = setup(LLAMA3_70B, "NVIDIA H100 SXM", gpus)
        fit = memory_fit(s, a, 2048)
        assert fit.fits is fits, fit.reason
    s, a = setup(LLAMA3_70B, "NVIDIA H100 SXM", 1)
    assert "exceed" in memory_fit(s, a, 2048).reason
    # Splitting over NVLink adds all-reduces but halves each GPU's bytes: a decode step is faster on 4 than on 2.
    s2, _ = setup(LLAMA3_70B, "NVIDIA H100 SXM", 2)
    s4, _ = setup(LLAMA3_70B, "NVIDIA H100 SXM", 4)
    assert step_ms(s4, a, 1, 2048, 0, 1024)[0] < step_ms(s2, a, 1, 2048, 0, 1024)[0]
    # The same all-reduces cost more over PCIe Gen4 (L40S) than over NVLink (H100 SXM), for one token and for many.
    for tokens in (1, 4096):
        assert allreduce_ms(card("NVIDIA L40S"), 4, tokens, 8192, 80) > allreduce_ms(card("NVIDIA H100 SXM"), 4, tokens,
                                                                                       8192, 80)
    assert allreduce_ms(card("NVIDIA H100 SXM"), 1, 4096, 8192, 80) == 0


def test_decode_is_bound_by_memory_and_prefill_by_compute():
    s, a = setup(LLAMA3_8B, "NVIDIA H100 SXM")
    step, bound = step_ms(s, a, 1, 1024, 0, 1024)
    assert bound == "memory"
    # Llama-3-8B's matrices and head, 15.0 GB in bf16 (the embedding is a lookup), at the engine's share of
    # 3.35 TB/s; the KV of 1024 tokens and the host add a little.
    weights_ms = 15.0e9 / (3.35e12 * s.engine.eta_memory) * 1000
    assert weights_ms < step < weights_ms * 1.1
    prefill, bound = step_ms(s, a, 0, 0, 4096, 4096)
    assert bound == "compute"
    # 2 x 8.03e9 x 4096 FLOPs at the engine's share of 989 TFLOP/s, plus the causal attention.
    matrix_ms = 2 * 8.03e9 * 4096 / (989e12 * s.engine.eta_compute) * 1000
    assert matrix_ms < prefill < matrix_ms * 1.15


def test_continuous_batching_beats_a_static_batch_on_ttft():
    s, a = setup(LLAMA3_8B, "NVIDIA H100 SXM", engine="vllm")
    g, _ = setup(LLAMA3_8B, "NVIDIA H100 SXM", engine="graphs")
    served, static = timing(s, a, 32, 1024, 256), timing(g, a, 32, 1024, 256)
    assert served.ttft_p95_ms < static.ttft_p95_ms / 10  # a static batch makes a new request wait for it
    assert served.tpot_p95_ms >= served.tpot_ms  # prefills share the steps
    lone = timing(s, a, 1, 1024, 256)
    assert lone.ttft_ms < served.ttft_ms and lone.output_tokens_per_s < served.output_tokens_per_s


def test_prompts_arriving_together_queue_for_the_token_budget():
    s, a = setup(LLAMA3_8B, "NVIDIA L40S")
    assert prefill_budget(s) == 2048  # vLLM's max_num_batched_tokens on a card under 70 GiB
    # Three prompts of 1,000 tokens at once on an idle engine: step 1 computes 2,048 tokens (the first two prompts
    # and 48 of the third); step 2 decodes the first two and computes the third's last 952.
    first = step_ms(s, a, 0, 1000, 2048, 1000)[0]
    second = step_ms(s, a, 2, 1000, 952, 1000)[0]
    assert first_tokens_ms(s, a, 3, 1000, 0, 1000) == pytest.approx([first, first, first + second])
    # One prompt of 5,000 tokens takes three steps of at most 2,048 (2,048 + 2,048 + 904).
    chunks = 2 * step_ms(s, a, 0, 0, 2048, 5000)[0] + step_ms(s, a, 0, 0, 904, 5000)[0]
    assert first_tokens_ms(s, a, 1, 5000, 0, 0) == pytest.approx([chunks])
    # With 64 sequences decoding, a step has 2048 - 64 = 1,984 tokens for the prompt: 1,000 fit in one.
    assert first_tokens_ms(s, a, 1, 1000, 64, 1500) == pytest.approx([step_ms(s, a, 64, 1500, 1000, 1000)[0]])


def test_an_arrival_more_likely_waits_out_a_long_step():
    # Steps of 10 ms, a quarter of them 30 ms (a prefill): 7.5 of every 15 ms are spent in long steps, so half the
    # arrivals land in one. Mean wait E[S^2] / 2E[S] = (0.75 x 100 + 0.25 x 900) / (2 x 15) = 10 ms (not 5);
    # p95: 5% of arrivals wait more than x = 30 x (1 - 0.05 / 0.5) = 27 ms.
    assert step_in_progress_ms(10, 30, 0.25) == pytest.approx((10, 27))
    # No long steps: half a step on average and 0.95 of it at p95.
    assert step_in_progress_ms(10, 30, 0) == pytest.approx((5, 9.5))
    s, a = setup(LLAMA3_8B, "NVIDIA H100 SXM")
    busy = timing(s, a, 64, 2000, 100)  # 0.64 arrivals a step, each a long prompt
    decode = step_ms(s, a, 63, 2050, 0, 2000)[0]
    assert busy.ttft_p95_ms > busy.ttft_ms > 0.5 * decode + step_ms(s, a, 63, 2050, 2000, 2000)[0]


def test_goodput_falls_as_the_slo_tightens():
    s, a = setup(LLAMA3_8B, "NVIDIA L40S")
    fit = memory_fit(s, a, 1024 + 256)
    values = [goodput(s, a, fit, 1024, 256, ttft, tpot).requests_per_s
              for ttft, tpot in ((5000, 200), (2000, 100), (1000, 80), (600, 55), (300, 33), (100, 10))]
    assert values == sorted(values, reverse=True)
    assert values[0] > 2 * values[3] > 0
    assert values[-1] == 0  # no concurrency prefills a 1024-token prompt in 100 ms at the slow end of the band


def test_poisson_p95():
    assert poisson_p95(0) == 0
    assert poisson_p95(1) == 3  # P(X <= 2) = 0.92, P(X <= 3) = 0.98
    assert poisson_p95(100) == pytest.approx(100 + 1.645 * 10)


@pytest.mark.parametrize("config, words", [
    (dict(model_type="deepseek_v3", hidden_size=7168), "multi-head latent attention"),
    (dict(model_type="mamba"), "state-space"),
    (dict(model_type="frobnicator", hidden_size=64), "not a decoder-only family"),
    (dict(hidden_size=64), "no model_type"),
    (dict(model_type="llama", num_hidden_layers=2, num_attention_heads=4, vocab_size=10), "no hidden_size"),
    (dict(LLAMA3_8B, num_key_value_heads=5), "not a multiple"),
    (dict(LLAMA3_8B, num_hidden_layers="32"), "not a positive integer"),
    (dict(MIXTRAL_8X7B, num_experts_per_tok=None), "active parameters are unknown"),
])
def test_unknown_or_incomplete_architecture_is_one_line(config, words):
    with pytest.raises(UsageError) as caught:
        architecture(config)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_multimodal_config_uses_its_language_model():
    outer = {"model_type": "gemma3", "text_config": dict(LLAMA3_8B, model_type="gemma3_text", head_dim=128),
             "torch_dtype": "bfloat16"}
    a = architecture(outer)
    assert a.model_type == "gemma3_text" and a.layers == 32


def test_counts_match_a_model_built_on_meta_tensors():
    """The closed forms agree with transformers' own modules, built from the same configuration on meta tensors
    (no memory, no weights): every matrix of every family, with experts, shared experts, tied heads, learned
    positions and GQA."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tiny = dict(hidden_size=256, intermediate_size=512, num_attention_heads=8, num_key_value_heads=2,
                num_hidden_layers=3, vocab_size=1000, pad_token_id=0)
    configs = [
        dict(tiny, model_type="llama"), dict(tiny, model_type="mistral"),
        dict(tiny, model_type="qwen2", tie_word_embeddings=True), dict(tiny, model_type="qwen3", head_dim=64),
        dict(tiny, model_type="gemma", head_dim=64, num_key_value_heads=1), dict(tiny, model_type="gemma2", head_dim=64),
        dict(tiny, model_type="phi3", num_key_value_heads=8), dict(tiny, model_type="phi", num_key_value_heads=8),
        dict(model_type="gpt2", n_embd=256, n_head=8, n_layer=3, vocab_size=1000),
        dict(tiny, model_type="gpt_neox", num_key_value_heads=8),
        dict(tiny, model_type="mixtral", num_local_experts=4, num_experts_per_tok=2),
        dict(tiny, model_type="qwen2_moe", moe_intermediate_size=128, shared_expert_intermediate_size=512,
             num_experts=4, num_experts_per_tok=2),
        dict(tiny, model_type="qwen3_moe", moe_intermediate_size=128, head_dim=64, num_experts=4, num_experts_per_tok=2),
    ]
    for config in configs:
        hf = transformers.AutoConfig.for_model(**config)
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(hf)
        matrices = sum(p.numel() for p in model.parameters() if p.dim() >= 2)  # norms and biases are 1-D
        assert work.parameters(architecture(hf.to_dict())).total == matrices, config["model_type"]


def test_assess_json_has_the_documented_keys(tmp_path: Path, capsys):
    folder = tmp_path / "Meta-Llama-3-8B"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA3_8B))
    code = main(["assess", str(folder), "--card", "NVIDIA H100 SXM", "--card", "NVIDIA L4", "--gpus", "1,2",
                 "--precision", "bf16,int4", "--engine", "vllm", "--engine", "graphs", "--concurrency", "1,8",
                 "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["assessments"]
    assert len(rows) == 2 * 2 * 2 * 2 * 2  # cards x engines x precisions x GPU counts x concurrencies
    for row in rows:
        assert REQUIRED_KEYS <= set(row)
        assert row["serves"] <= row["fits"]  # a concurrency is served only where the model fits
        if row["serves"]:
            assert row["tpot_low_ms"] < row["tpot_ms"] < row["tpot_high_ms"]
            assert math.isclose(row["output_tokens_per_s"], row["output_tokens_per_s"])
            assert "projected" in row["basis"]
    l4 = [r for r in rows if r["card"] == "NVIDIA L4" and r["precision"] == "bf16" and r["gpus"] == 1]
    assert all(r["kv_bytes_per_token"] == 131072 for r in l4)


def test_assess_table_and_bad_input(tmp_path: Path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA3_70B))
    assert main(["assess", str(config), "--card", "NVIDIA H100 SXM", "--precision", "bf16"]) == 0
    out = capsys.readouterr().out
    assert "70.55B parameters" in out and "PROJECTED" in out
    assert "H100 SXM       2" in out or "H100 SXM  2" in out  # the fewest GPUs that fit: two
    for argv, words in (
        (["--gpus", "1,,2"], "empty item"), (["--gpus", "3000"], "out of range"), (["--concurrency", "x"], "whole"),
        (["--engine", "onnxruntime"], "no language-model serving model"), (["--precision", "int3"], "int3"),
        (["--prompt-tokens", "0"], "out of range"), (["--tpot-slo-ms", "nan"], "positive"),
        (["--prompt-tokens", "9000"], "exceed its context"),
    ):
        assert main(["assess", str(config), "--card", "NVIDIA L4", *argv]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, (argv, err)
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe{")
    assert main(["assess", str(garbage)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["assess", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_whole_catalog_assessment_covers_every_card():
    a = architecture(LLAMA3_70B)
    cards = list(load_catalog().cards)
    rows = assess(a, cards, precisions=("bf16", "int4"), concurrencies=(1,), request=Request())
    assert {r.card for r in rows} == {c.name for c in cards}
    # Nothing with under 141 GB in all holds 70B in bf16, and the model is never silently dropped: a row says why.
    for r in rows:
        if r.precision == "bf16" and r.fits:
            c = card(r.card)
            assert c.memory_gb * r.gpus >= 141
        if not r.fits:
            assert r.reason


def test_a_concurrency_the_kv_cache_cannot_hold_still_fits():
    """`fits` is the model's memory; `serves` is this concurrency held by the KV cache. Llama-3-8B in bf16 on one L4
    (24 GB) fits with room for a few 8k-token sequences, not for 64: that row fits, does not serve, says why."""
    a = architecture(LLAMA3_8B)
    rows = assess(a, [card("NVIDIA L4")], gpus=(1,), precisions=("bf16",), concurrencies=(1, 64),
                  request=Request(prompt_tokens=7000, output_tokens=1000))
    one, many = rows
    assert one.fits and one.serves and one.tpot_ms is not None
    assert 1 <= one.max_concurrency < 64
    assert many.fits and not many.serves and many.tpot_ms is None
    assert f"holds {one.max_concurrency} sequences of 8,000 tokens, fewer than 64" in many.reason


def test_load_architecture_from_folder_and_file(tmp_path: Path):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA3_8B))
    assert load_architecture(tmp_path).layers == 32
    assert load_architecture(tmp_path / "config.json").hidden == 4096
    with pytest.raises(UsageError, match="no config.json"):
        load_architecture(tmp_path / "..")


def test_vllm_reserve_by_hand_against_its_h100_log():
    """Llama-3.1-8B on one H100 at gpu_memory_utilization 0.9 (llm-d-benchmark config_explorer/
    empirical-vllm-memory-results.md @2593348, 2026-01-26: 'Available KV cache memory: 51.38 GiB'), worked by hand:
    79.18 GiB reported x 0.9 = 71.262; weights 8,030,261,248 x 2 bytes = 14.958 GiB; the profiled sampler
    9.7 x 1,024 requests x 128,256 words x 4 bytes = 4.746 GiB (more than the forward's 8,192 x (3 x 14,336 +
    4 x 4,096) x 2 = 0.906 GiB); 0.13 GiB outside torch: 71.262 - 14.958 - 4.746 - 0.13 = 51.43 GiB."""
    s, a = setup(LLAMA3_8B, "NVIDIA H100 SXM", 1)
    fit = memory_fit(s, a, 16000)
    gib = 1 << 30
    assert fit.per_gpu_usable_bytes == pytest.approx((79.18 * 0.9 - 0.13) * gib)
    assert fit.per_gpu_activation_bytes == pytest.approx(9.7 * 1024 * 128256 * 4)
    kv = fit.per_gpu_usable_bytes - fit.per_gpu_weights_bytes - fit.per_gpu_activation_bytes
    assert kv / gib == pytest.approx(51.43, abs=0.005)
    assert kv / gib == pytest.approx(51.38, rel=0.005)  # vLLM's own figure
    assert fit.kv_capacity_tokens == int(kv // 131072)
    # vLLM's defaults: 1,024 sequences on an H100, 256 (and 2,048 batched tokens) on an A100, which it excludes.
    assert fit.max_sequences == 1024
    a100 = engine_memory.vllm_profile(card("NVIDIA A100 80GB SXM"))
    assert (a100.batched_tokens, a100.sequences) == (2048, 256)
    # The V0 engine without chunked prefill profiles the whole context: the forward outweighs the sampler.
    v0 = engine_memory.vllm_profile(card("NVIDIA GeForce RTX 3090"), "v0", 20000)
    assert engine_memory.activation_bytes(a, 1, v0) == engine_memory.forward_bytes(a, 1, 20000)


def test_a_test_sized_configuration_counts_its_parameters_in_millions(tmp_path, capsys):
    """A 4-layer, 256-wide model (what `assess --measure` is tried on) read "0.00B parameters"."""
    from advisor.report.format import count

    assert (count(70.55e9), count(8.03e9), count(3.41e6), count(12_300), count(950)) == \
        ("70.55B", "8.03B", "3.41M", "12.3k", "950")
    config = dict(LLAMA3_8B, hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=1000)
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert main(["assess", str(tmp_path / "config.json"), "--card", "NVIDIA L4", "--gpus", "1", "--precision", "bf16",
                 "--concurrency", "1"]) == 0
    assert ", 3.41M parameters, 4 layers" in capsys.readouterr().out.splitlines()[0]


def test_the_goodput_column_says_what_its_0_and_at_sign_mean(tmp_path, capsys):
    """Llama-3-8B on an L4: bf16's TPOT 81.7 ms is within a 100 ms SLO yet its goodput is 0 (the band's slow end is
    not), and fp8's reads '0.407 @10': neither was explained."""
    (tmp_path / "config.json").write_text(json.dumps(LLAMA3_8B))
    assert main(["assess", str(tmp_path / "config.json"), "--card", "NVIDIA L4", "--gpus", "1", "--precision",
                 "bf16,fp8", "--concurrency", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("goodput req/s: the most requests a second with TTFT and TPOT p95 both "
                                           "within the SLO, the timings taken at the slow end of their band; @N: ")
