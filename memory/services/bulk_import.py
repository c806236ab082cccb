"""Bulk import of past conversations: many exchanges, each keeping its original timestamps.

All or nothing: the exchanges are recorded oldest first (so each conversation's message positions
follow time) in one transaction, and their augmentation jobs are published once it commits. If
anything fails, in validation or in the database, nothing of the import is stored. And a retry
of the same import (after an error, or an answer lost with the connection) stores nothing twice:
every exchange is idempotent on its `idempotency_key`, or without one, on the key derived from it
(`derived_idempotency_key`: an exchange pinned in time, which an imported one normally is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from memory.models import Tenant
from memory.services.identity import parse_session_uuid, validate_external_id
from memory.services.recording import (
    ExchangeInput,
    RecordedExchange,
    derived_idempotency_key,
    record_exchange,
    validate_messages,
)


def _when(item: ExchangeInput, default: datetime) -> datetime:
    if item.occurred_at is not None:
        return item.occurred_at
    times = [message.created_at for message in item.messages if message.created_at is not None]
    return min(times) if times else default


def _validate_all(items: Sequence[ExchangeInput]) -> None:
    """Refuse the whole import up front if any exchange is unusable, with the message naming it."""
    for item in items:
        validate_messages(item.messages)
        validate_external_id(item.entity_id, label="entity_id")
        validate_external_id(item.process_id, label="process_id")
        if item.session_id:
            parse_session_uuid(item.session_id)


def exchanges_import(*, tenant: Tenant, items: Sequence[ExchangeInput]) -> list[RecordedExchange]:
    """Record every exchange, or none; results come back in the order of ``items``."""
    _validate_all(items)
    now = timezone.now()
    # The key is derived from the exchange as sent, before it is given a time of its own.
    items = [replace(item, idempotency_key=item.idempotency_key or derived_idempotency_key(item)) for item in items]
    order = sorted(range(len(items)), key=lambda index: _when(items[index], now))
    results: list[RecordedExchange | None] = [None] * len(items)
    with transaction.atomic():
        for index in order:
            item = items[index]
            if item.occurred_at is None:
                item = replace(item, occurred_at=_when(item, now))
            results[index] = record_exchange(tenant=tenant, data=item)
    return results  # type: ignore[return-value]
