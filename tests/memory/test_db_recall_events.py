"""memory/db/recall_events.py: the statements behind recall, on the configured database (the suite
runs on SQLite and again on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from memory import db
from memory.models import Entity, Memory, Process, RecallEvent, RecallHit, Triple
from memory.services import dedup
from memory.services.augmentation import job_augment
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement: PostgreSQL's CTEs")
ON_SQLITE = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def recalled_rows(tenant) -> tuple[Entity, list[int], list[int]]:
    """An entity with two memories and a triple to recall."""
    job = record(
        tenant, user="fact: Payments go through Stripe\nfact: Refunds take five days\ntriple: payments | use | Stripe"
    ).job
    assert job_augment(job.pk).status == "done"
    return (
        job.entity,
        list(Memory.objects.values_list("pk", flat=True)),
        list(Triple.objects.values_list("pk", flat=True)),
    )


def new_event(entity: Entity) -> RecallEvent:
    process = Process.objects.get(external_id="research_agent")
    return RecallEvent(
        entity=entity, process=process, query="payments", limit=10, token_budget=700, created_at=timezone.now()
    )


def hit(event: RecallEvent, rank: int, *, memory_id=None, triple_id=None) -> RecallHit:
    kind = "triple" if triple_id else "fact"
    return RecallHit(
        event=event, rank=rank, memory_id=memory_id, triple_id=triple_id, kind=kind, content=f"hit {rank}",
        dense_score=0.5, lexical_score=0.25, fused_score=0.4, contributing_processes=["research_agent"],
    )  # fmt: skip


def test_rows_of_reads_the_querysets_rows_as_plain_tuples(tenant):
    for name in ("research_agent", "billing_agent"):
        Process.objects.create(tenant=tenant, external_id=name)
    queryset = Process.objects.filter(tenant=tenant).order_by("pk").values_list("pk", "external_id")

    assert db.rows_of(queryset) == [tuple(row) for row in queryset]


def test_an_event_is_stored_in_one_statement_on_postgresql_only():
    assert db.event_in_one_statement("default") == (connection.vendor == "postgresql")


@ON_POSTGRESQL
def test_insert_event_with_hits_stores_the_event_its_hits_and_counts_each_rows_usage_once(tenant):
    entity, memory_ids, triple_ids = recalled_rows(tenant)
    event, now = new_event(entity), timezone.now()
    hits = [hit(event, 1, memory_id=memory_ids[0]), hit(event, 2, triple_id=triple_ids[0])]

    event_id = db.insert_event_with_hits(
        "default", event, hits, {Memory: memory_ids, Triple: triple_ids}, now, nowait=True
    )

    stored = RecallEvent.objects.get(pk=event_id)
    assert (stored.query, stored.token_budget) == ("payments", 700)
    assert list(stored.hits.order_by("rank").values_list("rank", "memory_id", "triple_id", "content")) == [
        (1, memory_ids[0], None, "hit 1"),
        (2, None, triple_ids[0], "hit 2"),
    ]
    assert set(Memory.objects.values_list("recall_count", "last_recalled_at")) == {(1, now)}
    assert set(Triple.objects.values_list("recall_count", "last_recalled_at")) == {(1, now)}


@ON_POSTGRESQL
def test_insert_event_with_hits_adds_hits_to_an_event_saved_before(tenant):
    entity, memory_ids, _ = recalled_rows(tenant)
    event = new_event(entity)
    event.save()

    event_id = db.insert_event_with_hits(
        "default", event, [hit(event, 1, memory_id=memory_ids[1])], {Memory: memory_ids[1:]}, timezone.now(),
        nowait=False,
    )  # fmt: skip

    assert event_id == event.pk
    assert list(RecallHit.objects.values_list("event_id", "memory_id")) == [(event.pk, memory_ids[1])]
    assert dict(Memory.objects.values_list("pk", "recall_count")) == {memory_ids[0]: 0, memory_ids[1]: 1}


def holding(lock) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """Run `lock` (a write) in another thread's transaction, held until released."""
    held, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock()
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(timeout=30)
    return held, release, thread


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_insert_event_with_hits_without_waiting_fails_at_once_on_a_counter_another_transaction_holds(tenant):
    entity, memory_ids, _ = recalled_rows(tenant)
    _, release, thread = holding(lambda: list(Memory.objects.filter(pk=memory_ids[0]).select_for_update()))
    try:
        with pytest.raises(OperationalError) as failed:
            db.insert_event_with_hits(
                "default", new_event(entity), [], {Memory: memory_ids}, timezone.now(), nowait=True
            )
    finally:
        release.set()
        thread.join(timeout=30)

    assert db.is_lock_wait(failed.value, "default")
    assert not RecallEvent.objects.exists()
    assert set(Memory.objects.values_list("recall_count", flat=True)) == {0}


@ON_SQLITE
@pytest.mark.django_db(transaction=True)
def test_write_lock_wait_gives_up_on_sqlites_write_lock_after_the_moment_it_is_given(tenant):
    entity, _, _ = recalled_rows(tenant)
    _, release, thread = holding(lambda: Process.objects.create(tenant=tenant, external_id="writer"))
    try:
        with pytest.raises(OperationalError) as failed, db.write_lock_wait("default", 0.05):
            new_event(entity).save()
    finally:
        release.set()
        thread.join(timeout=30)

    assert db.is_lock_wait(failed.value, "default")
    with db.write_lock_wait("default", 0.05):  # and the configured wait is back once it is free
        new_event(entity).save()
    assert RecallEvent.objects.count() == 1
