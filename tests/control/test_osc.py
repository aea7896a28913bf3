"""OSC over UDP loopback into a headless show (the window's per-frame path)."""
import socket
import threading
import time

import pytest
from control_helpers import strength
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from graph_runtime.control.osc import OscError, OscListener, parse_endpoint


@pytest.fixture
def osc(show):
    listener = OscListener(show.control.inbox, "127.0.0.1", 0).start()
    client = SimpleUDPClient("127.0.0.1", listener.port)
    yield listener, client
    listener.stop()


def settle(listener, datagrams, timeout=10.0):
    """Wait (untimed assertion) until the one receive thread has read `datagrams`."""
    end = time.monotonic() + timeout
    while listener.received < datagrams and time.monotonic() < end:
        time.sleep(0.002)


def test_an_osc_message_changes_the_next_frame(show, osc):
    listener, client = osc
    assert strength(show.tick(0.0)) == 0.0
    client.send_message("/hambajuba/sink/strength", 12.5)
    settle(listener, 1)
    assert strength(show.tick(1 / 60)) == 12.5
    assert show.model.param_value("sink", "strength") == 12.5  # the document saw it (save, undo)


def test_every_param_kind_is_addressable(show, osc):
    listener, client = osc
    show.tick(0.0)
    client.send_message("/hambajuba/sink/feature_id", 4000)
    client.send_message("/hambajuba/sink/block", "up.0.1")
    client.send_message("/hambajuba/range/clamp", False)
    client.send_message("/hambajuba/sink2/block", 2)  # a choice by index
    settle(listener, 4)
    frame = show.tick(1 / 60)
    assert show.model.param_value("sink", "block") == "up.0.1"
    assert show.model.param_value("sink2", "block") == "up.0.0"
    assert show.model.param_value("range", "clamp") is False
    assert 4000 in frame.scene.feature_ids.tolist()[3]


def test_bad_input_is_reported_once_and_ignored(show, osc):
    listener, client = osc
    show.tick(0.0)
    client.send_message("/hambajuba/sink/strength", 7.0)
    bad = [1.0, [1.0, 2.0], "loud"]  # each in its own frame: a message per param per frame
    sent = 0
    for i in range(6):
        client.send_message("/nobody/home", 1.0)
        client.send_message("/hambajuba/ghost/strength", 1.0)
        client.send_message("/hambajuba/sink/strength", bad[i % 3])
        sent += 3
        if i == 0:  # NaN is caught on the receive thread: it never clobbers the 7.0
            client.send_message("/hambajuba/sink/strength", float("nan"))
            sent += 1
        settle(listener, sent + 1)
        show.tick((i + 1) / 60)
        if i == 0:
            assert show.model.param_value("sink", "strength") == 1.0
    client.send_message("/hambajuba/sink/strength", 9999.0)  # clamped to the range
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"\x00garbage", ("127.0.0.1", listener.port))
    sock.close()
    settle(listener, sent + 3)
    frame = show.tick(1.0)
    reports = list(show.control.reports)
    assert sum("NaN" in r for r in reports) == 1
    assert sum("expected a number, got str" in r for r in reports) == 1
    assert sum("/nobody/home" in r for r in reports) == 1
    assert sum("ghost" in r for r in reports) == 1
    assert any("expects one value, got 2" in r for r in reports)
    assert listener.malformed == 1
    assert strength(frame) == 400.0
    assert show.model.param_value("sink", "strength") == 400.0


def test_bundles_and_an_osc_in_node(show, osc):
    listener, client = osc
    nid = show.model.add_node("osc.in", params={"address": "/fader/3"})
    show.tick(0.0)
    bundle = OscBundleBuilder(IMMEDIATELY)
    for v in (0.1, 0.2, 0.7):
        m = OscMessageBuilder("/fader/3")
        m.add_arg(v)
        bundle.add_content(m.build())
    client.send(bundle.build())
    settle(listener, 1)
    show.tick(1 / 60)
    assert show.live.plan.values(nid)["value"] == pytest.approx(0.7)
    assert not any("/fader/3" in r for r in show.control.reports)


def test_osc_out_sends_a_signal_every_frame(show):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5.0)
    port = rx.getsockname()[1]
    nid = show.model.add_node("osc.out", params={"port": port, "address": "/out/knob"})
    show.model.link(("knob", "out"), (nid, "x"))
    show.tick(0.0)
    show.tick(1 / 60)
    from pythonosc.osc_message import OscMessage
    got = [OscMessage(rx.recv(1024)) for _ in range(2)]
    rx.close()
    assert [m.address for m in got] == ["/out/knob"] * 2
    assert got[-1].params == [pytest.approx(0.5)]


def test_osc_out_sends_once_a_frame_when_the_meter_twin_runs_too(show):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    port = rx.getsockname()[1]
    nid = show.model.add_node("osc.out", params={"port": port, "address": "/twin"})
    show.model.link(("knob", "out"), (nid, "x"))
    for k in range(3):  # shown a second ahead of what is heard: two plans run a frame
        show.tick(k / 60, lookahead=1.0)
    assert show.live.meter_plan is show.live.monitor is not None
    time.sleep(0.2)
    rx.setblocking(False)
    got = []
    while True:
        try:
            got.append(rx.recv(1024))
        except BlockingIOError:
            break
    rx.close()
    assert len(got) == 3


