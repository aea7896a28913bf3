"""Offline music analysis: a track in, an Analysis (store.py) out.

    from graph_runtime.analysis import analyze
    a = analyze("track.flac")            # cached by content; AnalysisError on bad input
    a.channel("drums/energy_smooth")     # (n_frames,) float32 at a.fps

Importing this package loads numpy only; `analyze` pulls in the pipeline
(scipy) on first use, and torch only in the stages that need it.
"""
from .errors import AnalysisError
from .store import (
    ALL_STEMS,
    CHANNEL_DOCS,
    CHANNELS,
    CLASS_NAMES,
    COUPLING_CHANNELS,
    COUPLING_DOCS,
    GLOBAL_CHANNELS,
    GLOBAL_DOCS,
    STEMS,
    Analysis,
    Sampler,
    pair_key,
    synthetic,
)

__all__ = ["ALL_STEMS", "CHANNELS", "CHANNEL_DOCS", "CLASS_NAMES", "COUPLING_CHANNELS",
           "COUPLING_DOCS", "GLOBAL_CHANNELS", "GLOBAL_DOCS", "STEMS", "Analysis",
           "AnalysisError", "Sampler", "analyze", "pair_key", "synthetic"]


def __getattr__(name):
    if name == "analyze":
        from .pipeline import analyze
        return analyze
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
