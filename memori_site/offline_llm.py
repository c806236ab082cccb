"""An offline, deterministic OpenAI-compatible server for the demo and the tests.

    python -m memori_site.offline_llm --port 8100      # then OPENAI_BASE_URL=http://127.0.0.1:8100/v1

Answers POST /v1/chat/completions (plain and SSE-streamed, with tool calls when tools are offered),
POST /v1/responses (plain and streamed) and GET /v1/models. The reply to the last user message gives the
findings of offline_findings.py on the topics it names that the `<memori_context>` block in the system prompt
does not hold yet (so a later agent adds to an earlier one's work); a request on another topic gets a promise
("Let me ... and report back.") and a question about the block's key terms. Every request is kept (`.requests`,
or GET /_requests) for tests to assert on. Failure injection: `fail_next(status, times)` and
`delay` (or POST /_control {"fail_status", "fail_times", "delay"}).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from memori_site.offline_findings import answer, topics_asked

CONTEXT_RE = re.compile(r"<memori_context>(.*?)</memori_context>", re.S)
WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]+")
IMPERATIVES = {
    "analyze", "build", "create", "define", "design", "evaluate", "explain", "find", "help", "implement", "include",
    "list", "plan", "prepare", "provide", "research", "review", "summarize", "synthesize", "test", "use", "write",
    "focus", "compare", "investigate", "assess", "describe", "deploy", "check", "fix", "make", "draft",
}  # fmt: skip
STOPWORDS = {
    "about", "after", "agent", "agents", "also", "and", "are", "based", "been", "before", "being", "but", "can",
    "context", "could", "does", "each", "every", "for", "from", "have", "into", "memori", "memory", "more", "not",
    "other", "over", "said", "session", "shared", "should", "some", "such", "task", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "through", "under", "user", "was", "were", "what",
    "when", "where", "which", "while", "will", "with", "would", "you", "your", "findings", "facts", "fact",
    "recalled", "previous", "work", "assistant", "asked", "question", "pending", "recent", "exchanges", "just",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
}  # fmt: skip
GREETING_RE = re.compile(r"^\s*(?:hello|hi|hey|good (?:morning|afternoon|evening))\b", re.I)
MAX_ECHOED_TERMS = 5
_ids = itertools.count(1)


# -- the deterministic "model" -------------------------------------------------------------------
def recalled_lines(system_prompt: str) -> list[str]:
    """The recalled lines ("- ...") of the memory block, without their "[date]" labels or the block's headings."""
    lines = [line for block in CONTEXT_RE.findall(system_prompt) for line in block.splitlines()]
    return [re.sub(r"\[[^\]]*\]", " ", line[2:]).strip() for line in lines if line.startswith("- ")]


def key_terms(system_prompt: str) -> list[str]:
    """A few distinct names and acronyms of the memory block, in order of appearance."""
    names: list[str] = []
    seen: set[str] = set()
    for line in recalled_lines(system_prompt):
        for match in WORD_RE.finditer(line):
            word, before = match.group(), line[: match.start()].rstrip()
            acronym = word.isupper() and len(word) > 1
            name = word[0].isupper() and len(word) > 3 and before and before[-1] not in ".:!?"
            lowered = word.lower()
            if (acronym or name) and lowered not in seen and lowered not in STOPWORDS:
                seen.add(lowered)
                names.append(word)
    return names[:MAX_ECHOED_TERMS]


def promise(user_text: str) -> str:
    """An honest reply to a request the model knows nothing about: what it will do, which is not memory."""
    for sentence in re.split(r"(?<=[.!?])\s+", user_text.strip()):
        label, colon, after = sentence.partition(":")
        if colon and label.lower() in IMPERATIVES:  # "Research: vector databases"
            sentence = f"{label} {after.strip()}"
        verb, _, rest = sentence.strip().rstrip(".!").partition(" ")
        if verb.lower() in IMPERATIVES and rest:
            rest = re.sub(r"\b(?:me|I)\b", "you", re.sub(r"\b[Mm]y\b", "your", rest))
            return f"Let me {verb.lower()} {rest} and report back."
    if user_text.strip().endswith("?"):
        return "Let me look into that and report back."
    if GREETING_RE.match(user_text):
        return "Hello! How can I help you?"
    return "Thank you, I have noted that."


def compose_reply(user_text: str, system_prompt: str) -> str:
    """Findings on the topics the request names that the memory block does not hold yet; else a promise,
    with a question about the block's terms (a question, so that augmenting it stores no new fact)."""
    topics = topics_asked(user_text)
    findings = answer(topics, "\n".join(recalled_lines(system_prompt)))
    if findings:
        return " ".join(findings)
    if topics:
        reply = f"Let me look further into {topics[0].name} and report back."
    else:
        reply = promise(user_text)
    terms = key_terms(system_prompt)
    if terms:
        listed = terms[0] if len(terms) == 1 else f"{', '.join(terms[:-1])} and {terms[-1]}"
        reply += f" Shall I build on what the team already knows about {listed}?"
    return reply


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _count(text: str) -> int:
    return len(text.split())


