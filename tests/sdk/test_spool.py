"""The memory layer never breaks the user's LLM call: with the memory server down or slow, calls go through
without recall, and the exchanges are spooled to disk and delivered once the server answers again, none twice."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.signals import request_started
from openai import OpenAI

from memori import Memori
from memory.models import Exchange, Message
from tests.sdk.conftest import subprocess_env
from tests.support.database_faults import messages_refused

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    from memori import Memori
    from openai import OpenAI

    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_456", process_id="triage_agent")
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "I was just charged twice on my card."}],
    )
    print(response.choices[0].message.content)
    """
)


def spooled(spool_dir: Path) -> list[Path]:
    return sorted(spool_dir.glob("*/*.json"))


def run_script(source: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", source],
        env=subprocess_env({**env, "PYTHONPATH": str(REPO)}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_calls_succeed_while_the_server_is_down_and_are_delivered_later_once(
    memori_env, offline_llm, proxy, spool_dir, monkeypatch, caplog, tmp_path
):
    monkeypatch.setenv("MEMORI_API_URL", proxy.url)
    proxy.up = False
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_456", process_id="triage_agent")
    messages = [{"role": "system", "content": "You are a triage agent."}, {"role": "user", "content": "Hello"}]

    with caplog.at_level(logging.WARNING, logger="memori"):
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Still there?"}])
        assert not mem.flush(timeout=1)

    assert first.choices[0].message.content == "Hello! How can I help you?"
    assert offline_llm.received()[0]["messages"] == messages  # no recall, nothing injected
    assert "recall failed" in caplog.text
    assert len(spooled(spool_dir)) == 2
    assert not Exchange.objects.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    for path in spooled(spool_dir):
        shutil.copy(path, kept / path.name)

    proxy.up = True
    assert mem.flush(timeout=60)

    assert Exchange.objects.count() == 2
    assert not spooled(spool_dir)
    # A copy delivered again (a crash between delivery and unlink, or two processes racing) is not a duplicate.
    folder = spool_dir / next(p.name for p in spool_dir.iterdir() if p.is_dir())
    for path in kept.iterdir():
        shutil.copy(path, folder / path.name)
    assert mem.flush(timeout=60)
    assert Exchange.objects.count() == 2
    assert Message.objects.filter(content="Hello").count() == 1


def test_a_script_that_exits_while_the_server_is_down_loses_nothing(memori_env, proxy, spool_dir):
    env = {**memori_env, "MEMORI_API_URL": proxy.url}
    proxy.up = False

    down = run_script(SCRIPT, env)

    assert down.returncode == 0, down.stderr
    assert down.stdout.startswith("The customer's card ending in 4242 was charged twice for the $49 Pro plan")
    assert "spooling" in down.stderr
    assert len(spooled(spool_dir)) == 1
    assert not Exchange.objects.exists()

    proxy.up = True
    later = run_script("from memori import Memori\nMemori()\n", env)

    assert later.returncode == 0, later.stderr
    assert not spooled(spool_dir)
    exchange = Exchange.objects.get()
    first_message = Message.objects.filter(exchange=exchange).order_by("position").first()
    assert first_message.content == "I was just charged twice on my card."


def test_a_slow_memory_server_does_not_hold_the_call(memori_env, offline_llm, proxy, monkeypatch, caplog):
    monkeypatch.setenv("MEMORI_API_URL", proxy.url)
    monkeypatch.setenv("MEMORI_RECALL_TIMEOUT", "0.5")
    proxy.delay = 3
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_456", process_id="triage_agent")

    with caplog.at_level(logging.WARNING, logger="memori"):
        response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])

    assert response.choices[0].message.content == "Hello! How can I help you?"
    assert "recall failed" in caplog.text
    proxy.delay = 0
    assert mem.flush(timeout=60)
    assert Exchange.objects.count() == 1


