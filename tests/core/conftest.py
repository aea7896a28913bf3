import pytest

from graph_runtime.graph.node import Node, Param, Registry, mask, signal, trigger


class Sink(Node):
    """A test block sink: claims a FrameParams slot and writes its strength."""
    type_id = "test.sink"
    family = "sinks"
    inputs = (signal("strength"), mask("mask"))
    params = (Param("block", "choice", "mid.0", choices=("down.2.1", "mid.0", "up.0.0", "up.0.1")),)

    def prepare(self, ctx):
        self.b, self.s = ctx.slots.slot(self.p["block"], self.id)
        self.frame = ctx.frame

    def process(self, t, dt):
        self.frame.set_strength(self.b, self.s, self.finite(self.strength.v))
        self.frame.masks[self.b, self.s] = self.mask.v


class Pulse(Node):
    type_id = "test.pulse"
    family = "test"
    outputs = (trigger("hit"),)


@pytest.fixture(scope="session")
def registry():
    from hambajuba_nodes.registry import default_registry

    reg = Registry(list(default_registry()))
    reg.add(Sink)
    reg.add(Pulse)
    return reg
