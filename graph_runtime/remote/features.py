"""Feature labels and decoder neighbours, served by `serve` (the weights and the
labels live on the server; the window's feature browser asks for them).

    labels_message(engine, block)        server: {"t": "labels", block, data}
    neighbours_message(engine, msg)      server: {"t": "neighbours", block, id, ids, scores}
    labels_from_wire(msgs, n)            client: an engine Labels (by_block[block][id])

Sizes are bounded on both sides: a label and a category are cut to MAX_CHARS,
a block's labels to MAX_LABEL_BYTES of JSON, a neighbourhood to MAX_K rows.
The decoder itself (1280 x 5120 floats a block) never travels: the server
ranks by cosine and sends ids and scores.
"""
from __future__ import annotations

import json

import numpy as np

from graph_runtime.engine.protocol import FrameEngine

from .protocol import ProtocolError

MAX_CHARS = 120
MAX_K = 1000
MAX_LABEL_BYTES = 2 << 20


def labels_message(engine: FrameEngine, block: str) -> dict:
    """Every labelled feature of `block` as JSON rows [id, label, category, confidence]."""
    labels = engine.labels   # engine.labels.Labels, or None
    recs = labels.by_block.get(block, {}) if labels is not None else {}
    rows = [[int(fid), str(r.label)[:MAX_CHARS], str(r.category)[:MAX_CHARS],
             str(r.confidence)[:16]] for fid, r in sorted(recs.items())]
    data = json.dumps({"source": str(labels.source if labels is not None else "none")[:MAX_CHARS],
                       "rows": rows}).encode("utf-8")
    if len(data) > MAX_LABEL_BYTES:
        raise ProtocolError(f"labels of {block}: {len(data)} bytes, over {MAX_LABEL_BYTES}")
    return {"t": "labels", "block": block, "data": data}


def neighbours_message(engine: FrameEngine, block: str, fid: int, k: int) -> dict:
    """The k features of `block` closest to `fid` by decoder cosine (itself first)."""
    import torch

    saes = engine.parts.saes if engine.parts is not None else None
    if not saes or block not in saes:
        raise ProtocolError(f"neighbours: this engine has no SAE decoder for {block}")
    dec = saes[block].decoder.detach().float()
    n = dec.shape[1]
    if not (0 <= fid < n and 1 <= k <= MAX_K):
        raise ProtocolError(f"neighbours: feature {fid} of 0..{n - 1}, k {k} of 1..{MAX_K}")
    with torch.no_grad():
        unit = dec / dec.norm(dim=0, keepdim=True).clamp_min(1e-12)
        cos = unit[:, fid] @ unit
        cos[fid] = 2.0
        vals, idx = cos.topk(min(k + 1, n))
    return {"t": "neighbours", "block": block, "id": int(fid),
            "ids": idx.cpu().numpy().astype("<i4").tobytes(),
            "scores": vals.clamp(max=1.0).cpu().numpy().astype("<f4").tobytes()}


def labels_from_wire(msgs: dict[str, dict], n_features: int):
    """{block: labels message} -> graph_runtime.engine.labels.Labels."""
    from graph_runtime.engine.labels import FeatureLabel, Labels

    by_block, source = {}, "server"
    for block, msg in msgs.items():
        try:
            doc = json.loads(bytes(msg["data"]).decode("utf-8"))
            rows = doc["rows"]
            source = f"{str(doc.get('source', 'none'))[:MAX_CHARS]} (from the engine server)"
        except (ValueError, KeyError, TypeError):
            raise ProtocolError(f"labels of {block}: not the JSON this client reads") from None
        recs = {}
        for row in rows if isinstance(rows, list) else ():
            if not (isinstance(row, list) and len(row) == 4 and isinstance(row[0], int)
                    and 0 <= row[0] < n_features):
                continue
            fid, label, category, conf = row
            recs[fid] = FeatureLabel(block, fid, str(label)[:MAX_CHARS], str(category)[:MAX_CHARS],
                                     str(conf)[:16], 0.0)
        by_block[block] = recs
    return Labels(by_block, source)


def neighbours_from_wire(msg: dict) -> tuple[list[int], list[float]]:
    ids = np.frombuffer(msg.get("ids", b""), dtype="<i4")
    scores = np.frombuffer(msg.get("scores", b""), dtype="<f4")
    if len(ids) != len(scores) or len(ids) > MAX_K + 1:
        raise ProtocolError("neighbours: ids and scores do not match")
    return ids.tolist(), scores.astype(float).tolist()
