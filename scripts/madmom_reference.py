"""Reference beats from madmom's trained trackers, for scripts/real_beats.py.

Runs under a SEPARATE interpreter that has madmom 0.16.1 (never a dependency of
hambajuba: its models carry a non-commercial licence):

    REF_PYTHON scripts/madmom_reference.py CLIP.wav [CLIP.wav ...]

prints one JSON object {clip: {"beats": [s], "downbeats": [s], "tracker": ...}}.
Beats: RNNBeatProcessor + DBNBeatTrackingProcessor (100 fps). Downbeats:
RNNDownBeatProcessor + DBNDownBeatTrackingProcessor over 3 and 4 beats per
bar; an empty list when that part fails (the beats are still reported).
Imports nothing from the project.
"""
import json
import sys
import warnings


def reference(path: str) -> dict:
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
    act = RNNBeatProcessor()(path)
    beats = DBNBeatTrackingProcessor(fps=100)(act)
    out = {"beats": [float(b) for b in beats], "downbeats": [],
           "tracker": "madmom 0.16.1 RNNBeatProcessor+DBNBeatTrackingProcessor"}
    try:
        from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor
        bars = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)(RNNDownBeatProcessor()(path))
        out["downbeats"] = [float(t) for t, pos in bars if int(pos) == 1]
        out["downbeat_beats"] = [float(t) for t, _ in bars]
    except Exception as e:  # the beats stay useful without the bar
        out["downbeat_error"] = f"{type(e).__name__}: {e}"
    return out


def main() -> int:
    warnings.simplefilter("ignore")
    print(json.dumps({p: reference(p) for p in sys.argv[1:]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
