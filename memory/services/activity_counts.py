"""Keeping HourlyExchanges (the dashboard overview's counts) exact: one call where an exchange is recorded, one where
exchanges are removed, both inside the caller's transaction, and a backfill from existing rows.

Counting an exchange is one statement (memory.db.activity.insert_or_add), the first of its hour
or not, and concurrent writers of a new hour cannot both insert it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import islice

from django.db.models import Count, F, QuerySet, Value
from django.db.models.functions import Greatest, TruncHour

from memory.db.activity import insert_or_add
from memory.models import Exchange, HourlyExchanges

BACKFILL_BATCH = 5_000


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def exchange_counted(exchange: Exchange) -> None:
    """Adds a just-created exchange to its hour. Call it in the transaction that created it."""
    key = {"entity": exchange.entity_id, "hour": hour_of(exchange.occurred_at), "process": exchange.process_id}
    insert_or_add(HourlyExchanges, key, {"exchanges": 1})


def exchanges_uncounted(exchanges: QuerySet[Exchange]) -> None:
    """Takes exchanges about to be deleted out of their hours. Call it in the deleting transaction,
    before the delete (a deleted entity or process takes its rows with it: no call needed)."""
    per_hour: Counter = Counter(
        (entity_id, process_id, hour_of(occurred_at))
        for entity_id, process_id, occurred_at in exchanges.values_list("entity_id", "process_id", "occurred_at")
    )
    for (entity_id, process_id, hour), n in per_hour.items():
        # Never below zero, should an exchange have been removed without this call (a raw delete).
        HourlyExchanges.objects.filter(entity_id=entity_id, process_id=process_id, hour=hour).update(
            exchanges=Greatest(F("exchanges") - n, Value(0))
        )


def hourly_exchanges_backfill(exchange_model=Exchange, hourly_model=HourlyExchanges) -> int:
    """Counts every existing exchange into empty hourly rows (the migration passes its historical
    models; the bench calls it after a bulk load). Returns the number of rows written."""
    grouped = (
        exchange_model.objects.annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
        .values("entity_id", "process_id", "hour")
        .annotate(n=Count("*"))
        .order_by()
    )
    rows = (
        hourly_model(entity_id=row["entity_id"], process_id=row["process_id"], hour=row["hour"], exchanges=row["n"])
        for row in grouped.iterator(chunk_size=BACKFILL_BATCH)
    )
    written = 0
    while batch := list(islice(rows, BACKFILL_BATCH)):
        hourly_model.objects.bulk_create(batch)
        written += len(batch)
    return written
