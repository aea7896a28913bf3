"""Headless render: a patch + a track -> an MP4 (or a folder of JPEGs).

request.py  RenderRequest / RenderResult / RenderError; checks, patch, frame span, analysis
engines.py  the engines a render uses: the local Engine or a RemoteEngine
encode.py   the encoder worker thread and the output sink
sidecar.py  the JSON record of what made the file
loop.py     render(): pre-roll, the frame loop, the stats
"""
