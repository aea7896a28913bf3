"""Engine: FrameParams in, one RGBA image out, every frame.

Per frame, on a GPU:
    1. np.copyto the packed vec into a pinned host twin, fix NaNs/bounds there
    2. one H2D copy of it into `frame` (the device tensor the graph reads;
       the steering strengths and masks are views into it)
    3. one CUDA graph replay of the compiled generate function
    4. one D2H copy of the image into a reused pinned host buffer
    5. one sync, so the image is complete when render() returns
The image returned is that reused buffer: consume (upload, encode) it before
the next render() overwrites it. Scene changes (feature ids, prompts, seeds,
album art) are applied before step 1, only when Scene.version moved.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import torch
import torch._inductor.config
from torch import nn

from graph_runtime.graph.frame import BLOCKS, VEC_LEN, FrameParams, Scene

from .errors import EngineError
from .frame_guard import check_frame_vec, sanitize_frame
from .generate import Generator
from .parts import ModelParts
from .prompts import PromptEncoder
from .protocol import EngineBase
from .scene import SceneState
from .steering import install_steering

log = logging.getLogger(__name__)
MODELS = ("auto", "preview", "sdxl-turbo", "sdxl-turbo-random")
COMPILE_MODES = ("auto", "none", "trace", "reduce-overhead", "default", "max-autotune-no-cudagraphs")


@dataclass
class EngineStats:
    frames: int = 0
    clamped_strengths: int = 0    # NaN or beyond STRENGTH_BOUND, clamped
    clamped_mask_values: int = 0  # NaN or outside [0, 1], clamped
    scene_changes: int = 0
    rejected_scenes: int = 0      # bad scenes: the previous one stayed on screen
    last_error: str = ""


class Engine(EngineBase):
    """SDXL-Turbo (or the untrained preview) with inline SAE steering."""

    def __init__(self, parts: ModelParts, device: torch.device, size: int = 512,
                 compile: str = "auto", note: str = "") -> None:
        _check_size(size)
        self.parts, self.device, self.size, self.note = parts, torch.device(device), size, note
        self.stats = EngineStats()
        self.n_features = _n_features(parts)
        self._means = {b: parts.saes[b].means.astype(np.float64).tolist() for b in BLOCKS}  # CPU floats
        self._alloc_io()
        self.steered = install_steering(parts.unet, self.frame)   # strengths/masks: views of frame
        _check_widths(parts, self.steered)
        te1, te2 = parts.text_encoders
        self.generator = Generator(parts.unet, parts.vae, size,
                                   embed_dim=te1.config.hidden_size + te2.config.hidden_size,
                                   pooled_dim=te2.config.projection_dim, device=self.device)
        self.prompts = PromptEncoder(parts.tokenizers, parts.text_encoders, self.device)
        # GPU SYNC (construction only): H2D copies of the four decoders, (C, F) each
        decoders = {b: parts.saes[b].decoder.to(self.device, self.generator.dtype) for b in BLOCKS}
        self.scene = SceneState(self.generator, self.steered, decoders, self.prompts, self.n_features)
        self.scene.apply(Scene())
        self._scene_seen: Scene | None = None   # the Scene object last applied (or rejected)
        self.compile_mode = _resolve_compile(compile, self.device)
        self._generate = compile_generator(self.generator, self.compile_mode)
        if self.device.type == "cuda":
            self._pin_addresses()

    def _alloc_io(self) -> None:
        """The per-frame buffers, allocated once: vec in, image out (pinned on CUDA)."""
        cuda = self.device.type == "cuda"
        self.frame_host = torch.zeros(VEC_LEN, dtype=torch.float32, pin_memory=cuda)
        self._vec = self.frame_host.numpy()                       # (VEC_LEN,) host twin
        self.frame = torch.zeros(VEC_LEN, dtype=torch.float32, device=self.device)
        self.image_host = torch.zeros((self.size, self.size, 4), dtype=torch.uint8, pin_memory=cuda)
        self._image = self.image_host.numpy()                     # (H, W, 4) returned each frame
        self._done = torch.cuda.Event() if cuda else None

    # ---- construction ---------------------------------------------------------------

    @classmethod
    def create(cls, model: str = "auto", device: str | torch.device | None = None, size: int = 512,
               *, models_dir=None, compile: str = "auto", warmup: bool = True,
               cpu_threads: int | None = None) -> "Engine":
        """Build an engine: "auto" is sdxl-turbo if its weights are here, else the preview.

        cpu_threads: on a CPU, torch's thread count for the whole process. On a
        small, shared machine 1 is often several times faster than the default.
        """
        if model not in MODELS:
            raise EngineError("engine", f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        _check_size(size)
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if device.type == "cuda" and not torch.cuda.is_available():
            raise EngineError("engine", "CUDA was asked for but no CUDA device is available")
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        if cpu_threads and device.type == "cpu":
            torch.set_num_threads(cpu_threads)
        parts, note = _build_parts(model, device, dtype, models_dir, size)
        parts.place(device, dtype)
        if device.type == "cuda":
            _tune_for_cuda(parts)
        engine = cls(parts, device, size, compile=compile, note=note)
        if warmup and engine.compile_mode != "none":
            engine.warmup()
        return engine

    def warmup(self, frames: int = 3) -> None:
        """Compile and (with reduce-overhead) record the CUDA graph before the first real frame."""
        frame = FrameParams()
        if self._scene_seen is not None:
            frame.scene = self._scene_seen          # render what is set up, change nothing
        for i in range(frames):
            frame.strength[:] = 0.1 * i
            self.render(frame)
        self.stats.frames = 0

    # ---- per frame ------------------------------------------------------------------

    def render(self, frame: FrameParams) -> np.ndarray:
        """FrameParams -> (size, size, 4) uint8 RGBA, a reused buffer (valid until the next call)."""
        self.load(frame)
        if self._done is not None:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.no_grad():
            image = self._generate(self.frame)                         # one graph replay
        self.image_host.copy_(image, non_blocking=True)                # the one D2H copy
        del image              # the graph owns that memory; the next replay reuses it
        if self._done is not None:
            self._done.record()
            self._done.synchronize()  # GPU SYNC: the image must be on the host before we return it
        self.stats.frames += 1
        return self._image

    def load(self, frame: FrameParams) -> None:
        """Everything of a frame but the graph: scene changes, checks, the one H2D copy."""
        check_frame_vec(frame.vec)
        if frame.scene is not self._scene_seen or frame.scene.version != self.scene.version:
            self._apply_scene(frame.scene)   # a new Plan's Scene restarts at version 0
        np.copyto(self._vec, frame.vec)
        bad_strengths, bad_masks = sanitize_frame(self._vec, has_image=self.scene.has_image)
        self.stats.clamped_strengths += bad_strengths
        self.stats.clamped_mask_values += bad_masks
        self.frame.copy_(self.frame_host, non_blocking=True)          # the one H2D copy

    def prefetch(self, scene: Scene) -> Future:
        """Encode a coming scene's prompts on a worker thread (off the render path)."""
        return self.prompts.prefetch([scene.prompt_a, scene.prompt_b])

    # ---- features -------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Engine({self.description}; {self.device}, {self.size}px, compile={self.compile_mode})"

    @property
    def is_preview(self) -> bool:
        return self.parts.is_preview

    @property
    def description(self) -> str:
        return self.parts.description

    @property
    def model(self) -> str:
        return self.parts.kind

    @property
    def labels(self):
        return self.parts.labels

    def feature_mean(self, block: str, fid: int) -> float:
        """Mean activation of a feature: a CPU lookup (never a GPU read)."""
        _check_block(block)
        if not 0 <= int(fid) < self.n_features:
            raise EngineError(f"block {block}", f"feature id {fid} out of range 0..{self.n_features - 1}")
        return self._means[block][int(fid)]

    def direction_writes(self) -> int:
        """Decoder columns copied so far (tier-1 updates), all blocks."""
        return sum(b.direction_writes for b in self.steered.values())

    def close(self) -> None:
        self.prompts.close()

    # ---- internals ------------------------------------------------------------------

    def _apply_scene(self, scene: Scene) -> None:
        self._scene_seen = scene
        try:
            self.scene.apply(scene)
            self.stats.scene_changes += 1
        except EngineError as e:
            # show the error once; keep drawing the previous scene until the next change
            self.scene.version = scene.version
            self.stats.rejected_scenes += 1
            self.stats.last_error = str(e)
            raise

    def _pin_addresses(self) -> None:
        """Tell the compiler these tensors keep their address (no copy per replay)."""
        mark = torch._dynamo.mark_static_address
        mark(self.frame)
        for buf in self.generator.buffers(recurse=False):
            mark(buf)
        for block in self.steered.values():
            mark(block.direction)


