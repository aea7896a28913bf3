"""Agents playing the show through the Model Context Protocol (`hambajuba mcp`).

    errors.py      AgentError: a refusal as {"error": code, "message": ...}
    desk.py        the main-thread side: agent calls taken from the control inbox,
                   the freeze (panic key / release_agent), param fades on the grid
    ops.py         what each call does to the show (validated like the editor)
    sections.py    sections of a track from its analysis (novelty peaks on downbeats)
    link.py        how `hambajuba mcp` reaches a show: the inbox in-process, or the
                   control endpoint (graph_runtime/control/endpoint.py) of `perform --mcp`
    standalone.py  a show with no window: ticked on its own thread, optionally recording
    server.py      the MCP server: tools and resources over a link
Agent input goes through the same inbox as OSC and MIDI and the same
validation as the editor; never imports hambajuba_nodes or dearpygui.
"""
