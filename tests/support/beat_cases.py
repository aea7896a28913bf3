"""Hard beat-grid cases with exact truth, synthesised in numpy (no soundfont needed).

The shared eval cases (../shared/eval/make_cases.py) play a kit on every beat;
these play what breaks a beat tracker: syncopated kicks, a half-time snare,
no drums, swing, a tempo ramp, rubato, reverb and noise, humanised timing,
3/4, and a kick on 1 and 3 after a pickup. Every case is a score in beats
(events at beat positions) played through a tempo map, so the beat and
downbeat times are known exactly.

    python tests/support/beat_cases.py OUT_DIR [--seconds S] [--case NAME ...]

writes OUT_DIR/<name>/{mix.flac, truth.json} (truth: bpm = 60 / median
inter-beat interval, beats_per_bar, beats, downbeats, seconds, kind), the
layout `hambajuba bench beats DIR` reads, like the shared cases.
"""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field

import numpy as np

SR = 22050
CHORDS = ((48, (60, 64, 67)), (43, (59, 62, 67)), (45, (60, 64, 69)), (41, (60, 65, 69)))  # C G Am F


def hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


# -- instruments: (n,) float32 at SR, one hit or note each -----------------------------
def _env(n: int, tau_s: float, attack_s: float = 0.002) -> np.ndarray:
    t = np.arange(n) / SR
    return np.minimum(t / max(attack_s, 1e-4), 1.0) * np.exp(-t / tau_s)


def _noise(n: int, rng) -> np.ndarray:
    return rng.standard_normal(n)


def kick(rng, vel: float) -> np.ndarray:
    n = int(0.35 * SR)
    t = np.arange(n) / SR
    f = 45.0 + 75.0 * np.exp(-t / 0.03)
    body = np.sin(2 * np.pi * np.cumsum(f) / SR) * _env(n, 0.13)
    return vel * (body + 0.3 * _noise(n, rng) * _env(n, 0.004))


def snare(rng, vel: float) -> np.ndarray:
    n = int(0.25 * SR)
    noise = np.diff(_noise(n + 1, rng)) * _env(n, 0.07)
    tone = np.sin(2 * np.pi * 190.0 * np.arange(n) / SR) * _env(n, 0.05)
    return vel * (0.45 * noise + 0.5 * tone)


def hat(rng, vel: float, open_: bool = False) -> np.ndarray:
    n = int((0.3 if open_ else 0.06) * SR)
    x = np.diff(_noise(n + 2, rng), 2) * _env(n, 0.12 if open_ else 0.012)
    return vel * 0.18 * x


def tone(midi: float, dur_s: float, *, vel: float, partials: int, tau_s: float,
         attack_s: float) -> np.ndarray:
    n = int((dur_s + 0.15) * SR)
    t = np.arange(n) / SR
    y = sum(np.sin(2 * np.pi * hz(midi) * k * t) / k ** 1.3 for k in range(1, partials + 1))
    gate = np.clip((dur_s + 0.12 - t) / 0.12, 0.0, 1.0)
    return vel * 0.25 * y * _env(n, tau_s, attack_s) * gate


INSTRUMENTS = {
    "bass": dict(partials=6, tau_s=0.5, attack_s=0.005),
    "piano": dict(partials=8, tau_s=0.7, attack_s=0.003),
    "pad": dict(partials=5, tau_s=30.0, attack_s=0.12),
    "choir": dict(partials=4, tau_s=30.0, attack_s=0.08),
    "pluck": dict(partials=5, tau_s=0.25, attack_s=0.002),
}


# -- a score in beats, played through a tempo map -------------------------------------
@dataclass
class Score:
    """Events at beat positions (0 = the first beat heard) and the bar layout."""
    beats_per_bar: int
    n_beats: int
    pickup: int = 0                      # beats before the first downbeat
    events: list = field(default_factory=list)   # (beat, kind, vel, midi, dur_beats)

    def bar_pos(self, k: int) -> int:
        return (k - self.pickup) % self.beats_per_bar

    def add(self, beat: float, kind: str, vel: float = 1.0, midi: float = 0.0,
            dur: float = 0.0) -> None:
        if 0 <= beat < self.n_beats:
            self.events.append((beat, kind, vel, midi, dur))


