"""Every kind of bad input: a one-line AnalysisError naming the file, or a correct result."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from analysis_helpers import click_track, tone, write

from graph_runtime.analysis import AnalysisError, analyze, decode


def _one_line_naming(err: AnalysisError, path) -> None:
    text = str(err)
    assert "\n" not in text and str(path) in text and ";" in text  # what is wrong; what to do


def _sane(a) -> None:
    for key, arr in a.data.items():
        assert np.all(np.isfinite(arr)), key
    for stem in a.stems:
        env = a.channel(f"{stem}/envelope")
        assert env.min() >= 0.0 and env.max() <= 1.0


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(AnalysisError) as e:
        analyze(path)
    _one_line_naming(e.value, path)


def test_directory(tmp_path):
    with pytest.raises(AnalysisError) as e:
        analyze(tmp_path)
    _one_line_naming(e.value, tmp_path)
    assert "directory" in str(e.value)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "song.wav"
    path.write_text("this is not audio\n")
    with pytest.raises(AnalysisError) as e:
        analyze(path)
    _one_line_naming(e.value, path)


def test_zero_length_audio(tmp_path):
    path = write(tmp_path / "empty.wav", np.zeros(0, np.float32), 44100)
    with pytest.raises(AnalysisError) as e:
        analyze(path)
    _one_line_naming(e.value, path)
    assert "zero length" in str(e.value)


def test_short_clip_of_03_s_is_analysed(tmp_path):
    a = analyze(write(tmp_path / "short.wav", tone(440.0, 0.3, sr=44100), 44100), use_cache=False)
    assert a.n_frames == 16 and len(a.beats) == 0
    _sane(a)


@pytest.mark.parametrize("sr", [8000, 96000])
def test_mono_at_odd_rates(tmp_path, sr):
    y, clicks = click_track(120.0, 5.0, sr=sr)
    a = analyze(write(tmp_path / f"mono{sr}.wav", y, sr), use_cache=False)
    assert a.meta["source_sample_rate"] == sr and a.meta["source_channels"] == 1
    assert abs(a.duration - 5.0) < 0.05
    assert a.bpm == pytest.approx(120.0, rel=0.03)
    _sane(a)


def test_nan_and_inf_samples_are_zeroed_with_a_warning(tmp_path):
    y, _ = click_track(120.0, 3.0, sr=44100)
    y[1000:1100] = np.nan
    y[5000] = np.inf
    path = write(tmp_path / "nan.wav", y, 44100, subtype="FLOAT")
    a = analyze(path, use_cache=False)
    assert any("NaN/inf" in w for w in a.meta["warnings"])
    _sane(a)


def test_clipped_audio(tmp_path):
    y = np.clip(tone(110.0, 3.0, sr=44100, amp=4.0), -1.0, 1.0)
    stereo = np.stack([y, y], axis=1)
    a = analyze(write(tmp_path / "clipped.flac", stereo, 44100), use_cache=False)
    _sane(a)
    assert a.channel("mix/activity").mean() > 0.9


def test_a_long_file_is_refused_before_decoding(tmp_path):
    path = write(tmp_path / "long.flac", np.zeros(8000 * 10, np.float32), 8000)
    with pytest.raises(AnalysisError) as e:
        decode.decode_for_analysis(path, max_seconds=5.0)
    _one_line_naming(e.value, path)


def test_a_30_minute_file_decodes(tmp_path):
    """30 minutes is inside the limit (60): it decodes and resamples without trouble."""
    path = tmp_path / "half_hour.flac"
    with sf.SoundFile(str(path), "w", samplerate=8000, channels=1, format="FLAC") as f:
        block = np.zeros(8000 * 60, np.float32)
        for _ in range(30):
            f.write(block)
    track = decode.decode_for_analysis(path)
    assert track.duration == pytest.approx(1800.0, abs=0.01)
    assert track.samples.dtype == np.float32 and track.samples.shape[0] == 1


def test_stems_of_different_lengths_and_rates(tmp_path):
    stems = tmp_path / "stems"
    stems.mkdir()
    y, _ = click_track(120.0, 4.0, sr=44100)
    mix = write(tmp_path / "mix.wav", y, 44100)
    write(stems / "Song - Drums.wav", y, 44100)
    write(stems / "song_bass.flac", tone(55.0, 3.0, sr=22050), 22050)        # shorter, other rate
    write(stems / "vocals.wav", tone(440.0, 5.0, sr=48000), 48000)           # longer, other rate
    a = analyze(mix, stems_dir=stems, use_cache=False)                         # no "other" file
    assert a.meta["separator"] == "user"
    assert any("no other stem" in w for w in a.meta["warnings"])
    assert any("aligned at the start" in w for w in a.meta["warnings"])
    assert a.channel("other/envelope").max() == 0.0
    assert np.median(a.channel("vocals/pitch_hz")[20:150]) == pytest.approx(440.0, rel=0.02)
    _sane(a)


def test_stems_folder_problems(tmp_path):
    mix = write(tmp_path / "mix.wav", tone(220.0, 1.0, sr=44100), 44100)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AnalysisError) as e:
        analyze(mix, stems_dir=empty)
    _one_line_naming(e.value, empty)
    twice = tmp_path / "twice"
    twice.mkdir()
    write(twice / "drums.wav", tone(220.0, 1.0, sr=44100), 44100)
    write(twice / "drums_2.wav", tone(220.0, 1.0, sr=44100), 44100)
    with pytest.raises(AnalysisError) as e:
        analyze(mix, stems_dir=twice)
    assert "2 files for the drums stem" in str(e.value)


def test_unknown_separator_and_conflicting_options(tmp_path):
    mix = write(tmp_path / "mix.wav", tone(220.0, 1.0, sr=44100), 44100)
    with pytest.raises(AnalysisError):
        analyze(mix, separator="spleeter")
    with pytest.raises(AnalysisError):
        analyze(mix, stems_dir=tmp_path, separator="approx")