def test_scene_tap_and_transport_addresses(show, osc):
    listener, client = osc
    calls = []
    show.control.transport = {"play": lambda: calls.append("play"),
                              "seek": lambda t: calls.append(("seek", t))}
    show.control.store_scene("loud")
    show.tick(0.0)
    client.send_message("/hambajuba/transport/play", 1)
    client.send_message("/hambajuba/transport/seek", 12.5)
    client.send_message("/hambajuba/scene/1", 1)
    settle(listener, 3)
    show.tick(1 / 60)
    assert calls == ["play", ("seek", 12.5)] or calls == [("seek", 12.5), "play"]
    assert show.control.fade is None  # recalled now, a cut: already done
    for i in range(4):
        show.control.tap(t=10.0 + 0.5 * i)
    assert show.control.tempo.bpm == pytest.approx(120.0)


def test_port_in_use_is_a_clear_error(show):
    first = OscListener(show.control.inbox, "127.0.0.1", 0).start()
    try:
        with pytest.raises(OscError, match=f"OSC port {first.port} on 127.0.0.1 is already in use"):
            OscListener(show.control.inbox, "127.0.0.1", first.port).start()
    finally:
        first.stop()


def test_endpoint_parsing():
    assert parse_endpoint("9000") == ("127.0.0.1", 9000)
    assert parse_endpoint("0.0.0.0:7000") == ("0.0.0.0", 7000)
    with pytest.raises(OscError):
        parse_endpoint("loud")
    with pytest.raises(OscError):
        parse_endpoint("70000")


def test_a_flood_to_one_param_coalesces_and_the_queue_never_grows(show, osc):
    """10,000 messages in about a second to one param while frames run at 60 fps."""
    listener, client = osc
    show.tick(0.0)
    sent = 10_000
    done = threading.Event()

    def flood():
        for i in range(sent):
            client.send_message("/hambajuba/sink/strength", float(i % 400))
            if i % 100 == 99:
                time.sleep(0.01)
        done.set()

    th = threading.Thread(target=flood)
    th.start()
    frames, pending_max = 0, 0
    while not done.is_set() or listener.received < sent and frames < 2000:
        frames += 1
        show.tick(frames / 60)
        pending_max = max(pending_max, show.control.inbox.pending())
        time.sleep(1 / 120)
    th.join()
    settle(listener, sent)
    frame = show.tick((frames + 1) / 60)
    assert show.control.inbox.n == 1  # one slot, however many messages
    assert pending_max <= 1
    assert listener.received == sent  # one receive thread with a large buffer lost nothing
    assert show.control.consumed == sent
    assert strength(frame) == float((sent - 1) % 400)  # the last value won


def test_learn_an_osc_address_then_it_plays_through_its_curve(show, osc):
    listener, client = osc
    show.tick(0.0)
    show.control.arm_learn(("sink", "strength"))
    client.send_message("/touchosc/fader1", 0.2)
    settle(listener, 1)
    show.tick(1 / 60)
    [b] = show.control.bindings_for("sink", "strength")
    assert (b.source, b.control) == ("osc", "/touchosc/fader1")
    show.control.edit_binding(0, min=0.0, max=100.0, curve="exp")
    client.send_message("/touchosc/fader1", 0.5)
    settle(listener, 2)
    frame = show.tick(2 / 60)
    assert strength(frame) == pytest.approx(100.0 * (10 ** 0.5 - 1.0) / 9.0)
    assert not show.control.reports or not any("unknown" in r for r in show.control.reports)


def test_a_cc_button_bound_to_a_scene_fires_on_press_even_inside_one_frame(show):
    show.control.store_scene("a")
    show.model.set_param("sink", "strength", 50.0)
    show.model.apply("bind", lambda p: p.bindings.append(
        {"source": "cc", "channel": 0, "control": 64, "node": "@scene", "param": "a"}))
    show.tick(0.0)
    post = show.control.inbox.post
    post(("cc", "pads", 0, 64), 127)  # press and release between two frames
    post(("cc", "pads", 0, 64), 0)
    assert strength(show.tick(1 / 60)) == 0.0
    show.model.set_param("sink", "strength", 50.0)
    post(("cc", "pads", 0, 64), 0)  # a release alone does nothing
    assert strength(show.tick(2 / 60)) == 50.0


def test_a_patch_cannot_send_osc_off_this_machine_without_the_users_permission(show, monkeypatch):
    """A .patch comes from strangers: osc.out to another host stays silent (a
    warning on the node says how to allow it) until the user names the host."""
    from graph_runtime.control.osc import OUT_HOSTS_ENV

    looked_up = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda h, p, **kw: looked_up.append(h) or real("127.0.0.1", p, **kw))
    monkeypatch.delenv(OUT_HOSTS_ENV, raising=False)
    nid = show.model.add_node("osc.out", params={"host": "somewhere.example", "port": 9})
    show.tick(0.0)
    assert show.live.plan.nodes[nid]._sender is None and looked_up == []
    assert any("--osc-out-host somewhere.example" in str(w) for w in show.live.plan.warnings)
    monkeypatch.setenv(OUT_HOSTS_ENV, "somewhere.example")
    show.model.set_param(nid, "port", 10)  # a recompile of that node picks the permission up
    show.tick(1 / 60)
    assert looked_up == ["somewhere.example"]
