"""The command line: `python -m tests.support.dashscope_server [--port 0] [--key KEY] ...`."""

from __future__ import annotations

import argparse
import signal
import threading

from .server import DashScopeServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DashScope-compatible loopback server for tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", action="append", help="valid API key (repeatable; default TEST_KEY)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every response")
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=0.0,
        help="stream speed of unscripted replies (0 = as fast as possible)",
    )
    parser.add_argument("--rate-limit", type=int, default=None,
                        help="requests per window and endpoint (chat, embeddings); default: no limit")
    parser.add_argument("--rate-window", type=float, default=60.0, help="the limit's window in seconds")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = DashScopeServer(port=args.port)
    if args.key:
        server.valid_keys = set(args.key)
    server.latency = args.latency_ms / 1000
    server.rate_limit_per_minute = args.rate_limit
    server.rate_window_seconds = args.rate_window
    if args.tokens_per_second > 0:
        server.default_chunk_delay = 1 / args.tokens_per_second
    with server:
        print(f"BASE_URL={server.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0
