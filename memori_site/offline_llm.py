"""An offline, deterministic OpenAI-compatible server for the demo and the tests.

    python -m memori_site.offline_llm --port 8100      # then OPENAI_BASE_URL=http://127.0.0.1:8100/v1

Answers POST /v1/chat/completions (plain and SSE-streamed, with tool calls when tools are offered),
POST /v1/responses (plain and streamed) and GET /v1/models. The reply to the last user message gives the
findings of offline_findings.py on the topics it names that the `<memori_context>` block in the system prompt
does not hold yet (so a later agent adds to an earlier one's work). To a question on another topic it answers
with what the block's shared memories say on it, quoted with who noted them; to other requests it says what it
will do ("Let me ... and report back."), greets back, or thanks. Every request is kept (`.requests`, or
GET /_requests) for tests to assert on. Failure injection: `fail_next(status, times)` and `delay` (or
POST /_control {"fail_status", "fail_times", "delay"}).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from memori_site.offline_findings import answer, topics_asked

CONTEXT_RE = re.compile(r"<memori_context>(.*?)</memori_context>", re.S)
# A recalled memory line: "- [date said] (notes) content [process, …]" (memory/recall/block.py).
NOTE_LINE_RE = re.compile(
    r"^- (?:\[[^\]]*\] )?(?P<notes>(?:\([^)]*\) )*)(?P<content>.+?)(?: \[(?P<sources>[^\]]+)\])?$"
)
# Sections whose lines are shared memory another agent may be told about; not the caller's private
# attributes, not raw conversations (episodes, pending work), not the graph's bare relations.
NOTE_SECTIONS = ("## Facts, preferences and skills", "## Just added by other agents")
KEY_WORD_RE = re.compile(r"[a-z0-9][a-z0-9_'-]{2,}")
COMMON_WORDS = frozenset(
    """the and for are was were has have had not but can could would should will shall may might must does did
    doing done this that these those there their them they then than what when where which while who whom whose
    why how with from into onto about after before over under again also just only very more most some any all
    each every other such own same you your yours our ours his her hers its it's i'm i've we're they're let
    please tell know need want like help thanks thank hello still yet now here been being""".split()
)
IMPERATIVES = {
    "analyze", "build", "create", "define", "design", "evaluate", "explain", "find", "help", "implement", "include",
    "list", "plan", "prepare", "provide", "research", "review", "summarize", "synthesize", "test", "use", "write",
    "focus", "compare", "investigate", "assess", "describe", "deploy", "check", "fix", "make", "draft", "send",
    "update", "refund", "reset", "cancel", "set", "add", "remove", "schedule", "book", "look",
}  # fmt: skip
POLITE_OPENING_RE = re.compile(r"^(?:please|(?:can|could|would|will) you(?: please)?|kindly)\s+", re.I)
GREETING_RE = re.compile(
    r"^\s*(?:hello|hi|hey|good (?:morning|afternoon|evening))\b(?:\s+(?:there|all|everyone|team)\b)?[\s,!.]*", re.I
)
NAME_RE = re.compile(r"\b(?i:i'm|i am|my name is|this is)\s+([A-Z][a-z]+)\b")
INTRODUCTION_RE = re.compile(r"(?i:i'm|i am|my name is|this is)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?[.!]?")
MAX_NOTES_QUOTED = 4
_ids = itertools.count(1)


# -- the deterministic "model" -------------------------------------------------------------------
@dataclass(frozen=True)
class TeamNote:
    """One shared memory of the recalled block, with the processes it came from."""

    content: str
    sources: str


def recalled_lines(system_prompt: str) -> list[str]:
    """The recalled lines ("- ...") of the memory block, without their "[date]" labels or the block's headings."""
    lines = [line for block in CONTEXT_RE.findall(system_prompt) for line in block.splitlines()]
    return [re.sub(r"\[[^\]]*\]", " ", line[2:]).strip() for line in lines if line.startswith("- ")]


def team_notes(system_prompt: str) -> list[TeamNote]:
    """The block's current shared memories in rank order (superseded ones left out)."""
    notes, section = [], ""
    for block in CONTEXT_RE.findall(system_prompt):
        for line in block.splitlines():
            if line.startswith("## "):
                section = line
            elif line.startswith("- ") and section.startswith(NOTE_SECTIONS):
                match = NOTE_LINE_RE.match(line.strip())
                if match and "superseded" not in match["notes"]:
                    notes.append(TeamNote(match["content"].strip(), match["sources"] or ""))
    return notes


def key_words(text: str) -> set[str]:
    return {word.strip("'") for word in KEY_WORD_RE.findall(text.lower())} - COMMON_WORDS


