"""The demo track: a groove the project synthesises itself, with its true stems.

Deterministic (numpy only, one seeded generator): every machine makes the
same samples. About 40 s in A minor (Am F C G, one chord per bar):

    bars  0-1   kick, closed hats, pad                  110 BPM
    bars  2-3   + bass (quarter notes)
    bars  4-7   + snare on 2 and 4, + lead
    bars  8-9   accelerando 110 -> 128 BPM, snare roll, lead rests
    bars 10-18  128 BPM: bass in eighths, hats in sixteenths with open hats
                on the off-beats, the lead's second phrase
    last        a final kick and the pad's tail

so every stem, the layer entries and the beat tracker have work. Stems match
the analysis (and `../shared/eval/cases`) layout: drums, bass, vocals (the
lead sings the melody line), other (the pad); mix = their sum.

Written at first use to <cache>/demo/v1/{mix.flac, stems/*.flac, truth.json}
(<cache> = $HAMBAJUBA_CACHE or ~/.cache/hambajuba), built in a temporary
folder and renamed into place, so a crash never leaves half a demo.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VERSION = 1  # bump when the sound changes: the cache folder is named after it
SR = 44100
SEED = 20240611
BPM_A, BPM_B = 110.0, 128.0
BEATS_PER_BAR = 4
BARS_A, BARS_RAMP, BARS_B = 8, 2, 9
TAIL_S = 1.6  # after the last beat: the final kick and the pad ring out
STEMS = ("drums", "bass", "vocals", "other")

# one chord per bar: (bass root, pad voicing), MIDI note numbers
CHORDS = (
    (45, (57, 60, 64)),  # Am
    (41, (57, 60, 65)),  # F
    (48, (55, 60, 64)),  # C
    (43, (55, 59, 62)),  # G
)
# the lead: (beat in the 4-bar phrase, length in beats, MIDI note), A minor pentatonic
PHRASE_1 = ((0, 1.5, 76), (1.5, 0.5, 74), (2, 1, 72), (3, 1, 69),
            (4, 0.5, 72), (4.5, 0.5, 74), (5, 1, 76), (6, 2, 79),
            (8, 1, 76), (9, 1, 74), (10, 1.5, 72), (11.5, 0.5, 74),
            (12, 1, 71), (13, 1, 74), (14, 2, 74))
PHRASE_2 = ((0, 0.5, 81), (0.5, 0.5, 79), (1, 1, 76), (2, 0.5, 79), (2.5, 1.5, 76),
            (4, 1, 72), (5, 0.5, 74), (5.5, 0.5, 76), (6, 2, 77),
            (8, 0.5, 76), (8.5, 0.5, 79), (9, 1, 81), (10, 1, 79), (11, 1, 76),
            (12, 1.5, 74), (13.5, 0.5, 76), (14, 2, 74))
GM = {"kick": 36, "snare": 38, "hat": 42, "open_hat": 46}


def cache_root() -> Path:
    env = os.environ.get("HAMBAJUBA_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hambajuba"


# -- time -------------------------------------------------------------------------------

TOTAL_BEATS = (BARS_A + BARS_RAMP + BARS_B) * BEATS_PER_BAR
RAMP_FROM = BARS_A * BEATS_PER_BAR  # first beat of the accelerando
RAMP_TO = (BARS_A + BARS_RAMP) * BEATS_PER_BAR


def beat_time(beat) -> np.ndarray:
    """Seconds at (fractional) beat positions: constant 110 BPM, then a tempo
    rising linearly per beat to 128 BPM (time = integral of 60 / bpm), then 128."""
    b = np.asarray(beat, dtype=np.float64)
    a_part = np.minimum(b, RAMP_FROM) * 60.0 / BPM_A
    span = RAMP_TO - RAMP_FROM
    slope = (BPM_B - BPM_A) / span  # BPM per beat
    r = np.clip(b - RAMP_FROM, 0.0, span)
    ramp_part = 60.0 / slope * np.log((BPM_A + slope * r) / BPM_A)
    b_part = np.maximum(b - RAMP_TO, 0.0) * 60.0 / BPM_B
    return a_part + ramp_part + b_part


def bpm_at_beat(beat: float) -> float:
    if beat < RAMP_FROM:
        return BPM_A
    if beat >= RAMP_TO:
        return BPM_B
    return BPM_A + (BPM_B - BPM_A) * (beat - RAMP_FROM) / (RAMP_TO - RAMP_FROM)


def duration_s() -> float:
    return float(beat_time(TOTAL_BEATS)) + TAIL_S


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


# -- voices (each returns a mono float64 array starting at the note onset) -----------------

def _shaped_noise(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """White noise band-limited to [lo, hi] Hz in the frequency domain (no
    per-sample loops); unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    gain = 1.0 / (1.0 + (lo / np.maximum(f, 1.0)) ** 4) / (1.0 + (f / hi) ** 4)
    x = np.fft.irfft(spec * gain, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def kick(rng) -> np.ndarray:
    t = np.arange(int(0.42 * SR)) / SR
    freq = 46.0 + 120.0 * np.exp(-t / 0.028)  # the pitch drop is the thump
    body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.16)
    click = _shaped_noise(rng, t.size, 1500.0, 7000.0) * np.exp(-t / 0.003) * 0.25
    return 0.95 * body + click


