"""A recall never waits behind writers: while another transaction holds what augmentation holds
(SQLite's one write lock; on PostgreSQL, the rows of the memories it counts), a wrapped call still
gets its memory block at once, and the recall event is stored once the writer is done."""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction
from django.db.models import F
from openai import OpenAI

from memori import Memori
from memory.models import Memory, RecallEvent, RecallHit
from tests.reliability.web_process import wait_until
from tests.sdk.conftest import system_prompt_of

FINDINGS = [
    "The payment gateway retries failed card charges three times.",
    "Refunds for duplicate card charges are issued within five business days.",
]
QUESTION = "When is the refund for a duplicate card charge issued?"
HOLD_SECONDS = 4.0


def hold_like_augmentation(entity_id: str, held: threading.Event, seconds: float) -> None:
    """What a batch of augmentation holds while it stores: a write transaction that locked and
    updated the entity's memories (their mention counters)."""
    try:
        with transaction.atomic():
            ids = list(Memory.objects.filter(entity__external_id=entity_id).values_list("pk", flat=True))
            list(Memory.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk", flat=True))
            Memory.objects.filter(pk__in=ids).update(mention_count=F("mention_count"))
            held.set()
            time.sleep(seconds)
    finally:
        connection.close()


def test_a_call_gets_its_memory_at_once_while_a_writer_holds_the_database(memori_env, offline_llm, monkeypatch):
    monkeypatch.setenv("MEMORI_RECALL_TIMEOUT", "2")  # the SDK's default
    client = OpenAI(max_retries=0)
    mem = Memori().llm.register(client)
    mem.attribution(entity_id="customer_42", process_id="billing_agent")
    for finding in FINDINGS:
        mem.remember(finding)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUESTION}])  # warm
    assert mem.flush(timeout=30)
    held = threading.Event()
    writer = threading.Thread(target=hold_like_augmentation, args=("customer_42", held, HOLD_SECONDS))
    writer.start()
    assert held.wait(10)

    started = time.monotonic()
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": QUESTION}])
    elapsed = time.monotonic() - started
    writer_was_holding = writer.is_alive()
    writer.join()

    assert writer_was_holding
    assert elapsed < 1.0
    assert "within five business days" in system_prompt_of(offline_llm.received()[-1])
    stored = wait_until(
        lambda: RecallHit.objects.filter(event__query=QUESTION).values("event").distinct().count() == 2, timeout=20
    )
    assert stored, list(RecallEvent.objects.values_list("pk", "query"))
    refund = Memory.objects.get(content__contains="within five business days")
    assert refund.recall_count == 2
