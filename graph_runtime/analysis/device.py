"""Which torch device the analysis' neural models (Demucs, Beat This!) run on.

CUDA when torch sees a GPU, else the CPU, decided once per call site (at
model load), never per chunk. torch is imported here only when asked.
"""
from __future__ import annotations


def analysis_device():
    """torch.device("cuda") when a CUDA GPU is available, else torch.device("cpu")."""
    import torch
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