def snare(rng) -> np.ndarray:
    t = np.arange(int(0.3 * SR)) / SR
    rattle = _shaped_noise(rng, t.size, 1200.0, 9000.0) * np.exp(-t / 0.075) * 0.45
    tone = np.sin(2 * np.pi * 186.0 * t) * np.exp(-t / 0.045) * 0.5
    return rattle + tone


def hat(rng, open_: bool) -> np.ndarray:
    t = np.arange(int((0.32 if open_ else 0.07) * SR)) / SR
    decay = 0.11 if open_ else 0.018
    return _shaped_noise(rng, t.size, 7000.0, 16000.0) * np.exp(-t / decay) * 0.16


def _adsr(n: int, attack: float, release: float, sustain: float = 1.0,
          decay: float = 0.0) -> np.ndarray:
    """Envelope over n samples: linear attack, exponential decay to sustain,
    linear release in the last `release` seconds."""
    t = np.arange(n) / SR
    env = np.minimum(t / max(attack, 1e-4), 1.0)
    if decay > 0:
        env = env * (sustain + (1 - sustain) * np.exp(-np.maximum(t - attack, 0) / decay))
    rel = max(int(release * SR), 1)
    if n > rel:
        env[-rel:] *= np.linspace(1.0, 0.0, rel)
    else:
        env *= np.linspace(1.0, 0.0, n)
    return env


def additive(freq: float, n: int, harmonics: int, rolloff: float, *, odd_only: bool = False,
             bright_decay: float = 0.0, vibrato: float = 0.0, phase0: float = 0.0) -> np.ndarray:
    """A band-limited saw (or square with odd_only): sum of harmonics k with
    amplitude k^-rolloff, none above 16 kHz. bright_decay (s) closes the
    'filter' over the note; vibrato is a depth in semitones at 5.5 Hz."""
    t = np.arange(n) / SR
    inst = freq * np.ones(n)
    if vibrato:
        ramp = np.clip((t - 0.15) / 0.2, 0.0, 1.0)  # vibrato comes in after the attack
        inst = freq * 2.0 ** (vibrato * ramp * np.sin(2 * np.pi * 5.5 * t) / 12.0)
    phase = 2 * np.pi * np.cumsum(inst) / SR + phase0
    # sin(k p) by the Chebyshev recurrence: one sin and one cos per note,
    # then a multiply-add per harmonic
    two_cos = 2.0 * np.cos(phase)
    prev, cur = np.zeros(n), np.sin(phase)
    out = np.zeros(n)
    top = 2 * harmonics - 1 if odd_only else harmonics
    for k in range(1, top + 1):
        if k * freq > 16000.0:
            break
        if not (odd_only and k % 2 == 0):
            amp = k ** -rolloff
            if bright_decay:
                amp = amp * np.exp(-(k - 1) * (0.12 + 0.5 * (1 - np.exp(-t / bright_decay))))
            out += amp * cur
        prev, cur = cur, two_cos * cur - prev
    return out


# -- the arrangement ----------------------------------------------------------------------------

@dataclass
class DemoAudio:
    mix: np.ndarray  # (n, 2) float32
    stems: dict[str, np.ndarray]  # name -> (n, 2) float32; mix == sum of stems
    truth: dict


