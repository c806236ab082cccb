"""Bulk import of past conversations: many exchanges, each keeping its original timestamps.

Exchanges are recorded oldest first (so each conversation's message positions follow time) in
chunks; every chunk commits on its own and its augmentation jobs are published to the broker right
after that commit, so a large history is queued in batches instead of one burst at the very end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from memory.models import Tenant
from memory.services.identity import parse_session_uuid, validate_external_id
from memory.services.recording import ExchangeInput, RecordedExchange, record_exchange, validate_messages

IMPORT_CHUNK_SIZE = 50


def _when(item: ExchangeInput, default: datetime) -> datetime:
    if item.occurred_at is not None:
        return item.occurred_at
    times = [message.created_at for message in item.messages if message.created_at is not None]
    return min(times) if times else default


def _validate_all(items: Sequence[ExchangeInput]) -> None:
    """Refuse the whole import up front if any exchange is unusable (nothing half-imported)."""
    for item in items:
        validate_messages(item.messages)
        validate_external_id(item.entity_id, label="entity_id")
        validate_external_id(item.process_id, label="process_id")
        if item.session_id:
            parse_session_uuid(item.session_id)


def exchanges_import(*, tenant: Tenant, items: Sequence[ExchangeInput]) -> list[RecordedExchange]:
    """Record every exchange; results come back in the order of ``items``."""
    _validate_all(items)
    now = timezone.now()
    order = sorted(range(len(items)), key=lambda index: _when(items[index], now))
    results: list[RecordedExchange | None] = [None] * len(items)
    for start in range(0, len(order), IMPORT_CHUNK_SIZE):
        chunk = order[start : start + IMPORT_CHUNK_SIZE]
        with transaction.atomic():
            for index in chunk:
                item = items[index]
                if item.occurred_at is None:
                    item = _with_occurred_at(item, _when(item, now))
                results[index] = record_exchange(tenant=tenant, data=item)
    return results  # type: ignore[return-value]


def _with_occurred_at(item: ExchangeInput, occurred_at: datetime) -> ExchangeInput:
    from dataclasses import replace

    return replace(item, occurred_at=occurred_at)
