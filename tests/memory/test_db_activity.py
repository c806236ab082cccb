"""memory/db/activity: a counter added to in one statement, on the configured database (the suite
runs on SQLite and again on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from memory.db.activity import insert_or_add
from memory.models import Entity, HourlyExchanges, Process

pytestmark = pytest.mark.django_db

HOUR = datetime(2026, 3, 1, 14, tzinfo=UTC)


def _key(tenant) -> dict:
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    process = Process.objects.create(tenant=tenant, external_id="research_agent")
    return {"entity": entity.pk, "hour": HOUR, "process": process.pk}


def _counts() -> list[tuple]:
    return list(HourlyExchanges.objects.values_list("hour", "exchanges"))


def test_insert_or_add_inserts_the_first_count_of_a_key_and_adds_the_next(tenant):
    key = _key(tenant)

    insert_or_add(HourlyExchanges, key, {"exchanges": 1})
    assert _counts() == [(HOUR, 1)]

    insert_or_add(HourlyExchanges, key, {"exchanges": 2})
    assert _counts() == [(HOUR, 3)]

    insert_or_add(HourlyExchanges, {**key, "hour": HOUR.replace(hour=15)}, {"exchanges": 1})
    assert sorted(_counts()) == [(HOUR, 3), (HOUR.replace(hour=15), 1)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite writes one transaction at a time")
@pytest.mark.django_db(transaction=True)
def test_two_transactions_counting_a_new_key_at_once_make_one_row_with_both(tenant):
    key = _key(tenant)
    first_counted, release = threading.Event(), threading.Event()

    def count_and_hold():
        try:
            with transaction.atomic():
                insert_or_add(HourlyExchanges, key, {"exchanges": 1})
                first_counted.set()
                release.wait(10)
        finally:
            connection.close()

    def count():
        try:
            insert_or_add(HourlyExchanges, key, {"exchanges": 1})
        finally:
            connection.close()

    holder = threading.Thread(target=count_and_hold)
    holder.start()
    try:
        assert first_counted.wait(10)
        second = threading.Thread(target=count)
        second.start()  # waits on the first transaction's new row, then adds to it
        release.set()
        second.join(10)
    finally:
        release.set()
        holder.join()

    assert _counts() == [(HOUR, 2)]