class _Bus:
    """A stereo stem being mixed: place mono voices at onsets with a pan."""

    def __init__(self, n: int) -> None:
        self.x = np.zeros((n, 2))

    def add(self, onset_s: float, mono: np.ndarray, gain: float, pan: float = 0.0) -> None:
        i = int(round(onset_s * SR))
        if i >= self.x.shape[0]:
            return
        m = mono[: self.x.shape[0] - i] * gain
        left, right = np.cos((pan + 1) * np.pi / 4), np.sin((pan + 1) * np.pi / 4)  # equal power
        self.x[i:i + m.size, 0] += m * left * np.sqrt(2)
        self.x[i:i + m.size, 1] += m * right * np.sqrt(2)


def _drums(bus: _Bus, rng, hits: list) -> None:
    def hit(beat: float, name: str, gain: float, pan: float = 0.0) -> None:
        t = float(beat_time(beat))
        voice = {"kick": kick, "snare": snare}.get(name)
        mono = voice(rng) if voice else hat(rng, name == "open_hat")
        bus.add(t, mono, gain, pan)
        hits.append([round(t, 6), GM[name]])

    for beat in range(TOTAL_BEATS):
        bar, pos = divmod(beat, BEATS_PER_BAR)
        hit(beat, "kick", 0.8)
        if bar >= 4 and pos in (1, 3) and not (BARS_A <= bar < BARS_A + BARS_RAMP):
            hit(beat, "snare", 0.55, 0.05)
        if BARS_A <= bar < BARS_A + BARS_RAMP:  # the build: a snare roll getting denser
            per_beat = 2 if bar == BARS_A else 4
            for j in range(per_beat):
                hit(beat + j / per_beat, "snare", 0.25 + 0.3 * (beat - RAMP_FROM) / 8, 0.05)
        sixteenths = bar >= BARS_A + BARS_RAMP
        for j in range(4 if sixteenths else 2):
            frac = j / (4 if sixteenths else 2)
            is_off = abs(frac - 0.5) < 1e-9
            name = "open_hat" if sixteenths and is_off else "hat"
            hit(beat + frac, name, 0.9 if frac == 0 else 0.6, -0.3)
    hit(TOTAL_BEATS, "kick", 1.0)  # the last downbeat closes the piece


def _bass(bus: _Bus, notes: list) -> None:
    for bar in range(2, BARS_A + BARS_RAMP + BARS_B):
        root = CHORDS[bar % 4][0]
        eighths = bar >= BARS_A + BARS_RAMP
        steps = [(j * 0.5, 0.45, root + (12 if j % 4 == 2 else 0)) for j in range(8)] if eighths \
            else [(j, 0.85, root) for j in range(4)]
        for off, length, note in steps:
            b0 = bar * BEATS_PER_BAR + off
            t0, t1 = float(beat_time(b0)), float(beat_time(b0 + length))
            n = int((t1 - t0) * SR)
            mono = additive(midi_hz(note), n, 14, 1.0, bright_decay=0.09)
            bus.add(t0, mono * _adsr(n, 0.004, 0.02, 0.7, 0.12), 0.4)
            notes.append([round(t0, 6), round(t1, 6), note])


def _pad(bus: _Bus, notes: list) -> None:
    end_beat = TOTAL_BEATS
    for bar in range(BARS_A + BARS_RAMP + BARS_B):
        b0 = bar * BEATS_PER_BAR
        t0 = float(beat_time(b0))
        ring = TAIL_S - 0.2 if b0 + 4 >= end_beat else 0.25  # the last chord rings out
        t1 = float(beat_time(min(b0 + 4, end_beat))) + ring
        n = int((t1 - t0) * SR)
        env = _adsr(n, 0.35, 0.3)
        for k, note in enumerate(CHORDS[bar % 4][1]):
            for side, det in ((-0.8, -0.07), (0.8, 0.07)):  # detuned pair, spread wide
                mono = additive(midi_hz(note + det), n, 10, 1.4, phase0=k + side)
                bus.add(t0, mono * env, 0.065, side * 0.7)
            notes.append([round(t0, 6), round(t1, 6), note])


def _lead(bus: _Bus, notes: list) -> None:
    for phrase, first_bar in ((PHRASE_1, 4), (PHRASE_2, BARS_A + BARS_RAMP),
                              (PHRASE_2, BARS_A + BARS_RAMP + 4)):
        for off, length, note in phrase:
            b0 = first_bar * BEATS_PER_BAR + off
            if b0 >= TOTAL_BEATS:
                continue
            t0, t1 = float(beat_time(b0)), float(beat_time(min(b0 + length * 0.92, TOTAL_BEATS)))
            n = int((t1 - t0) * SR)
            mono = additive(midi_hz(note), n, 9, 1.0, odd_only=True, vibrato=0.25)
            mono *= _adsr(n, 0.012, 0.06, 0.8, 0.2)
            bus.add(t0, mono, 0.2, 0.25)
            bus.add(t0 + 0.3, mono, 0.06, -0.4)  # a quiet echo, left
            notes.append([round(t0, 6), round(t1, 6), note])


