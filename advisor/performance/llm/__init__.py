"""Language models as they are served: shape from a configuration, weights and KV-cache memory, prefill and decode
time on one or several GPUs, continuous batching and goodput at an SLO (docs/llm-serving.md)."""
