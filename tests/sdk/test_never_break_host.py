"""One guard keeps the memory layer from breaking the host: a failure inside it is logged once and
swallowed (`memori._safe.never_break_host`), on every path the SDK routes through it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openai import OpenAI

from memori import Memori
from memori._safe import OncePerInterval, never_break_host
from memori.llm import ChatPlan, ChatStreamAccumulator
from memori.recall import CallContext
from memory.models import Exchange, Message


def test_a_failure_inside_the_guard_is_logged_once_and_swallowed(caplog):
    result = "fallback"
    with caplog.at_level(logging.DEBUG, logger="memori"):
        with never_break_host("recall failed ({err}); calling the model without memory"):
            result = {}["missing"]

    assert result == "fallback"
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "memori: recall failed ('missing'); calling the model without memory")
    ]


def test_nothing_is_logged_when_the_block_succeeds(caplog):
    with caplog.at_level(logging.DEBUG, logger="memori"), never_break_host("could not record ({err})"):
        value = 1

    assert value == 1
    assert not caplog.records


def test_an_interrupt_is_not_swallowed():
    with pytest.raises(KeyboardInterrupt), never_break_host("never seen ({err})"):
        raise KeyboardInterrupt


def test_a_throttled_failure_warns_once_per_interval_and_then_only_at_debug_level(caplog):
    throttle = OncePerInterval(60)

    with caplog.at_level(logging.DEBUG, logger="memori"):
        for _ in range(3):
            with never_break_host("recall failed ({err})", throttle=throttle):
                raise ConnectionError("down")

    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_a_failure_that_is_a_bug_is_logged_with_its_traceback(caplog):
    with caplog.at_level(logging.ERROR, logger="memori"):
        with never_break_host("unexpected error ({err})", level=logging.ERROR, traceback=True):
            raise TypeError("bad payload")

    assert caplog.records[0].exc_info[0] is TypeError


def test_braces_in_what_is_logged_are_not_a_template(caplog):
    with caplog.at_level(logging.WARNING, logger="memori"), never_break_host("exchange {key}: {err}"):
        raise ValueError("x")

    assert caplog.records[0].getMessage() == "memori: exchange {key}: x"


# -- the paths the SDK routes through the guard ------------------------------------------------------


class _Exploding:
    """A reply object whose every attribute read fails, as an unexpected client version might."""

    def __getattr__(self, name):
        raise RuntimeError(f"no {name} here")


def test_a_reply_that_cannot_be_read_for_recording_is_still_returned_to_the_caller(caplog):
    plan = ChatPlan(memory=None, kwargs={"model": "m"}, new_forms=[], context=CallContext())
    response = _Exploding()

    with caplog.at_level(logging.WARNING, logger="memori"):
        returned = plan.finish(response, 0.0, is_async=False)

    assert returned is response
    assert "could not record this call (no choices here)" in caplog.text


def test_an_unreadable_stream_chunk_is_skipped(caplog):
    accumulator = ChatStreamAccumulator()

    with caplog.at_level(logging.DEBUG, logger="memori"):
        accumulator.add(_Exploding())

    assert accumulator.reply() == {"role": "assistant", "content": ""}
    assert "unreadable stream chunk skipped" in caplog.text


@pytest.fixture
def nonsense_server() -> Iterator[str]:
    """A memory server that answers recall with a history the SDK cannot read."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"block": "", "history": [42]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_recall_answer_the_sdk_cannot_use_leaves_the_call_untouched(
    nonsense_server, offline_llm, spool_dir, monkeypatch, caplog
):
    monkeypatch.setenv("OPENAI_BASE_URL", offline_llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    client = OpenAI(max_retries=0)
    mem = Memori(api_key="k", api_url=nonsense_server).llm.register(client)
    mem.attribution(entity_id="customer_456", process_id="triage_agent")
    messages = [{"role": "user", "content": "Hello"}]

    with caplog.at_level(logging.WARNING, logger="memori"):
        response = client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    assert response.choices[0].message.content == "Hello! How can I help you?"
    assert offline_llm.received()[0]["messages"] == messages
    assert "could not prepare memory for this call" in caplog.text


def test_the_delivery_thread_survives_an_exchange_it_cannot_send(memori_env, caplog):
    mem = Memori()
    mem.attribution(entity_id="customer_456", process_id="triage_agent")

    with caplog.at_level(logging.ERROR, logger="memori"):
        mem.record([{"role": "user", "content": "lost"}], model=object())  # not JSON: cannot be sent
        mem.record([{"role": "user", "content": "The invoice INV-7 was paid."}])
        assert mem.flush(timeout=60)

    assert "unexpected error delivering exchange" in caplog.text
    assert caplog.records[0].exc_info[0] is TypeError
    assert Exchange.objects.count() == 1
    assert list(Message.objects.values_list("content", flat=True)) == ["The invoice INV-7 was paid."]
