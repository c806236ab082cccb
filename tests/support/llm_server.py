"""A tiny OpenAI-compatible server for tests: POST /v1/chat/completions, on 127.0.0.1:<free port>.

Replies are queued per test: ``server.reply(content=...)`` (a JSON string or any text),
``server.reply(status=500)``, ``server.reply(content=..., delay=2.0)``; when the queue is empty the
``default`` reply is used. Every request body is kept in ``server.requests`` (thread-safe), so a
test can check what the model was shown. Works for a worker subprocess too (it is a real socket).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    content: str = '{"memories": [], "triples": []}'
    status: int = 200
    delay: float = 0.0


class LLMServer:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reply(self, content: str | dict | None = None, *, status: int = 200, delay: float = 0.0, times: int = 1):
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False)
        with self._lock:
            for _ in range(times):
                self.replies.append(
                    Reply(content=content if content is not None else Reply.content, status=status, delay=delay)
                )

    def set_default(self, content: str | dict | None = None, *, status: int = 200, delay: float = 0.0) -> None:
        if isinstance(content, dict):
            content = json.dumps(content, ensure_ascii=False)
        self.default = Reply(content=content if content is not None else Reply.content, status=status, delay=delay)

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            return self.replies.popleft() if self.replies else self.default


def _handler_for(server: LLMServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            reply = server.next_reply(body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                error = {"message": f"test server error {reply.status}", "type": "server_error", "code": None}
                return self._send(reply.status, {"error": error})
            return self._send(200, _completion(body.get("model", "test-model"), reply.content))

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
            pass

    return Handler


def _completion(model: str, content: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


@contextmanager
def running_llm_server() -> Iterator[LLMServer]:
    """Use from a test module's own fixture: ``with running_llm_server() as server: yield server``."""
    server = LLMServer().start()
    try:
        yield server
    finally:
        server.stop()
