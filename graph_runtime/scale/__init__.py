"""Scale out on Ray: control tracks, chunked renders, batches, library analysis.

A render splits in two phases. The patch runs once, in order, on one CPU
(physics state flows frame to frame) and every frame's FrameParams is
recorded into a control track; the frames are then rendered from that track
in independent chunks on Ray workers, because the engine keeps no state
between frames beyond the Scene, which the track also records.

Ray is an optional extra (`pip install 'hambajuba[ray]'`): nothing here
imports it at module level except ray_jobs.py, which only the Ray paths load.
"""