def synthesize() -> DemoAudio:
    """The whole demo in memory. Same samples on every call and machine."""
    rng = np.random.default_rng(SEED)
    n = int(round(duration_s() * SR))
    buses = {s: _Bus(n) for s in STEMS}
    hits: list = []
    notes: dict[str, list] = {s: [] for s in ("bass", "vocals", "other")}
    _drums(buses["drums"], rng, hits)
    _bass(buses["bass"], notes["bass"])
    _pad(buses["other"], notes["other"])
    _lead(buses["vocals"], notes["vocals"])
    mix = sum(b.x for b in buses.values())
    gain = 0.89 / float(np.max(np.abs(mix)))  # one gain for all: mix stays the stems' sum
    stems = {s: (b.x * gain).astype(np.float32) for s, b in buses.items()}
    beats = beat_time(np.arange(TOTAL_BEATS + 1))
    truth = {
        "version": VERSION, "sample_rate": SR, "duration": n / SR,
        "bpm": BPM_A, "bpm_end": BPM_B, "beats_per_bar": BEATS_PER_BAR,
        "tempo_change": {"from_s": float(beat_time(RAMP_FROM)), "to_s": float(beat_time(RAMP_TO)),
                         "from_bpm": BPM_A, "to_bpm": BPM_B},
        "beats": [round(float(b), 6) for b in beats],
        "downbeats": [round(float(b), 6) for b in beats[::BEATS_PER_BAR]],
        "drum_hits": sorted(hits),
        "notes": {k: sorted(v) for k, v in notes.items()},
        "stems": {"drums": "kick, snare, hats", "bass": "bass", "vocals": "lead (the melody)",
                  "other": "pad"},
    }
    return DemoAudio(mix=(mix * gain).astype(np.float32), stems=stems, truth=truth)


# -- on disk -------------------------------------------------------------------------------------

@dataclass
class DemoTrack:
    folder: Path
    path: Path  # mix.flac
    stems_dir: Path
    truth_path: Path

    def truth(self) -> dict:
        return json.loads(self.truth_path.read_text())


def _layout(folder: Path) -> DemoTrack:
    return DemoTrack(folder, folder / "mix.flac", folder / "stems", folder / "truth.json")


def _complete(track: DemoTrack) -> bool:
    return (track.path.is_file() and track.truth_path.is_file()
            and all((track.stems_dir / f"{s}.flac").is_file() for s in STEMS))


def _write(folder: Path, audio: DemoAudio) -> None:
    import soundfile as sf

    (folder / "stems").mkdir()
    sf.write(folder / "mix.flac", audio.mix, SR, subtype="PCM_24")
    for name, x in audio.stems.items():
        sf.write(folder / "stems" / f"{name}.flac", x, SR, subtype="PCM_24")
    (folder / "truth.json").write_text(json.dumps(audio.truth, indent=1, sort_keys=True) + "\n")


def ensure_demo(cache: str | os.PathLike | None = None, *, say=None) -> DemoTrack:
    """The demo on disk, made at first use. Safe against crashes and against
    two processes making it at once (the first rename wins)."""
    root = Path(cache) if cache is not None else cache_root()
    parent = root / "demo"
    track = _layout(parent / f"v{VERSION}")
    if _complete(track):
        return track
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".v{VERSION}.", suffix=".partial", dir=parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; the demo is not a secret
    except OSError as e:
        raise OSError(f"cannot write the demo track under {parent} ({e.strerror}); "
                      "set HAMBAJUBA_CACHE to a folder you can write") from None
    if say:
        say(f"making the demo track (first use) in {track.folder}")
    try:
        _write(tmp, synthesize())
        for f in [*tmp.rglob("*")]:
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        if track.folder.exists():  # incomplete leftovers (someone deleted a file)
            shutil.rmtree(track.folder, ignore_errors=True)
        try:
            os.rename(tmp, track.folder)
        except OSError:
            if not _complete(track):  # not lost to a concurrent maker: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return track
