"""The running show without a window (see DESIGN.md section 1); stage_line.py: the F11 overlay text."""
