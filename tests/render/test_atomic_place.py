"""The writers that fill a file or a folder over minutes (video, JPEG frames)
build it beside its destination and place it with one rename."""
from __future__ import annotations

import os
import stat

from graph_runtime.media.atomic import place, temp_beside, usual_mode


def test_a_temp_file_beside_is_hidden_has_the_usual_mode_and_is_placed(tmp_path):
    out = tmp_path / "clip.mp4"
    tmp = temp_beside(str(out), suffix=".partial.mp4")
    assert os.path.dirname(tmp) == str(tmp_path) and os.path.basename(tmp).startswith(".clip.mp4.")
    assert stat.S_IMODE(os.stat(tmp).st_mode) == usual_mode()
    with open(tmp, "wb") as f:
        f.write(b"video")
    place(tmp, str(out))
    assert out.read_bytes() == b"video" and os.listdir(tmp_path) == ["clip.mp4"]


def test_a_temp_folder_replaces_the_old_one_whole(tmp_path):
    out = tmp_path / "frames"
    tmp = temp_beside(str(out), directory=True)
    assert stat.S_IMODE(os.stat(tmp).st_mode) == usual_mode(directory=True)
    (tmp_path / os.path.basename(tmp) / "frame_000000.jpg").write_bytes(b"jpg")
    place(tmp, str(out))
    assert sorted(os.listdir(tmp_path)) == ["frames"]
    assert (out / "frame_000000.jpg").read_bytes() == b"jpg"
