"""Each running show owns its controllers: the hub its session writes is the one
its plans read (handed to every compile through the prepare context), and no
process-wide hub joins two shows."""
from control_helpers import strength

from graph_runtime.graph.compiler import compile_patch
from graph_runtime.graph.patch import Patch
from graph_runtime.show.headless_show import HeadlessShow


def fader_patch() -> Patch:
    """CC 7 on any channel -> an SAE sink's strength (0..1)."""
    p = Patch()
    p.add_node("midi.cc", {"channel": 0, "control": 7}, node_id="fader")
    p.add_node("sae.block", {"block": "down.2.1", "feature_id": 3, "scale_by_mean": False},
               node_id="sink")
    p.connect(("fader", "value"), ("sink", "strength"))
    return p


def test_a_fader_moves_its_own_show_and_not_another(registry):
    a = HeadlessShow(fader_patch(), registry=registry)
    b = HeadlessShow(fader_patch(), registry=registry)
    a.tick(0.0)
    b.tick(0.0)
    a.control.inbox.post(("cc", "pads", 0, 7), 127)
    assert strength(a.tick(1 / 60)) == 1.0
    assert strength(b.tick(1 / 60)) == 0.0  # before, one process-wide hub moved both
    assert a.live.plan.ctx.control_hub is a.hub is a.control.hub


def test_the_meter_twin_reads_the_same_fader(registry):
    show = HeadlessShow(fader_patch(), registry=registry)
    for i in range(3):
        show.tick(i / 60, lookahead=0.5)  # a slow engine: the twin runs for the time heard
    show.control.inbox.post(("cc", "pads", 0, 7), 127)
    show.tick(3 / 60, lookahead=0.5)
    assert show.live.monitor is not None
    assert show.live.monitor.nodes["fader"].value.v == 1.0


def test_a_plan_compiled_without_a_show_has_a_hub_nobody_writes(registry):
    show = HeadlessShow(fader_patch(), registry=registry)
    show.tick(0.0)
    show.control.inbox.post(("cc", "pads", 0, 7), 127)
    show.tick(1 / 60)
    plan = compile_patch(fader_patch(), registry)  # a render: no controllers
    assert plan.ctx.control_hub is not show.hub
    plan.run(0.0, 1 / 60)
    assert strength(plan.frame) == 0.0
