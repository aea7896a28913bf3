"""`hambajuba serve` (the engine alone, behind a port) and `hambajuba bench remote`.

    hambajuba serve [--host 127.0.0.1] [--port 7860] [--model auto|preview|sdxl-turbo]
                    [--size 512] [--token-file F]
    hambajuba perform TRACK --engine HOST:PORT [--token-file F]   (the window, elsewhere)

serve binds 127.0.0.1 unless told otherwise, and refuses any other address
without a token (a file whose first line is the shared secret; it never
crosses the network: the client answers an HMAC challenge). `--model null`
serves a constant image, for measuring the transport. docs/protocol.md.
"""
from __future__ import annotations

import argparse
import json
import sys

SERVE_MODELS = ("auto", "preview", "sdxl-turbo", "null")


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "serve", help="run the engine alone, for a window or render elsewhere (--engine HOST:PORT)",
        description="Serve the image engine over TCP to one client at a time (the window's "
                    "`perform --engine HOST:PORT`, or `render --engine HOST:PORT`).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default %(default)s; any other needs --token-file)")
    p.add_argument("--port", type=int, default=7860, help="TCP port (default %(default)s; 0: any)")
    p.add_argument("--model", choices=SERVE_MODELS, default="auto",
                   help="auto = SDXL-Turbo when its weights are here, else the untrained preview; "
                        "null = a constant image (benchmarks)")
    p.add_argument("--size", type=int, default=512, help="image size (multiple of 64, 128..1024)")
    p.add_argument("--token-file", metavar="F", default=None,
                   help="file whose first line is the shared secret clients must prove they know")
    p.add_argument("--device", default=None, help="torch device (default: best)")
    p.set_defaults(func=run_serve)
    return p


def add_bench_remote_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "remote", help="remote engine transport: overhead per frame and frames/s (null engine)",
        description="A null-engine `serve` and a client on loopback: encode + transfer + decode "
                    "per frame (p99), frames/s, and frames/s through a 30 ms round-trip proxy.")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--quality", type=int, default=85, help="JPEG quality (default %(default)s)")
    p.add_argument("--in-flight", type=int, default=32,
                   help="frames in flight (default %(default)s: enough for 30 ms at ~1000 fps)")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(func=run_bench_remote)
    return p


def _err(line: str) -> None:
    print(f"hambajuba serve: {line}", file=sys.stderr, flush=True)


def run_serve(args) -> int:
    from graph_runtime.remote.server import ServeError, Server, check_bind, read_token

    if args.size % 64 or not 128 <= args.size <= 1024:
        _err(f"--size {args.size}: a multiple of 64 in 128..1024")
        return 2
    if not 0 <= args.port <= 65535:
        _err(f"--port {args.port}: use 0..65535")
        return 2
    try:
        token = read_token(args.token_file) if args.token_file else None
        check_bind(args.host, token)
    except ServeError as e:
        _err(str(e))
        return 2
    engine = _make_engine(args)
    if engine is None:
        return 1
    try:
        server = Server(engine, host=args.host, port=args.port, token=token,
                        say=lambda line: print(line, flush=True))
    except ServeError as e:
        _err(str(e))
        return 1
    print(f"listening on {server.host}:{server.port}  ({engine.description}; "
          f"{'token required' if token else 'no token: loopback only'})", flush=True)
    _term_as_interrupt()   # a service manager's SIGTERM cleans up like Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        engine.close()
    return 0


def _term_as_interrupt() -> None:
    import signal

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)


def _make_engine(args):
    """The engine, saying what it loads and, every few seconds, that it still is: torch's
    import, the weights and a compile can take a minute before `listening`."""
    import threading
    import time

    from graph_runtime.engine.errors import EngineError
    from graph_runtime.render.engines import create_engine

    print(f"loading the {args.model} engine ({args.size} px, {args.device or 'CUDA if present'}): "
          "importing torch, reading weights, compiling...", flush=True)
    done, t0 = threading.Event(), time.monotonic()

    def still_loading() -> None:
        while not done.wait(LOADING_EVERY_S):
            print(f"  still loading the engine: {time.monotonic() - t0:.0f} s", flush=True)

    threading.Thread(target=still_loading, name="hbj-serve-loading", daemon=True).start()
    try:
        engine = create_engine(args.model, args.size, args.device)
    except EngineError as e:
        _err(str(e))
        return None
    finally:
        done.set()
    print(f"engine ready in {time.monotonic() - t0:.1f} s", flush=True)
    return engine


LOADING_EVERY_S = 5.0  # how often serve says it is still loading


def run_bench_remote(args) -> int:
    from graph_runtime.remote.bench import bench_remote

    if not 1 <= args.in_flight <= 32:
        print("hambajuba bench remote: --in-flight must be 1..32", file=sys.stderr)
        return 2
    r = bench_remote(size=args.size, quality=args.quality, in_flight=args.in_flight,
                     seconds=args.seconds)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"remote engine transport, null engine {r['size']}x{r['size']}, {r['codec']}, loopback "
          f"({r['cpus']} CPUs, load {r['load_avg']}):\n"
          f"  overhead per frame (encode + transfer + decode): p50 {r['overhead_p50_ms']:.2f} ms, "
          f"p99 {r['overhead_p99_ms']:.2f} ms (target <= 4)\n"
          f"  {r['fps']:.0f} frames/s with {r['in_flight']} in flight (target >= 150); "
          f"{r['fps_in_flight_2']:.0f} with 2\n"
          f"  {r['fps_with_30ms_rtt']:.0f} frames/s through a 30 ms round trip "
          f"(measured {r['measured_rtt_ms']:.1f} ms): {100 * r['rtt_ratio']:.0f}% (target >= 90%)\n"
          f"  {r['fps_with_30ms_rtt_in_flight_2']:.0f} frames/s there with 2 in flight "
          "(the window's default: enough for a ~30 fps GPU engine)")
    return 0


def add_engine_options(p) -> None:
    """`--engine HOST:PORT` and `--token-file F` for render (perform has its own)."""
    p.add_argument("--engine", metavar="HOST:PORT", default=None,
                   help="render on `hambajuba serve` at HOST:PORT (lossless frames) instead of "
                        "this machine; --model/--device are then the server's")
    p.add_argument("--token-file", metavar="F", default=None,
                   help="with --engine: file holding the server's shared secret")
    p.add_argument("--in-flight", type=int, default=4, metavar="N",
                   help="with --engine: frames on the wire at once, 1..32 (default %(default)s); "
                        "every frame still comes back, in order")
    p.add_argument("--engine-codec", choices=("raw", "jpeg"), default="raw",
                   help="with --engine: raw RGBA (default: lossless, frame-exact) or JPEG q85 "
                        "(opt-in: about 10x fewer bytes, not frame-exact)")


def engine_token(args, problems: list[str]) -> bytes | None:
    """Check --engine / --token-file (appending problems); the token's bytes or None."""
    address = getattr(args, "engine", None)
    token_file = getattr(args, "token_file", None)
    if token_file and not address:
        problems.append("--token-file needs --engine HOST:PORT")
        return None
    if address:
        from graph_runtime.remote.connect import RemoteError, parse_address

        try:
            parse_address(address)
        except RemoteError as e:
            problems.append(f"--engine: {e.message}")
    if not token_file:
        return None
    from graph_runtime.remote.server import ServeError, read_token

    try:
        return read_token(token_file)
    except ServeError as e:
        problems.append(str(e))
        return None
