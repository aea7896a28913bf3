"""OSC against strangers: a sweep of unknown addresses takes no inbox slot
(counted, shown) and known controls never starve; osc.out checks the host it
resolved, resolves off the window's main thread, and an unresolvable host is
a warning on that node while the rest of the patch plays."""
import socket
import threading
import time

import pytest
from control_helpers import small_patch, strength
from pythonosc.udp_client import SimpleUDPClient

from graph_runtime.control import osc as osc_mod
from graph_runtime.control.osc import OUT_HOSTS_ENV, OscListener
from graph_runtime.show.headless_show import HeadlessShow


@pytest.fixture(autouse=True)
def fresh_lookups(monkeypatch):
    monkeypatch.setattr(osc_mod, "_resolved", {})
    monkeypatch.delenv(OUT_HOSTS_ENV, raising=False)


@pytest.fixture
def osc(show):
    listener = OscListener(show.control.inbox, "127.0.0.1", 0).start()
    yield listener, SimpleUDPClient("127.0.0.1", listener.port)
    listener.stop()


def settle(listener, datagrams, timeout=20.0):
    end = time.monotonic() + timeout
    while listener.received < datagrams and time.monotonic() < end:
        time.sleep(0.002)
    assert listener.received >= datagrams


def test_a_sweep_of_unknown_addresses_never_starves_a_known_control(show, osc):
    listener, client = osc
    show.tick(0.0)
    sweep = 3000                       # old inbox: 1,024 slots, then every new control ignored
    for i in range(sweep):
        client.send_message(f"/sweep/{i}", 1.0)
        if i % 2 == 0:
            client.send_message(f"/hambajuba/sink/x{i}", 1.0)   # a param that does not exist
        if i % 200 == 199:
            time.sleep(0.005)           # stay inside the kernel's receive buffer
    settle(listener, sweep + sweep // 2)
    show.tick(1 / 60)
    client.send_message("/hambajuba/sink/strength", 12.5)
    client.send_message("/hambajuba/knob/value", 0.25)
    settle(listener, sweep + sweep // 2 + 2)
    frame = show.tick(2 / 60)
    assert strength(frame) == 12.5
    assert show.model.param_value("knob", "value") == 0.25
    inbox = show.control.inbox
    assert inbox.n <= 4 and inbox.refused == 0          # only known addresses hold slots
    assert show.control.unknown_osc == sweep + sweep // 2   # counted, for the window to show
    assert any("unknown address" in r or "no param" in r for r in show.control.reports)


def test_an_osc_in_address_and_a_learned_address_still_get_through(show, osc):
    listener, client = osc
    nid = show.model.add_node("osc.in", params={"address": "/fader/3"})
    show.tick(0.0)
    client.send_message("/fader/3", 0.7)
    settle(listener, 1)
    show.tick(1 / 60)
    assert show.live.plan.values(nid)["value"] == pytest.approx(0.7)
    assert show.control.unknown_osc == 0


def _getaddrinfo_recording(monkeypatch, answer: str, seen: list):
    real = socket.getaddrinfo

    def fake(host, port, *a, **kw):
        seen.append((host, threading.current_thread() is threading.main_thread()))
        if answer == "fail":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(answer, port, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_a_name_that_starts_with_127_is_not_this_machine(show, monkeypatch):
    seen: list = []
    _getaddrinfo_recording(monkeypatch, "127.0.0.1", seen)
    nid = show.model.add_node("osc.out", params={"host": "127.evil.example.com", "port": 9})
    show.tick(0.0)
    assert show.live.plan.nodes[nid]._sender is None
    assert seen == []                                   # not even looked up
    assert any("127.evil.example.com" in str(w) and "--osc-out-host" in str(w)
               for w in show.live.plan.warnings)


def test_localhost_is_checked_after_it_resolves(show, monkeypatch):
    seen: list = []
    _getaddrinfo_recording(monkeypatch, "192.0.2.7", seen)   # a hosts file pointing away
    nid = show.model.add_node("osc.out", params={"host": "localhost", "port": 9})
    show.tick(0.0)
    assert show.live.plan.nodes[nid]._sender is None
    assert any("resolves to 192.0.2.7, not this machine" in str(w)
               for w in show.live.plan.warnings)


def test_an_unresolvable_host_is_a_warning_and_the_patch_plays(show, osc, monkeypatch):
    listener, client = osc
    seen: list = []
    _getaddrinfo_recording(monkeypatch, "fail", seen)
    monkeypatch.setenv(OUT_HOSTS_ENV, "projector.offline")
    nid = show.model.add_node("osc.out", params={"host": "projector.offline", "port": 9000})
    show.model.link(("knob", "out"), (nid, "x"))
    show.tick(0.0)
    assert show.live.ok and show.live.plan.nodes[nid]._sender is None
    assert any(f"node {nid}: cannot resolve 'projector.offline'" in str(w)
               for w in show.live.plan.warnings)
    show.model.set_param("sink", "strength", 30.0)       # later edits still land
    client.send_message("/hambajuba/knob/value", 0.5)
    settle(listener, 1)
    assert strength(show.tick(1 / 60)) == 30.0
    assert show.model.param_value("knob", "value") == 0.5
    nid2 = show.model.add_node("time.lfo")                # and structural ones compile
    show.tick(2 / 60)
    assert show.live.ok and nid2 in show.live.plan.nodes


def test_names_are_resolved_off_the_windows_main_thread(registry, monkeypatch):
    seen: list = []
    _getaddrinfo_recording(monkeypatch, "127.0.0.1", seen)
    monkeypatch.setenv(OUT_HOSTS_ENV, "projector.example")
    show = HeadlessShow(small_patch(), registry=registry, background=True)
    show.tick(0.0)
    nid = show.model.add_node("osc.out", params={"host": "projector.example", "port": 9000})
    end = time.monotonic() + 20
    while time.monotonic() < end:
        show.tick(1 / 60)
        node = show.live.plan.nodes.get(nid)
        if node is not None and node._sender is not None:
            break
        time.sleep(0.01)
    assert show.live.plan.nodes[nid]._sender is not None
    assert seen and all(not on_main for _h, on_main in seen), seen
    show.live.close()