def compile_generator(gen: Generator, mode: str):
    """The generate function as run per frame: eager, traced, or compiled."""
    if mode == "none":
        return gen
    if mode == "trace":  # Dynamo only: proves a single graph, no code generation
        return torch.compile(gen, fullgraph=True, backend="eager", dynamic=False)
    return torch.compile(gen, fullgraph=True, mode=mode, dynamic=False)


def _build_parts(model: str, device: torch.device, dtype: torch.dtype, models_dir, size: int = 512):
    from .models import load_sdxl_turbo, require
    from .preview import build_preview
    from .random_sdxl import build_random_sdxl
    if model == "preview":
        return build_preview(), ""
    if model == "sdxl-turbo-random":
        return build_random_sdxl(device), ""
    if model == "sdxl-turbo":
        return load_sdxl_turbo(models_dir, dtype=dtype), ""
    try:
        require(models_dir)                 # files only: warn before a long load
        note = cpu_model_warning(size) if device.type == "cpu" else ""
        if note:
            log.warning(note)
        return load_sdxl_turbo(models_dir, dtype=dtype), note
    except EngineError as e:
        note = f"using the untrained preview because {e}"
        log.warning(note)
        return build_preview(), note


# One SDXL-Turbo frame at 512 px: the UNet's single step is about 1.5 TFLOP
# (TAESD and the rest are small beside it). A CPU thread sustains roughly
# 50 GFLOP/s of fp32 convolution and matmul with torch. Rough on purpose: it
# says "seconds, not milliseconds", which is what the user must hear.
SDXL_FRAME_FLOP_512 = 1.5e12
CPU_FLOPS_PER_THREAD = 50e9


