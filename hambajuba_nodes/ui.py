"""A comment box: text on the canvas, no ports, nothing per frame."""
from __future__ import annotations

from graph_runtime.graph.node import Node, Param


class Comment(Node):
    type_id = "ui.comment"
    family = "ui"
    title = "Comment"
    doc = "A note on the patch for whoever opens it next."
    params = (Param("text", "text", "", doc="the note"),)
    reprepare = ()  # nothing runs


NODES = (Comment,)
