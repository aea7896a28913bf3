"""The MCP server of `hambajuba mcp`: tools and resources over a link to a show.

Tools that play the show (describe, assign, set_param, scenes, add_node,
link, undo, get_frame, analysis, release) are calls through the link: the
show's main thread runs them between frames (desk.py, ops.py). Feature
search and render_preview run here, in the server's process, so they never
cost the show a frame. Every tool answers a JSON object; a refusal is an
error result whose text is {"error": code, "message": ...} (errors.py),
never a traceback.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ImageContent, TextContent

from .errors import AgentError

LOG = logging.getLogger("hambajuba.agent")
DOCS = Path(__file__).resolve().parents[2] / "docs"
MAX_K = 50
NEIGHBOURS = 3  # decoder-cosine neighbours of each of the first NEIGHBOURED hits
NEIGHBOURED = 5
MAX_PREVIEW_S = 20.0
PREVIEW_FPS = 15.0
INSTRUCTIONS = (
    "hambajuba plays SDXL-Turbo with music: a patch of nodes steers SAE features of four UNet "
    "blocks (down.2.1 composition/mood, mid.0 abstraction, up.0.0 details, up.0.1 texture). "
    "Start with describe_show; search_features finds features by words; assign_feature puts "
    "one on an sae.block sink; set_param with quantise='bar' and fade_beats fades on the beat "
    "grid. Everything you do is undoable and shown to the performer, who can freeze you.")


def _ok(doc: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(doc))],
                          structured_content=doc if isinstance(doc, dict) else {"result": doc})


def _fail(err: dict) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(err))],
                          structured_content=err, is_error=True)


async def _structured_refusals(ctx, call_next):
    """Arguments of the wrong JSON type are refused by the SDK's schema check before a
    tool runs, and a crash the SDK caught answers "Error executing tool t"; give both
    the same {"error", "message"} shape as ours. (The result here is the wire form:
    a dict.)"""
    result = await call_next(ctx)
    if getattr(ctx, "method", None) != "tools/call" or not isinstance(result, dict) \
            or not result.get("isError") or "structuredContent" in result:
        return result
    content = result.get("content") or [{}]
    text = content[0].get("text", "") if isinstance(content[0], dict) else ""
    if "validation error" in text:
        err = {"error": "bad_argument", "message": _validation_message(text)}
    else:   # a crash the SDK caught: its traceback is in the server's log
        err = {"error": "internal", "message": str(text)[:400]}
    return dict(result, content=[{"type": "text", "text": json.dumps(err)}],
                structuredContent=err)


def _validation_message(text: str) -> str:
    """'Error executing tool t: 1 validation error for tArguments\\nfield\\n  Input should..
    [type=..]' -> 't: field: Input should ..'."""
    head, _, rest = text.partition(": ")
    tool = head.rsplit(" ", 1)[-1]
    parts, field = [], ""
    for line in rest.splitlines()[1:]:
        if not line.startswith(" "):
            field = line.strip()
        elif not line.strip().startswith("For further information"):
            parts.append(f"{field}: {line.strip().split(' [type=')[0]}")
    return (f"{tool}: " + "; ".join(parts))[:400] if parts else text[:400]


class FeatureIndex:
    """SAE decoders + labels, loaded on first use (torch) in this process."""

    def __init__(self, model: str = "auto") -> None:
        self.model = model
        self._lock = threading.Lock()
        self.saes = self.labels = None
        self.preview = False

    def load(self, preview: bool | None = None):
        with self._lock:
            if self.labels is None:
                from graph_runtime.engine.errors import EngineError
                from graph_runtime.engine.preview import preview_features

                want_preview = self.model == "preview" or preview is True
                if not want_preview:
                    try:
                        from graph_runtime.engine.models import load_features

                        self.saes, self.labels = load_features(None)
                    except EngineError:
                        if self.model == "sdxl-turbo":
                            raise
                        want_preview = True
                if want_preview:
                    self.saes, self.labels = preview_features()
                    self.preview = True
            return self.saes, self.labels

    def search(self, query: str, block: str | None, k: int) -> dict:
        from graph_runtime.engine.labels import nearest_by_decoder
        from graph_runtime.graph.frame import BLOCKS

        if block is not None and block not in BLOCKS:
            raise AgentError("bad_argument", f"block must be one of {', '.join(BLOCKS)}")
        if not 1 <= k <= MAX_K:
            raise AgentError("bad_argument", f"k must be 1..{MAX_K}")
        if len(query) > 200:
            raise AgentError("bad_argument", "query is at most 200 characters")
        saes, labels = self.load()
        hits = labels.search(query, block=block, limit=k)
        out = []
        for i, h in enumerate(hits):
            row = {"block": h.block, "feature_id": h.id, "label": h.label, "category": h.category,
                   "confidence": h.confidence,
                   "mean_activation": round(float(saes[h.block].means[h.id]), 3)}
            if i < NEIGHBOURED:
                row["neighbours"] = [
                    {"feature_id": j, "cosine": round(c, 3), "label": labels.describe(h.block, j)}
                    for j, c in nearest_by_decoder(saes[h.block].decoder, h.id, NEIGHBOURS)]
            out.append(row)
        return {"query": query, "results": out, "preview": self.preview,
                "source": labels.source}


