"""SDK test fixtures: the offline LLM, a live Memori server with an API key, a switchable proxy
(to take the memory server "down" and bring it back) and a private spool folder per test."""

from __future__ import annotations

import http.client
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from memori_site.offline_llm import OfflineLLM
from tests.factories import make_api_key
from tests.support.worker import running_workers


@pytest.fixture
def offline_llm():
    server = OfflineLLM().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def memori_worker(django_db_setup):
    """One real Celery worker (the configured extractor) shared by a module's tests."""
    with running_workers() as pool:
        yield pool.start()


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    path = tmp_path / "spool"
    monkeypatch.setenv("MEMORI_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def memori_env(live_server, transactional_db, tenant, spool_dir, offline_llm, monkeypatch):
    """Environment of a user script: OpenAI at the offline LLM, Memori at the live test server."""
    _, raw_key = make_api_key(tenant)
    env = {
        "OPENAI_BASE_URL": offline_llm.base_url,
        "OPENAI_API_KEY": "x",
        "MEMORI_API_URL": live_server.url,
        "MEMORI_API_KEY": raw_key,
        "MEMORI_SPOOL_DIR": str(spool_dir),
        # The live test server is one process shared with the test: give recall room on slow CI machines.
        "MEMORI_RECALL_TIMEOUT": "20",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


class SwitchableProxy:
    """Forwards HTTP to a target; when `.up` is False it answers 503 like a server that is down."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.up = True
        self.delay = 0.0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.delay:
                    time.sleep(proxy.delay)
                if not proxy.up:
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(proxy.target.hostname, proxy.target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                except OSError:  # the target went away (end of the test session)
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def proxy(live_server):
    server = SwitchableProxy(live_server.url)
    yield server
    server.stop()


def system_prompt_of(request_body: dict) -> str:
    """The system text a model request carried (all system/developer messages, joined)."""
    parts = []
    for message in request_body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            parts.append(content if isinstance(content, str) else str(content))
    return "\n".join(parts)


def subprocess_env(env: dict) -> dict:
    merged = dict(os.environ)
    merged.update(env)
    merged.pop("DJANGO_SETTINGS_MODULE", None)
    return merged
