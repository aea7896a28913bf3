"""A TCP proxy that delays every byte by a fixed time each way (benchmarks, tests).

    proxy = DelayProxy("127.0.0.1", server_port, one_way_s=0.015).start()  # 30 ms RTT
    RemoteEngine(f"127.0.0.1:{proxy.port}")

Each direction has a reader thread (stamps each chunk with when it may
leave) and a writer thread (sends it then): latency without a bandwidth
cap, like a long, fat network path. `python -m graph_runtime.remote.proxy
TARGET_PORT DELAY_MS` runs one and prints its port.
"""
from __future__ import annotations

import collections
import socket
import sys
import threading
import time

CHUNK = 1 << 16


class DelayProxy:
    def __init__(self, host: str, port: int, *, one_way_s: float) -> None:
        self.target = (host, port)
        self.one_way_s = one_way_s
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._conns: list[socket.socket] = []

    def start(self) -> "DelayProxy":
        threading.Thread(target=self._accept, daemon=True, name="delay-proxy").start()
        return self

    def close(self) -> None:
        self.sock.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.sock.accept()
                up = socket.create_connection(self.target)
            except OSError:
                return
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conns.append(s)
            self._pump(down, up)
            self._pump(up, down)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        queue: collections.deque = collections.deque()
        ready = threading.Condition()

        def read() -> None:
            while True:
                try:
                    data = src.recv(CHUNK)
                except OSError:
                    data = b""
                with ready:
                    queue.append((time.monotonic() + self.one_way_s, data))
                    ready.notify()
                if not data:
                    return

        def write() -> None:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, data = queue.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(data)
                except OSError:
                    src.close()
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()


if __name__ == "__main__":
    p = DelayProxy("127.0.0.1", int(sys.argv[1]), one_way_s=float(sys.argv[2]) / 2e3).start()
    print(f"proxy on 127.0.0.1:{p.port}", flush=True)
    threading.Event().wait()
