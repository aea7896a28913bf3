"""Live input: the offline analysis's channels, computed causally in real time.

    from graph_runtime.live.input import LiveInput
    source = LiveInput(device=None).start()        # or LiveInput(file="track.flac")
    plan = compile_patch(patch, registry, analysis=source)   # the plan reads source.make_bank()

Modules: ring (sample and channel rings), resample, split (causal stems),
stem_features, pitch, harmony, beat_tracker + tempo + downbeat, analyser (10 ms blocks
in, rows out), bank (LiveSource, LiveBank), input (devices, files, the
worker), monitor (the input played to an output device: a headphone cue),
replay (`analyze --live`), bench (`bench live`), layout (row columns). See docs/live-analysis.md.
"""
