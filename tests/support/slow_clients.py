"""Slow and stalled HTTP clients against a real gunicorn, for tests/deploy/test_slow_clients.py and
bench/slow_clients.py.

Two kinds: half-sent headers that keep trickling one header line a second (slowloris), and a POST
whose body stops short of its Content-Length. Meanwhile a well-behaved client asks for the login
page: with a server that gives each connection a thread as soon as it opens, it waits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# As bin/run starts the web server, and as it was started before (gunicorn's threaded worker).
CONFIGURED = ["-c", "memori_site/gunicorn.py"]
PLAIN_THREADS = ["-w", "2", "--threads", "4"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(var_dir: Path, **env) -> dict[str, str]:
    """The environment of a server (and its management commands) of its own: its SQLite database and
    file-system broker in ``var_dir``, whatever database and broker the test run is configured with
    (never the run's own PostgreSQL database, which is not the test database)."""
    environ = {**os.environ, "DEBUG": "1", "MEMORI_VAR_DIR": str(var_dir), **env}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        environ.pop(name, None)
    return environ


@contextlib.contextmanager
def web_server(gunicorn_args: list[str], var_dir: Path, **env) -> Iterator[str]:
    """A migrated database in ``var_dir`` and gunicorn on a free port; yields its URL."""
    environ = server_environment(var_dir, LOG_LEVEL="WARNING", **env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=environ, check=True, capture_output=True
    )
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "memori_site.wsgi", *gunicorn_args, "-b", f"127.0.0.1:{port}"]
    log = (var_dir / "web.log").open("wb")
    server = subprocess.Popen(
        command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/api/v1/health/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: {(var_dir / 'web.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


@contextlib.contextmanager
def slowloris(url: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections sending a GET's headers one line a second, never the blank line."""
    sockets = []
    for _ in range(count):
        sock = _connect(url)
        sock.sendall(b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(sock)
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield sockets
    finally:
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()


@contextlib.contextmanager
def short_bodies(url: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` POSTs announcing 1,000 bytes of body and sending one."""
    sockets = []
    for _ in range(count):
        sock = _connect(url)
        sock.sendall(
            b"POST /api/v1/exchanges/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer not-a-key\r\nContent-Length: 1000\r\n\r\n{"
        )
        sockets.append(sock)
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def login_page_times(url: str, attempts: int, timeout: float) -> list[float | None]:
    """Seconds each GET /login/ took, None for one that failed or took longer than ``timeout``."""
    times: list[float | None] = []
    for _ in range(attempts):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url + "/login/", timeout=timeout) as response:
                response.read()
                times.append(time.monotonic() - started if response.status == 200 else None)
        except OSError:
            times.append(None)
    return times


def held_for(sock: socket.socket, limit: float, since: float) -> tuple[float, bytes]:
    """How long after ``since`` (a time.monotonic()) the server closed a stalled connection (up to
    ``limit`` s), and what it said on closing."""
    sock.settimeout(max(0.1, since + limit - time.monotonic()))
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except OSError:
        pass
    return time.monotonic() - since, received
