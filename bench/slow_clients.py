"""Slow clients against the web server: before (gunicorn's threaded worker, -w 2 --threads 4) and as
bin/run starts it now (memori_site/gunicorn.py: the buffering worker).

For each setup and each count of slow clients (half-sent headers trickling a line a second, and
POSTs whose body stops short of its Content-Length, half of each), it prints how long 10 requests
for the login page took meanwhile (a request not answered within 10 s counts as failed) and how long
the server kept one stalled POST open, and what it answered.

    .venv/bin/python bench/slow_clients.py [--counts 8,32,64] [--read-timeout 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.slow_clients import (  # noqa: E402
    CONFIGURED,
    PLAIN_THREADS,
    held_for,
    login_page_times,
    short_bodies,
    slowloris,
    web_server,
)

SETUPS = {"before: gthread -w 2 --threads 4": PLAIN_THREADS, "now: memori_site/gunicorn.py": CONFIGURED}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="8,32,64")
    parser.add_argument("--read-timeout", type=float, default=30.0, help="MEMORI_REQUEST_READ_TIMEOUT")
    parser.add_argument("--hold-limit", type=float, default=60.0, help="stop watching a stalled POST after this")
    args = parser.parse_args()
    counts = [int(count) for count in args.counts.split(",")]
    print(f"load average {os.getloadavg()[0]:.1f}; 10 login pages per row, 10 s client timeout")
    print(f"{'setup':36} {'slow':>5} {'answered':>9} {'median s':>9} {'max s':>7} {'stalled POST open s':>20}  answer")
    for name, gunicorn_args in SETUPS.items():
        with (
            tempfile.TemporaryDirectory() as var,
            web_server(gunicorn_args, Path(var), MEMORI_REQUEST_READ_TIMEOUT=str(args.read_timeout)) as url,
        ):
            for count in counts:
                opened = time.monotonic()
                with slowloris(url, count // 2), short_bodies(url, count - count // 2) as stalled:
                    times = login_page_times(url, 10, timeout=10)
                    held, answer = held_for(stalled[0], args.hold_limit, since=opened)
                done = [t for t in times if t is not None]
                median = f"{statistics.median(done):.3f}" if done else "-"
                slowest = f"{max(done):.3f}" if done else "-"
                said = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(closed)"
                print(f"{name:36} {count:>5} {len(done):>6}/10 {median:>9} {slowest:>7} {held:>20.1f}  {said}")


if __name__ == "__main__":
    main()
