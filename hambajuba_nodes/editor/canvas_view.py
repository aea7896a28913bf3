"""Where things are on the canvas: panning, fitting and free space.

Dear PyGui 2.3's node editor neither zooms nor lets a program pan it, so the
view pans by an offset of its own: every node is drawn at its patch position
plus `pan` (grid units = pixels), and read back minus it. The patch file
never sees the pan (moving the view is not an edit).

Pure geometry here (no Dear PyGui): boxes are (x0, y0, x1, y1) in patch
coordinates; the visible area is a box in the same coordinates.
"""
from __future__ import annotations

Box = tuple[float, float, float, float]
MARGIN = 16.0  # px between the patch and the canvas edge after a fit
NODE_W, NODE_H = 200.0, 140.0  # a node not drawn yet is taken as this big
GAP = 24.0  # px kept free around a new node
STEP = 40.0  # px between the spots tried for a new node


def bounds(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def fit_shift(patch_box: Box, visible: Box) -> tuple[float, float]:
    """How far to move the drawing so `patch_box` shows in `visible`: centred
    along an axis where it fits, its top-left corner at the margin where not."""
    out = []
    for lo, hi, vlo, vhi in ((patch_box[0], patch_box[2], visible[0], visible[2]),
                             (patch_box[1], patch_box[3], visible[1], visible[3])):
        size, room = hi - lo, vhi - vlo
        if size <= room:
            out.append(vlo + (room - size) / 2 - lo)
        else:
            out.append(vlo + MARGIN - lo)
    return out[0], out[1]


def reveal_shift(box: Box, visible: Box) -> tuple[float, float]:
    """The smallest move that brings `box` into `visible` (0 where it is in)."""
    out = []
    for lo, hi, vlo, vhi in ((box[0], box[2], visible[0], visible[2]),
                             (box[1], box[3], visible[1], visible[3])):
        if lo < vlo + MARGIN or hi - lo > vhi - vlo - 2 * MARGIN:
            out.append(vlo + MARGIN - lo)
        elif hi > vhi - MARGIN:
            out.append(vhi - MARGIN - hi)
        else:
            out.append(0.0)
    return out[0], out[1]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] + GAP and b[0] < a[2] + GAP and a[1] < b[3] + GAP and b[1] < a[3] + GAP


def free_spot(taken: list[Box], visible: Box, size: tuple[float, float] = (NODE_W, NODE_H)) -> \
        tuple[float, float] | None:
    """The free spot for a box of `size` inside `visible` nearest its centre,
    or None when the visible area has no room."""
    w, h = size
    x0, y0 = visible[0] + MARGIN, visible[1] + MARGIN
    x1, y1 = visible[2] - MARGIN - w, visible[3] - MARGIN - h
    if x1 < x0 or y1 < y0:
        return None
    cx, cy = (visible[0] + visible[2] - w) / 2, (visible[1] + visible[3] - h) / 2
    spots = []
    y = y0
    while y <= y1:
        x = x0
        while x <= x1:
            spots.append(((x - cx) ** 2 + (y - cy) ** 2, x, y))
            x += STEP
        y += STEP
    for _, x, y in sorted(spots):
        box = (x, y, x + w, y + h)
        if not any(_overlaps(box, t) for t in taken):
            return round(x, 1), round(y, 1)
    return None


def below(taken: list[Box], visible: Box) -> tuple[float, float]:
    """A spot under everything, at the visible area's left: always free."""
    low = max((b[3] for b in taken), default=visible[1])
    return round(visible[0] + MARGIN, 1), round(low + 2 * GAP, 1)
