"""graph_runtime: the performance side of hambajuba, headless (no dearpygui,
never imports hambajuba_nodes: it is handed the node registry).

graph/     the patch and what it compiles to: node API, .patch files, problems,
           wiring, compiler (patch -> Plan), plan, in-place edits, prepare cache,
           channel bank, FrameParams. No torch, no threads.
show/      the running show without a window: document + undo, live plan and its
           builder, engine worker and frame delivery, scene guard, analysis
           worker, files, the headless show.
media/     clock, the one audio file reader, audio playback, video encode, atomic writes.
render/    headless render of a patch + track: request, engines, encoder, sidecar, loop.
engine/    SDXL-Turbo (or the untrained preview) with SAE steering as one graph.
analysis/  offline audio analysis -> Analysis (cached by content hash).
live/      live audio input -> the same channel names as the offline analysis.
control/   MIDI, OSC, bindings, scenes, tempo: I/O into one inbox.
stage/     frame sinks: output window, MJPEG, recorder.
remote/    `hambajuba serve` and the remote engine client.
scale/     control tracks, chunked renders and batch analysis on Ray.
agent/     the MCP server's tools: agent calls into the show's inbox, fades, the freeze.
"""
