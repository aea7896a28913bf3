"""Collects every node type into the Registry the runtime receives.

Each node module lists its classes in a module-level `NODES` tuple and is
named in NODE_MODULES (listed here, not discovered, so that nothing is
imported by a name that came from a file); the runtime never imports this
package, it is handed the Registry (graph_runtime never imports hambajuba_nodes).
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from graph_runtime.graph.node import Registry

NODE_MODULES = (
    "hambajuba_nodes.value",
    "hambajuba_nodes.math",
    "hambajuba_nodes.shape",
    "hambajuba_nodes.time",
    "hambajuba_nodes.logic",
    "hambajuba_nodes.ui",
    "hambajuba_nodes.audio",
    "hambajuba_nodes.physics",
    "hambajuba_nodes.dance",
    "hambajuba_nodes.ensemble",
    "hambajuba_nodes.mask",
    "hambajuba_nodes.dest",
    "hambajuba_nodes.noise",
    "hambajuba_nodes.sae",
    "hambajuba_nodes.midi",
    "hambajuba_nodes.osc",
)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    reg = Registry()
    for name in NODE_MODULES:
        for cls in importlib.import_module(name).NODES:
            reg.add(cls)
    return reg