def test_the_first_call_after_an_outage_sees_what_was_said_during_it_delivered_once(
    memori_env, offline_llm, proxy, spool_dir, monkeypatch
):
    monkeypatch.setenv("MEMORI_API_URL", proxy.url)
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_456", process_id="triage_agent")

    def ask(text: str) -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])

    ask("Hello, I need help with a payment.")
    assert mem.flush(timeout=60)
    proxy.up = False
    ask("My order number is 1042.")
    ask("I was charged twice for it.")
    assert not mem.flush(timeout=1)
    assert len(spooled(spool_dir)) == 2

    proxy.up = True
    ask("Can you refund the second charge?")  # at once: the recorder is still backing off

    sent = [m["content"] for m in offline_llm.received()[-1]["messages"] if m["role"] == "user"]
    assert sent[-1] == "Can you refund the second charge?"
    during_the_outage = ["My order number is 1042.", "I was charged twice for it."]
    assert [text for text in sent if text in during_the_outage] == during_the_outage
    assert mem.flush(timeout=60)
    assert not spooled(spool_dir)
    assert Exchange.objects.count() == 4
    for text in ("My order number is 1042.", "I was charged twice for it.", "Can you refund the second charge?"):
        assert Message.objects.filter(content=text).count() == 1


def test_a_spooled_exchange_the_server_refuses_moves_to_rejected_once_and_the_rest_are_delivered(
    memori_env, proxy, spool_dir, monkeypatch
):
    monkeypatch.setenv("MEMORI_API_URL", proxy.url)
    posts = []

    def count_posts(sender, environ, **kwargs):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/api/v1/exchanges/":
            posts.append(environ["PATH_INFO"])

    request_started.connect(count_posts, dispatch_uid="count-exchange-posts")
    try:
        proxy.up = False
        mem = Memori()
        mem.attribution(entity_id="customer_456", process_id="triage_agent")
        refused = mem.record([{"role": "user", "content": "half an emoji \udfff"}])  # a lone surrogate: a 400
        delivered = mem.record([{"role": "user", "content": "The invoice INV-7 was paid."}])
        assert not mem.flush(timeout=2)  # the server is down: both wait in the spool
        assert len(spooled(spool_dir)) == 2

        proxy.up = True
        assert mem.flush(timeout=30)
        time.sleep(2)  # a recorder that kept retrying the refused one would post it again meanwhile
    finally:
        request_started.disconnect(dispatch_uid="count-exchange-posts")

    assert not spooled(spool_dir)
    assert [path.stem for path in spool_dir.glob("*/rejected/*.json")] == [refused]
    assert "surrogate" in mem._recordings.rejection(refused)
    assert mem._recordings.result(delivered)["created"] is True
    assert list(Message.objects.values_list("content", flat=True)) == ["The invoice INV-7 was paid."]
    assert len(posts) == 2


@pytest.fixture
def database_refusing_poison(transactional_db):
    """A database that refuses one message after validation passed it (a trigger): a real failure,
    the same however often the message is sent, on SQLite and PostgreSQL."""
    with messages_refused("poison"):
        yield


def test_a_lasting_conflict_moves_to_rejected_and_stops_holding_back_the_process(
    memori_env, database_refusing_poison, spool_dir, monkeypatch
):
    monkeypatch.setenv("MEMORI_CONFLICT_RETRY_SECONDS", "1")
    mem = Memori()
    mem.attribution(entity_id="customer_456", process_id="triage_agent")

    refused = mem.record([{"role": "user", "content": "poison"}])
    delivered = mem.record([{"role": "user", "content": "The invoice INV-7 was paid."}])

    assert mem.flush(timeout=60)
    assert not spooled(spool_dir)
    assert [path.stem for path in spool_dir.glob("*/rejected/*.json")] == [refused]
    assert "409" in mem._recordings.rejection(refused) or "conflict" in mem._recordings.rejection(refused).lower()
    assert mem._recordings.result(delivered)["created"] is True
    assert list(Message.objects.values_list("content", flat=True)) == ["The invoice INV-7 was paid."]