# -- HTTP ----------------------------------------------------------------------------------------
class OfflineLLM:
    """The server object tests hold: start(), .base_url, .requests, fail_next(), delay, stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[dict] = []
        self.delay = 0.0
        self._fail_status = 0
        self._fail_times = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}/v1"

    def start(self) -> OfflineLLM:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="offline-llm", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._fail_status, self._fail_times = status, times

    def received(self, path: str = "/v1/chat/completions") -> list[dict]:
        """Request bodies received on `path`, oldest first."""
        with self._lock:
            return [r["body"] for r in self.requests if r["path"] == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _take_failure(self) -> int:
        with self._lock:
            if self._fail_times > 0:
                self._fail_times -= 1
                return self._fail_status
            return 0


def _make_handler(server: OfflineLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "x"}]})
            elif self.path == "/_requests":
                with server._lock:
                    self._json(200, {"requests": list(server.requests)})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            if self.path == "/_control":
                with server._lock:
                    server.delay = float(body.get("delay", server.delay))
                    server._fail_status = int(body.get("fail_status", server._fail_status))
                    server._fail_times = int(body.get("fail_times", server._fail_times))
                self._json(200, {"ok": True})
                return
            with server._lock:
                server.requests.append({"path": self.path, "body": body})
            if server.delay:
                time.sleep(server.delay)
            status = server._take_failure()
            if status:
                self._json(status, {"error": {"message": "injected failure", "type": "server_error", "code": None}})
            elif self.path == "/v1/chat/completions":
                self._chat(body)
            elif self.path == "/v1/responses":
                self._responses(body)
            else:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

        # chat completions
        def _chat(self, body: dict) -> None:
            messages = body.get("messages") or []
            if not isinstance(messages, list) or not messages:
                self._json(400, {"error": {"message": "messages is required", "type": "invalid_request_error"}})
                return
            system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
            last = messages[-1]
            tools = body.get("tools") or []
            message: dict[str, Any]
            if last.get("role") == "tool":
                content = f"Here is what I found. The tool answered: {_text(last.get('content'))}"
                message = {"role": "assistant", "content": content}
            elif tools and body.get("tool_choice") != "none":
                user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
                name = tools[0].get("function", {}).get("name", "tool")
                call = {"id": f"call_{next(_ids)}", "type": "function",
                        "function": {"name": name, "arguments": json.dumps({"input": user})}}  # fmt: skip
                message = {"role": "assistant", "content": None, "tool_calls": [call]}
            else:
                user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
                message = {"role": "assistant", "content": compose_reply(user, system)}
            prompt_tokens = sum(_count(_text(m.get("content"))) for m in messages)
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": _count(message.get("content") or ""),
                "total_tokens": prompt_tokens + _count(message.get("content") or ""),
            }
            model = body.get("model") or "offline"
            ident, created = f"chatcmpl-{next(_ids)}", int(time.time())
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            if not body.get("stream"):
                self._json(200, {
                    "id": ident, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                })  # fmt: skip
                return
            base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
            events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
            if message.get("tool_calls"):
                call = message["tool_calls"][0]
                events.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [{
                    "index": 0, "id": call["id"], "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"]},
                }]}}]})  # fmt: skip
            else:
                for piece in re.findall(r"\S+\s*", message["content"]):
                    events.append({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
            events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            if (body.get("stream_options") or {}).get("include_usage"):
                events.append({**base, "choices": [], "usage": usage})
            self._sse([(None, e) for e in events], done=True)

        # responses
        def _responses(self, body: dict) -> None:
            input_value = body.get("input")
            if isinstance(input_value, str):
                user = input_value
            else:
                items = input_value or []
                user = next((_text(i.get("content")) for i in reversed(items) if i.get("role") == "user"), "")
            text = compose_reply(user, body.get("instructions") or "")
            ident = f"resp_{next(_ids)}"
            prompt_tokens = _count(user) + _count(body.get("instructions") or "")
            response = {
                "id": ident, "object": "response", "created_at": int(time.time()), "model": body.get("model") or "x",
                "status": "completed", "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "output": [{"type": "message", "id": f"msg_{next(_ids)}", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": text, "annotations": []}]}],
                "usage": {"input_tokens": prompt_tokens, "output_tokens": _count(text),
                          "total_tokens": prompt_tokens + _count(text),
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}},
            }  # fmt: skip
            if not body.get("stream"):
                self._json(200, response)
                return
            started = {**response, "status": "in_progress", "output": []}
            events = [("response.created", {"type": "response.created", "sequence_number": 0, "response": started})]
            for n, piece in enumerate(re.findall(r"\S+\s*", text), start=1):
                events.append(("response.output_text.delta", {
                    "type": "response.output_text.delta", "sequence_number": n, "item_id": response["output"][0]["id"],
                    "output_index": 0, "content_index": 0, "delta": piece, "logprobs": [],
                }))  # fmt: skip
            events.append(("response.completed", {"type": "response.completed", "sequence_number": len(events),
                                                  "response": response}))  # fmt: skip
            self._sse(events, done=False)

        # plumbing
        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, events: list[tuple[str | None, dict]], *, done: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for name, event in events:
                prefix = f"event: {name}\n" if name else ""
                self.wfile.write(f"{prefix}data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            if done:
                self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Offline OpenAI-compatible server (deterministic replies).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument("--fail-status", type=int, default=0, help="answer the next --fail-times requests with this")
    parser.add_argument("--fail-times", type=int, default=0)
    args = parser.parse_args(argv)
    server = OfflineLLM(args.host, args.port)
    server.delay = args.delay
    if args.fail_status:
        server.fail_next(args.fail_status, args.fail_times or 1)
    print(f"Offline LLM listening on {server.base_url} (set OPENAI_BASE_URL to it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
