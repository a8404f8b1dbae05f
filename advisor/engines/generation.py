"""The call a sample times: one forward pass, or for a language model a whole generation, token by token,
with a mark after the first token (time to first token) and the KV cache carried between steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

Call = Callable[[Any], None]  # called with a timer (measure.Timer, or NO_TIMER) that marks the first token


class NoTimer:
    """Energy windows run the same calls as the latency rounds, without marking tokens."""

    def mark(self) -> None:
        pass


NO_TIMER = NoTimer()


def token_ids(args, kwargs):
    """A language model's prompt: its one positional input, or its named one (input_ids for HF)."""
    return args[0] if args else kwargs.get("input_ids", next(iter(kwargs.values())))


def generate(module, step, ids, new_tokens: int, timer=None):
    """Greedy decoding of ``new_tokens`` tokens: the prompt, then one token a step with the cache."""
    logits, past = step(module, ids, None)
    token = logits[:, -1:].argmax(-1)
    if timer is not None:
        timer.mark()
    for _ in range(new_tokens - 1):
        logits, past = step(module, token, past)
        token = logits[:, -1:].argmax(-1)
    return token


def make_call(module, step, new_tokens: int | None, args, kwargs) -> Call:
    """The timed call: a generation where the model has a generation step, else one forward pass."""
    if step:
        ids = token_ids(args, kwargs)

        def call(timer):
            with torch.inference_mode():
                generate(module, step, ids, new_tokens or 1, timer)
    else:
        def call(timer):
            with torch.inference_mode():
                module(*args, **kwargs)
    return call