def related_notes(request: str, notes: list[TeamNote]) -> list[TeamNote]:
    """The notes that speak to a clause of the request: sharing at least two of its key words and at
    least half of them (all of them when it has one). In the order of the clauses they answer, the
    closest first, then in the block's order."""
    clauses = [key_words(part) for part in re.split(r"[.!?;]+|,\s*(?:and|but)\s+", request)]
    answering = []
    for rank, note in enumerate(notes):
        words = key_words(note.content)
        matches = [
            (-len(clause & words) / len(clause), index)
            for index, clause in enumerate(clauses)
            if clause and len(clause & words) >= min(2, len(clause)) and 2 * len(clause & words) >= len(clause)
        ]
        if matches:
            closeness, index = min(matches)
            answering.append((index, closeness, rank, note))
    return [note for *_, note in sorted(answering, key=lambda row: row[:3])[:MAX_NOTES_QUOTED]]


def quoted(notes: list[TeamNote]) -> str:
    """'From billing_agent: "The customer is located in Lisbon."' for each note: who said what, as said."""
    parts = []
    for note in notes:
        text = note.content if note.content.endswith((".", "!", "?")) else f"{note.content}."
        sources = note.sources.removesuffix(" +") + (" and others" if note.sources.endswith(" +") else "")
        parts.append(f'From {sources}: "{text}"' if sources else f'"{text}"')
    return " ".join(parts)


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def _as_task(sentence: str) -> str:
    """'Research: vector databases' / 'Please draft a reply.' / 'Could you reset my password?' -> the
    task in the assistant's words ('draft a reply'), or '' when the sentence is not a request."""
    label, colon, after = sentence.partition(":")
    if colon and label.strip().lower() in IMPERATIVES:  # "Research: vector databases"
        sentence = f"{label.strip()} {after.strip()}"
    sentence = POLITE_OPENING_RE.sub("", sentence.strip()).rstrip(".!?")
    verb, _, rest = sentence.partition(" ")
    if verb.lower() not in IMPERATIVES or not rest:
        return ""
    rest = re.sub(r"\b(?:me|I)\b", "you", re.sub(r"\b[Mm]y\b", "your", rest))
    return f"{verb.lower()} {rest}"


def promise(user_text: str) -> str:
    """An honest reply to a request the model knows nothing about: what it will do, which is not memory."""
    for sentence in _sentences(user_text):
        task = _as_task(sentence)
        if task:
            return f"Let me {task} and report back."
    if user_text.strip().endswith("?"):
        return "Let me look into that and report back."
    said = [s for s in _sentences(GREETING_RE.sub("", user_text)) if not INTRODUCTION_RE.fullmatch(s.strip())]
    if not said:  # only a greeting, or the speaker's name
        return "How can I help you?"
    return "Thank you, I have noted that." + (" How can I help you?" if GREETING_RE.match(user_text) else "")


def greeting(user_text: str) -> str:
    """'Hello Dana!' for 'Hi, I'm Dana.' or 'My name is Dana.'; '' when the request neither greets nor
    introduces its speaker."""
    name = NAME_RE.search(user_text)
    if GREETING_RE.match(user_text):
        return f"Hello {name[1]}!" if name else "Hello!"
    first = next(iter(_sentences(user_text)), "")
    return f"Hello {name[1]}!" if name and INTRODUCTION_RE.fullmatch(first.strip()) else ""


def answer_from_notes(user_text: str, notes: list[TeamNote]) -> str:
    """A question the block answers: what the team noted, quoted with who noted it (restating it as this
    agent's own finding would store it again under this agent's name)."""
    related = related_notes(user_text, notes)
    if not related:
        return ""
    sources = {note.sources for note in related}
    closing = "Shall I check which of these is current?" if len(sources) > 1 else "Shall I look into anything else?"
    return f"Here is what the team has noted on that. {quoted(related)} {closing}"


def compose_reply(user_text: str, system_prompt: str) -> str:
    """Findings on the topics the request names that the memory block does not hold yet; else, for a
    question, what the block's shared memories say on it (quoted, with their sources); else a promise.
    Deterministic, and built only from the request and the recalled block."""
    topics = topics_asked(user_text)
    findings = answer(topics, "\n".join(recalled_lines(system_prompt)))
    reply = " ".join(findings)
    if not reply and "?" in user_text and not any(_as_task(sentence) for sentence in _sentences(user_text)):
        reply = answer_from_notes(user_text, team_notes(system_prompt))
    if not reply:
        reply = f"Let me look further into {topics[0].name} and report back." if topics else promise(user_text)
    return " ".join(filter(None, (greeting(user_text), reply)))


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
