"""hambajuba the character: a little computer drawn around the engine's image.

skin.py (the shareable look: colours, glyphs, body, orbs, font), atlas.py
(a monospace font rasterised once), draw.py (procedural shapes, prepare time),
layout.py (where each part sits), drive.py (what the music does to him, frame
by frame, and the sync log for the render sidecar), compositor.py (the frame
sink's compositor: preallocated canvas, no allocation per frame),
creature.py (what he has heard, in the user's data folder), still.py and
bench.py (`character show`, `bench character`).
"""
