"""The running show without a window: the document and undo, the live plan, the engine worker
and delivery, the control session, the analysis worker, files, the headless show; stage_line.py:
the F11 overlay text."""
