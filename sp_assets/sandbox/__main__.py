"""``python -m sp_assets.sandbox``: serve the SP-API sandbox until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from sp_assets.sandbox.config import SandboxConfig
from sp_assets.sandbox.server import READY_PREFIX, SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sp_assets.sandbox",
        description="Serve an SP-API sandbox that speaks Amazon's wire contract, with a synthetic seller.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only unless --allow-remote)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic seller (same seed, same data)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="scale every rate, delay and expiry by this factor (1 = Amazon's real numbers)")
    parser.add_argument("--orders-per-day", type=int, default=300, help="orders per day in the busiest marketplace")
    parser.add_argument("--faults", default="", help="fault injection, e.g. '5xx=0.2,drop=0.05,429=0.1,expire=0.1,"
                                                      "fatal=first,slow=0.1:2' (off by default)")
    parser.add_argument("--state-dir", default=None, help="directory where report state persists across restarts")
    parser.add_argument("--public-url", default=None, help="base URL put into report document links")
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = SandboxConfig(seed=args.seed, speed=args.speed, orders_per_day=args.orders_per_day,
                               faults=args.faults, state_dir=args.state_dir, host=args.host, port=args.port,
                               allow_remote=args.allow_remote, public_base_url=args.public_url)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    server = SandboxServer(config).start()
    print(READY_PREFIX + server.base_url, flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
