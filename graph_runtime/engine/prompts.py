"""Prompt embeddings: SDXL's two text encoders, a cache, and SLERP.

SDXL conditions on two CLIP text encoders. For a prompt:
    tokens (1, 77) -> encoder 1 (CLIP-L)  -> penultimate hidden (1, 77, 768)
    tokens (1, 77) -> encoder 2 (CLIP-G)  -> penultimate hidden (1, 77, 1280)
                                          -> projected pooled   (1, 1280)
    prompt_embeds = concat(hidden 1, hidden 2) (1, 77, 2048), pooled (1, 1280)
Encoding costs milliseconds, so it happens when the Scene changes, never per
frame, and each text is cached. The per-frame blend between prompt A and B
is `slerp` inside the compiled graph, by the PROMPT_POS value of the vec.

A PromptBlend (a frozen slerp(a, b, pos) of two other prompts) resolves to
the same slerp on the host, so freezing the current blend as the new A gives
exactly the embedding that is on screen.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence

import torch

from graph_runtime.graph.frame import PromptBlend

from .errors import EngineError

TOKENS = 77
MAX_PROMPT_CHARS = 4000
MAX_BLEND_DEPTH = 32
Tokenizer = Callable[[str], torch.Tensor]   # text -> (1, 77) int64 token ids


def slerp(a: torch.Tensor, b: torch.Tensor, t) -> torch.Tensor:
    """Spherical interpolation of a and b along the last dim, in float32.

    t: float or 0-d tensor in [0, 1]. Exact: a at t <= 0, b at t >= 1, and
    a wherever a row equals b's (the BOS token of two prompts, or A == B).
    Nearly parallel or opposite rows fall back to a straight lerp.
    """
    a, b = a.float(), b.float()
    t = torch.as_tensor(t, dtype=torch.float32, device=a.device)
    dot = (a * b).sum(-1, keepdim=True)
    norms = (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)).clamp_min(1e-12)
    cos = (dot / norms).clamp(-1.0, 1.0)                      # per row, (..., 1)
    omega = torch.acos(cos)
    safe = torch.sin(omega).clamp_min(1e-6)
    arc = (torch.sin((1.0 - t) * omega) * a + torch.sin(t * omega) * b) / safe
    line = (1.0 - t) * a + t * b
    mix = torch.where(cos.abs() < 0.9995, arc, line)
    mix = torch.where((a == b).all(-1, keepdim=True), a, mix)
    return torch.where(t <= 0.0, a, torch.where(t >= 1.0, b, mix))


class PromptEncoder:
    """Text -> (prompt_embeds (1, 77, D), pooled (1, P)), float32 on `device`, cached."""

    def __init__(self, tokenizers: Sequence[Tokenizer], text_encoders: Sequence[torch.nn.Module],
                 device: torch.device, cache_size: int = 64) -> None:
        self.tokenizers = tuple(tokenizers)
        self.text_encoders = tuple(text_encoders)
        self.device = device
        self.cache_size = cache_size
        self.encodes = 0          # cache misses so far
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.RLock()
        self._worker: ThreadPoolExecutor | None = None

    def resolve(self, prompt: "str | PromptBlend", depth: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings of a text or a (nested) PromptBlend."""
        if isinstance(prompt, str):
            return self.encode(prompt)
        if not isinstance(prompt, PromptBlend):
            raise EngineError("prompt", f"a prompt is text or a PromptBlend, got {type(prompt).__name__}")
        if depth >= MAX_BLEND_DEPTH:
            raise EngineError("prompt", f"PromptBlend nested deeper than {MAX_BLEND_DEPTH}")
        pos = prompt.pos
        if not isinstance(pos, (int, float)) or not 0.0 <= pos <= 1.0:
            raise EngineError("prompt", f"PromptBlend position must be in [0, 1], got {pos!r}")
        with self._lock:
            hit = self._get(prompt)
            if hit is not None:
                return hit
            (ea, pa), (eb, pb) = self.resolve(prompt.a, depth + 1), self.resolve(prompt.b, depth + 1)
            return self._put(prompt, (slerp(ea, eb, float(pos)), slerp(pa, pb, float(pos))))

    @torch.no_grad()
    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        if len(text) > MAX_PROMPT_CHARS:
            raise EngineError("prompt", f"prompt longer than {MAX_PROMPT_CHARS} characters")
        with self._lock:
            hit = self._get(text)
            if hit is not None:
                return hit
            hidden, pooled = [], None
            for tokenize, encoder in zip(self.tokenizers, self.text_encoders):
                ids = tokenize(text).to(self.device)  # (1, 77); GPU SYNC (new prompt only): H2D
                out = encoder(ids, output_hidden_states=True)
                hidden.append(out.hidden_states[-2].float())                # (1, 77, D_i)
                pooled = getattr(out, "text_embeds", None)
            if pooled is None:
                raise EngineError("prompt", "the second text encoder gives no projected pooled output")
            self.encodes += 1
            return self._put(text, (torch.cat(hidden, dim=-1), pooled.float()))

    def prefetch(self, prompts: Sequence["str | PromptBlend"]) -> Future:
        """Encode prompts on a worker thread so a later Scene change finds them cached."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prompt-encode")
        return self._worker.submit(lambda: [self.resolve(p) for p in prompts])

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None

    def _get(self, key):
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
        return hit

    def _put(self, key, value):
        self._cache[key] = value
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return value


def clip_tokenizer(tokenizer) -> Tokenizer:
    """Wrap a transformers CLIPTokenizer as text -> (1, 77) ids (pad, truncate)."""
    def tokenize(text: str) -> torch.Tensor:
        return tokenizer(text, padding="max_length", max_length=TOKENS, truncation=True,
                         return_tensors="pt").input_ids
    return tokenize