def cpu_seconds_per_frame(size: int = 512, threads: int | None = None) -> float:
    """Expected seconds for one SDXL-Turbo frame on this CPU (an estimate)."""
    threads = threads or torch.get_num_threads()
    return SDXL_FRAME_FLOP_512 * (size / 512) ** 2 / (CPU_FLOPS_PER_THREAD * max(1, threads))


def cpu_model_warning(size: int = 512) -> str:
    """What `--model auto` says when it finds SDXL-Turbo but no GPU."""
    threads = torch.get_num_threads()
    return (f"no CUDA GPU: SDXL-Turbo (2.6 B parameters, float32, about 10 GB of memory) on "
            f"the CPU takes about {cpu_seconds_per_frame(size, threads):.0f} s per frame at "
            f"{size} px with {threads} threads (an estimate); use --model preview to play a "
            f"patch live, or run on a machine with a CUDA GPU")


def _tune_for_cuda(parts: ModelParts) -> None:
    """Settings known to help SDXL convolutions under Inductor (before steering is installed)."""
    torch.backends.cudnn.benchmark = True
    torch._inductor.config.conv_1x1_as_mm = True
    for module in (parts.unet, parts.vae):
        nn.Module.to(module, memory_format=torch.channels_last)


def _resolve_compile(mode: str, device: torch.device) -> str:
    if mode not in COMPILE_MODES:
        raise EngineError("engine", f"unknown compile mode {mode!r}; one of {', '.join(COMPILE_MODES)}")
    if mode == "auto":
        return "reduce-overhead" if device.type == "cuda" else "none"
    return mode


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size % 64 or not 128 <= size <= 1024:
        raise EngineError("engine", f"image size must be a multiple of 64 in 128..1024, got {size!r}")


def _check_block(block: str) -> None:
    if block not in BLOCKS:
        raise EngineError("features", f"unknown block {block!r}; blocks are {', '.join(BLOCKS)}")


def _check_widths(parts: ModelParts, steered) -> None:
    for b in BLOCKS:
        width = steered[b].direction.shape[1]
        if parts.saes[b].d_model != width:
            raise EngineError(f"SAE {b}", f"checkpoint width {parts.saes[b].d_model} but the UNet "
                              f"block has {width} channels (wrong checkpoint for this model)")


def _n_features(parts: ModelParts) -> int:
    widths = {parts.saes[b].n_features for b in BLOCKS}
    if len(widths) != 1:
        raise EngineError("SAE", f"the four SAEs have different feature counts {sorted(widths)}")
    return widths.pop()