def build_server(link, registry, *, features: FeatureIndex, model: str = "auto",
                 render_dir: Path | None = None, stems_dir: str | None = None,
                 size: int | None = None) -> MCPServer:
    """`link`: InboxLink or SocketLink (link.py); `registry`: the node types (render_preview
    compiles the patch); `stems_dir`: the track's true stems, when known (no separation);
    `size`: previews at this size instead of the patch's."""
    server = MCPServer("hambajuba", instructions=INSTRUCTIONS, middleware=[_structured_refusals])

    async def here(what: str, fn, *args) -> CallToolResult:
        """fn(*args) on a worker thread of this process; a refusal or a crash answers
        {"error", "message"} (the crash's traceback goes to the server's log)."""
        try:
            return _ok(await anyio.to_thread.run_sync(fn, *args))
        except AgentError as e:
            return _fail(e.to_json())
        except Exception as e:
            LOG.exception("%s failed", what)
            return _fail({"error": "internal", "message": f"{what} failed: {type(e).__name__}: "
                                                          f"{e}"[:400]})

    async def call(op: str, **args) -> CallToolResult:
        reply = await anyio.to_thread.run_sync(link.call, op, args)
        return _fail(reply) if "error" in reply else _ok(reply["result"])

    @server.tool(description="The show: patch summary, nodes and their params, links, scenes, "
                             "bindings, track, BPM, time, current section, engine, agent state.")
    async def describe_show() -> CallToolResult:
        return await call("describe_show")

    @server.tool(description="Find SAE features whose label matches words (e.g. 'glass', "
                             "'warm light'); block narrows to one UNet block. No match is an "
                             "empty list. Each hit: block, feature_id, label, category, "
                             "confidence, mean activation, and for the first few its nearest "
                             "features by decoder direction.")
    async def search_features(query: str, block: str | None = None, k: int = 10) -> CallToolResult:
        return await here("search_features", features.search, query, block, k)

    @server.tool(description="Put feature_id on an sae.block sink (node id). slot: the UNet "
                             "block to steer (down.2.1, mid.0, up.0.0, up.0.1); omitted keeps "
                             "the sink's block. One undo step.")
    async def assign_feature(sink: str, feature_id: int, slot: str | None = None) -> CallToolResult:
        return await call("assign_feature", sink=sink, feature_id=feature_id, slot=slot)

    @server.tool(description="Set a node's param. quantise: now, beat or bar (start on the next "
                             "beat / downbeat); fade_beats > 0 glides numbers there over that "
                             "many beats (switches, choices and feature ids change at the start).")
    async def set_param(node: str, param: str, value: Any, fade_beats: float = 0.0,
                        quantise: str = "now") -> CallToolResult:
        return await call("set_param", node=node, param=param, value=value,
                          fade_beats=fade_beats, quantise=quantise)

    @server.tool(description="Recall a stored scene on the next beat/bar (quantise: now, beat, "
                             "bar), fading over `fade` beats.")
    async def recall_scene(name: str, fade: float = 0.0, quantise: str = "bar") -> CallToolResult:
        return await call("recall_scene", name=name, fade=fade, quantise=quantise)

    @server.tool(description="Store every param of the patch as a scene named `name`.")
    async def store_scene(name: str) -> CallToolResult:
        return await call("store_scene", name=name)

    @server.tool(description="Add a node of a registered type (see the docs resources) with "
                             "params; returns its id. Validated like the editor; undoable.")
    async def add_node(type: str, params: dict | None = None) -> CallToolResult:
        return await call("add_node", type=type, params=params)

    @server.tool(name="link", description="Link an output to an input: from_ and to are "
                                          "'node.port'. Kinds must match; loops are refused.")
    async def link_tool(from_: str, to: str) -> CallToolResult:
        return await call("link", src=from_, dst=to)

    @server.tool(description="Undo the last edit of the show (yours or the performer's).")
    async def undo() -> CallToolResult:
        return await call("undo")

    @server.tool(description="The current image as a PNG (size: 64..1024 px square; default "
                             "the engine's).")
    async def get_frame(size: int | None = None) -> CallToolResult:
        reply = await anyio.to_thread.run_sync(link.call, "get_frame", {"size": size})
        if "error" in reply:
            return _fail(reply)
        r = reply["result"]
        meta = {k: r[k] for k in ("width", "height", "time")}
        return CallToolResult(content=[ImageContent(type="image", data=r["png"],
                                                    mime_type="image/png"),
                                       TextContent(type="text", text=json.dumps(meta))],
                              structured_content=meta)

    @server.tool(description="The track between start and end (seconds): sections, mean energy "
                             "per stem, tension, beats and downbeats.")
    async def analysis_summary(start: float = 0.0, end: float | None = None) -> CallToolResult:
        return await call("analysis_summary", start=start, end=end)

    @server.tool(description="Render `seconds` of the show's patch on its track to an MP4, "
                             "headless, in this process; returns the file's path.")
    async def render_preview(seconds: float = 4.0) -> CallToolResult:
        return await here("render_preview", _render_preview, link, registry, seconds, model,
                          render_dir, stems_dir, size)

    @server.tool(description="Give control back to the performer: every later agent call is "
                             "refused until they re-enable agents in the window.")
    async def release_agent() -> CallToolResult:
        return await call("release_agent")

    _resources(server, link, features)
    return server