def beat_times(bpm_per_beat: np.ndarray, start_s: float = 0.3) -> np.ndarray:
    """Times (s) of beats 0..n (n + 1 values) for a tempo per beat."""
    return start_s + np.concatenate([[0.0], np.cumsum(60.0 / bpm_per_beat)])


def render(score: Score, times: np.ndarray, *, seed: int, jitter_s: float = 0.0,
           swing: float = 0.5) -> np.ndarray:
    """Mono mix (n,) float32. `swing`: where the off-beat eighth falls (0.5 straight,
    0.667 triplet swing); `jitter_s`: humanised timing (std)."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int((times[-1] + 1.0) * SR))
    for beat, kind, vel, midi, dur in score.events:
        k = int(np.floor(beat))
        frac = beat - k
        if abs(frac - 0.5) < 1e-6:
            frac = swing
        t = times[k] + frac * (times[k + 1] - times[k]) + rng.normal(0.0, jitter_s)
        dur_s = dur * (times[k + 1] - times[k])
        if kind == "kick":
            x = kick(rng, vel)
        elif kind == "snare":
            x = snare(rng, vel)
        elif kind in ("hat", "open_hat"):
            x = hat(rng, vel, open_=kind == "open_hat")
        else:
            x = tone(midi, dur_s, vel=vel, **INSTRUMENTS[kind])
        i = max(0, int(round(t * SR)))
        y[i:i + len(x)] += x[: max(0, len(y) - i)]
    return y.astype(np.float32)


def chord_of(score: Score, k: int) -> tuple[int, tuple[int, ...]]:
    bar = (k - score.pickup) // score.beats_per_bar
    return CHORDS[bar % len(CHORDS)]


def add_harmony(score: Score, *, chord_kind: str = "pad", vel: float = 0.5,
                bass_every_beat: bool = False, bass_vel: float = 0.7) -> None:
    """A chord per bar (changing on the downbeat) and a bass note on each downbeat."""
    bpb = score.beats_per_bar
    for k in range(score.n_beats):
        root, triad = chord_of(score, k)
        pos = score.bar_pos(k)
        if pos == 0 or k == 0:
            length = bpb - pos
            for m in triad:
                score.add(k, chord_kind, vel / 2, m, length)
        if pos == 0 or bass_every_beat:
            note = root if pos == 0 else root + (7 if pos % 2 else 12)
            score.add(k, "bass", bass_vel if pos == 0 else 0.6 * bass_vel, note - 12, 0.9)


# -- the cases -------------------------------------------------------------------------
def _kit(score: Score, *, kicks, snares, hats=(0.0, 0.5), hat_vel=(0.5, 0.35),
         open_hats=(), bass_with_kick: bool = False) -> None:
    bpb = score.beats_per_bar
    for bar_start in range(score.pickup - bpb, score.n_beats, bpb):   # bars start at the pickup
        for p in kicks:
            score.add(bar_start + p, "kick", 1.0)
            if bass_with_kick:
                root, _ = chord_of(score, max(0, int(bar_start + p)))
                score.add(bar_start + p, "bass", 0.7, root - 12, 0.45)
        for p in snares:
            score.add(bar_start + p, "snare", 0.9)
        for b in range(bpb):
            for p, v in zip(hats, hat_vel):
                score.add(bar_start + b + p, "hat", v)
            for p in open_hats:
                score.add(bar_start + b + p, "open_hat", 0.9)


def case_syncopated(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=1)
    _kit(s, kicks=(0.0, 1.5), snares=(), hats=(0.0,), hat_vel=(0.25,), open_hats=(0.5,),
         bass_with_kick=True)
    add_harmony(s, chord_kind="pad", vel=0.3)
    return s, dict(bpm=124.0)


def case_halftime(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=2)
    _kit(s, kicks=(0.0, 2.75), snares=(2.0,), bass_with_kick=True)
    add_harmony(s, chord_kind="pad", vel=0.3)
    return s, dict(bpm=140.0)


def case_no_drums(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=0)
    add_harmony(s, chord_kind="pad", vel=0.5, bass_every_beat=True, bass_vel=0.8)
    for k in range(n):                      # a choir line, one note a beat
        root, triad = chord_of(s, k)
        s.add(k, "choir", 0.35, triad[s.bar_pos(k) % 3] + 12, 0.95)
    return s, dict(bpm=96.0)


def case_choir_strings(n: int) -> tuple[Score, dict]:
    """No drums and no plucks: strings change chord every two beats, a bowed bass
    on 1 and 3, a choir line that moves on most beats; every attack is soft."""
    s = Score(4, n, pickup=1)
    for k in range(n):
        root, triad = chord_of(s, k)
        pos = s.bar_pos(k)
        if pos in (0, 2):
            shift = 0 if pos == 0 else 2          # the half-bar chord: an inversion
            for m in triad:
                s.add(k, "pad", 0.2, m + (12 if m == triad[0] and shift else 0), 2.0)
            s.add(k, "pad", 0.5 if pos == 0 else 0.35, root - 12 + (7 if pos == 2 else 0), 1.9)
        if pos != 3 or k % 8 == 0:                # the choir rests on some fourth beats
            s.add(k, "choir", 0.3, triad[(pos + k // 4) % 3] + 12, 0.9)
    return s, dict(bpm=100.0)


def case_swing(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=3)
    _kit(s, kicks=(0.0, 2.0), snares=(1.0, 3.0), hats=(0.0, 0.5), hat_vel=(0.5, 0.4))
    add_harmony(s, chord_kind="piano", vel=0.5, bass_every_beat=True)
    return s, dict(bpm=110.0, swing=2.0 / 3.0)


def case_ramp(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=0)
    _kit(s, kicks=(0.0, 2.0), snares=(1.0, 3.0))
    add_harmony(s, chord_kind="pad", vel=0.3)
    return s, dict(tempo=np.linspace(100.0, 130.0, n))


def case_rubato(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=1)
    for k in range(n):                      # piano: bass note on one, chord on the others
        root, triad = chord_of(s, k)
        if s.bar_pos(k) == 0:
            s.add(k, "piano", 0.9, root - 12, 2.0)
            s.add(k, "piano", 0.5, root, 1.0)
        else:
            for m in triad:
                s.add(k, "piano", 0.3, m, 0.8)
    rng = np.random.default_rng(7)
    k = np.arange(n)
    tempo = 84.0 * (1.0 + 0.08 * np.sin(2 * np.pi * k / 16.0)) * (1 + rng.normal(0, 0.02, n))
    return s, dict(tempo=tempo)


def case_reverb_noise(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=2)
    _kit(s, kicks=(0.0, 2.0), snares=(1.0, 3.0))
    add_harmony(s, chord_kind="pad", vel=0.4)
    return s, dict(bpm=120.0, reverb_s=1.2, snr_db=8.0)


def case_humanized(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=1)
    _kit(s, kicks=(0.0, 1.75, 2.5), snares=(1.0, 3.0), hats=(0.0, 0.25, 0.5, 0.75),
         hat_vel=(0.45, 0.2, 0.35, 0.2), bass_with_kick=True)
    add_harmony(s, chord_kind="piano", vel=0.4)
    return s, dict(bpm=128.0, jitter_s=0.015)


def case_waltz(n: int) -> tuple[Score, dict]:
    s = Score(3, n, pickup=1)
    for k in range(n):                      # oom-pah-pah
        root, triad = chord_of(s, k)
        if s.bar_pos(k) == 0:
            s.add(k, "kick", 0.8)
            s.add(k, "bass", 0.8, root - 12, 0.9)
        else:
            s.add(k, "hat", 0.4)
            for m in triad:
                s.add(k, "pluck", 0.35, m, 0.6)
    return s, dict(bpm=150.0)


def case_kick_1_and_3(n: int) -> tuple[Score, dict]:
    s = Score(4, n, pickup=2)
    _kit(s, kicks=(0.0, 2.0), snares=(1.0, 3.0))
    add_harmony(s, chord_kind="piano", vel=0.5)
    return s, dict(bpm=118.0)


CASES = {
    "syncopated_124": case_syncopated,
    "halftime_140": case_halftime,
    "no_drums_96": case_no_drums,
    "choir_strings_100": case_choir_strings,
    "swing_110": case_swing,
    "ramp_100_130": case_ramp,
    "rubato_84": case_rubato,
    "reverb_noise_120": case_reverb_noise,
    "humanized_128": case_humanized,
    "waltz_3_4_150": case_waltz,
    "kick_1_3_pickup_118": case_kick_1_and_3,
}


def _reverb(y: np.ndarray, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    ir = rng.standard_normal(n) * np.exp(-np.arange(n) / (seconds / 6.9 * SR))
    ir[0] = 1.0
    wet = np.fft.irfft(np.fft.rfft(y, len(y) + n) * np.fft.rfft(ir, len(y) + n))[: len(y)]
    return 0.6 * y + 0.4 * wet / (np.abs(ir).sum() ** 0.5)


def make(name: str, seconds: float = 24.0, *, seed: int = 0, tempo_scale: float = 1.0
         ) -> tuple[np.ndarray, dict]:
    """(mono mix at SR, truth dict) for one case, `seconds` long; `seed` varies the
    noise, the humanising and the rubato, `tempo_scale` every tempo."""
    spec = CASES[name]
    probe_bpm = 140.0
    n = int(seconds * probe_bpm / 60.0) + 4
    score, opts = spec(n)
    tempo = opts.get("tempo")
    tempo = np.full(n, opts["bpm"]) if tempo is None else np.asarray(tempo, float)
    tempo = tempo * tempo_scale
    times = beat_times(tempo)
    keep = int(np.searchsorted(times, seconds - 0.2))
    score.n_beats = keep
    score.events = [e for e in score.events if e[0] < keep]
    y = render(score, times, seed=seed, jitter_s=opts.get("jitter_s", 0.0),
               swing=opts.get("swing", 0.5))[: int(seconds * SR)]
    if "reverb_s" in opts:
        y = _reverb(y, opts["reverb_s"], seed)
    if "snr_db" in opts:
        rng = np.random.default_rng(seed + 1)
        noise = np.cumsum(rng.standard_normal(len(y))) * 0.02       # brown-ish hiss
        noise = noise - np.convolve(noise, np.ones(256) / 256, mode="same")
        noise += rng.standard_normal(len(y)) * 0.5
        noise *= np.sqrt(np.mean(y ** 2) / np.mean(noise ** 2)) * 10 ** (-opts["snr_db"] / 20)
        y = y + noise
    y = (0.9 * y / max(float(np.abs(y).max()), 1e-9)).astype(np.float32)
    beats = times[:keep]
    downs = [float(t) for k, t in enumerate(beats) if score.bar_pos(k) == 0]
    truth = {"kind": name, "seconds": seconds, "sample_rate": SR,
             "bpm": round(float(60.0 / np.median(np.diff(beats))), 4),
             "beats_per_bar": score.beats_per_bar,
             "beats": [round(float(b), 6) for b in beats],
             "downbeats": [round(t, 6) for t in downs],
             "tempo_min": round(float(tempo[:keep].min()), 3),
             "tempo_max": round(float(tempo[:keep].max()), 3)}
    return y, truth


def write_case(out_dir: str, name: str, seconds: float = 24.0, *, seed: int = 0,
               tempo_scale: float = 1.0, suffix: str = "") -> str:
    import soundfile as sf
    y, truth = make(name, seconds, seed=seed, tempo_scale=tempo_scale)
    folder = os.path.join(out_dir, name + suffix)
    os.makedirs(folder, exist_ok=True)
    sf.write(os.path.join(folder, "mix.flac"), y, SR)
    with open(os.path.join(folder, "truth.json"), "w") as f:
        json.dump(truth, f)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=24.0)
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--seed", type=int, default=0, help="vary noise, humanising and rubato")
    ap.add_argument("--tempo-scale", type=float, default=1.0, help="multiply every tempo")
    a = ap.parse_args()
    suffix = "" if (a.seed, a.tempo_scale) == (0, 1.0) else f"-s{a.seed}-x{a.tempo_scale:g}"
    for name in a.case or CASES:
        print(write_case(a.out, name, a.seconds, seed=a.seed, tempo_scale=a.tempo_scale,
                         suffix=suffix))


if __name__ == "__main__":
    main()
