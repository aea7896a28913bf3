"""The one audio reader: playback's Track (frames, channels) at the file's
rate and the analysis' AnalysisAudio (channels, frames) at TRACK_SR are two
views of the same decode, refused for the same reasons in the same words."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from graph_runtime.analysis import AnalysisError
from graph_runtime.analysis.decode import TRACK_SR, decode_for_analysis
from graph_runtime.media.audio_file import AudioFileError, decode
from graph_runtime.media.playback import load_track


def _stereo(path, seconds=0.5, sr=TRACK_SR):
    t = np.arange(int(seconds * sr)) / sr
    x = np.stack([np.sin(2 * np.pi * 220 * t), 0.5 * np.sin(2 * np.pi * 330 * t)], axis=1)
    sf.write(path, x.astype(np.float32), sr, subtype="FLOAT")
    return x.astype(np.float32)


def test_playback_and_analysis_read_the_same_samples_transposed(tmp_path):
    x = _stereo(tmp_path / "a.wav")
    track = load_track(tmp_path / "a.wav")
    audio = decode_for_analysis(tmp_path / "a.wav")
    assert track.samples.shape == (len(x), 2) and track.samples.flags.c_contiguous
    assert audio.samples.shape == (2, len(x)) and audio.samples.flags.c_contiguous
    np.testing.assert_array_equal(track.samples, x)
    np.testing.assert_array_equal(audio.samples.T, x)
    np.testing.assert_array_equal(audio.frames_first(), track.samples)


def test_playback_keeps_the_file_rate_analysis_resamples(tmp_path):
    _stereo(tmp_path / "b.wav", sr=22050)
    assert load_track(tmp_path / "b.wav").sr == 22050
    audio = decode_for_analysis(tmp_path / "b.wav")
    assert audio.sr == TRACK_SR and audio.source_sr == 22050
    assert audio.duration == pytest.approx(0.5, abs=1e-3)


@pytest.mark.parametrize("channels_first", [True, False])
def test_more_than_two_channels_fold_to_stereo_and_nan_is_zeroed(tmp_path, channels_first):
    x = np.ones((1000, 4), np.float32) * np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    x[10, 1] = np.nan
    sf.write(tmp_path / "quad.wav", x, 8000, subtype="FLOAT")
    got = decode(tmp_path / "quad.wav", channels_first=channels_first)
    frames_first = got.samples.T if channels_first else got.samples
    assert got.source_channels == 4 and frames_first.shape == (1000, 2)
    np.testing.assert_allclose(frames_first[0], [0.2, 0.3])      # (ch0+ch2)/2, (ch1+ch3)/2
    assert np.isfinite(got.samples).all() and "1 NaN/inf" in got.warnings[0]


def test_one_error_in_the_same_words_for_both_uses(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(AudioFileError) as played:
        load_track(bad)
    with pytest.raises(AnalysisError) as analysed:
        decode_for_analysis(bad)
    assert str(played.value) == str(analysed.value)
    assert "not an audio file" in str(played.value) and "\n" not in str(played.value)


def test_one_cap_refused_from_the_header(tmp_path):
    path = tmp_path / "long.flac"
    sf.write(path, np.zeros(8000 * 10, np.float32), 8000)
    with pytest.raises(AudioFileError, match="over the 0 min limit"):
        decode(path, channels_first=False, max_seconds=5.0)
    with pytest.raises(AnalysisError, match="over the 0 min limit"):
        decode_for_analysis(path, max_seconds=5.0)