def _resources(server: MCPServer, link, features: FeatureIndex) -> None:
    @server.resource("hambajuba://patch", name="patch", mime_type="application/json",
                     description="The show's patch document (.patch JSON), as it is now.")
    def patch_document() -> str:
        reply = link.call("patch_document", {})
        if "error" in reply:
            return json.dumps(reply)
        return reply["result"]["text"]

    @server.resource("hambajuba://features/{block}", name="feature labels",
                     mime_type="application/json",
                     description="The feature label index of one block: [{feature_id, label, "
                                 "category, confidence}].")
    def feature_labels(block: str) -> str:
        from graph_runtime.graph.frame import BLOCKS

        if block not in BLOCKS:
            return json.dumps({"error": "not_found", "message": f"blocks are {', '.join(BLOCKS)}"})
        _, labels = features.load()
        rows = [{"feature_id": lab.id, "label": lab.label, "category": lab.category,
                 "confidence": lab.confidence}
                for lab in sorted(labels.by_block.get(block, {}).values(), key=lambda x: x.id)]
        return json.dumps({"block": block, "preview": features.preview, "labels": rows})

    for path in sorted(DOCS.glob("*.md")):
        server.resource(f"hambajuba://docs/{path.stem}", name=f"docs/{path.name}",
                        mime_type="text/markdown",
                        description=f"hambajuba documentation: {path.name}")(_reader(path))


def _reader(path: Path):
    def read() -> str:
        return path.read_text(encoding="utf-8")

    return read


def _render_preview(link, registry, seconds: float, model: str, render_dir: Path | None,
                    stems_dir: str | None, size: int | None) -> dict:
    from graph_runtime.control.endpoint import data_dir
    from graph_runtime.render.loop import RenderError, RenderRequest, render

    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not 0.1 <= seconds <= MAX_PREVIEW_S:
        raise AgentError("bad_argument", f"seconds must be 0.1..{MAX_PREVIEW_S:g}")
    show = link.call("describe_show", {})
    doc = link.call("patch_document", {})
    for reply in (show, doc):
        if "error" in reply:
            raise AgentError.from_json(reply)
    track = show["result"].get("track")
    if not track:
        raise AgentError("no_track", "this show has no track to render (start it with --track)")
    folder = Path(render_dir) if render_dir else data_dir() / "agent" / "previews"
    folder.mkdir(parents=True, exist_ok=True)
    text = doc["result"]["text"]
    if size:
        from graph_runtime.graph.patch import dumps, loads

        patch = loads(text)
        patch.engine["size"] = int(size)
        text = dumps(patch)
    fd, patch_path = tempfile.mkstemp(suffix=".patch", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    out = os.path.splitext(patch_path)[0] + ".mp4"
    req = RenderRequest(track=track, patch=patch_path, out=out, model=model, fps=PREVIEW_FPS,
                        seconds=float(seconds), overwrite=True, stems_dir=stems_dir)
    try:
        result = render(req, registry, progress=False, say=_stderr)
    except RenderError as e:
        raise AgentError("refused", "; ".join(e.problems)) from None
    finally:
        os.unlink(patch_path)
    return {"path": result.path, "frames": result.frames, "fps": result.fps,
            "seconds": round(result.seconds, 3), "model": result.model, "preview": result.preview}


def _stderr(text: str) -> None:
    import sys

    print(text, file=sys.stderr, flush=True)
