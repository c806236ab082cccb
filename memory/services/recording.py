"""Recording exchanges: the messages of one LLM call, stored with their augmentation job.

The job row is written in the same transaction as the exchange (outbox) and published to the
broker once the transaction commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Least
from django.utils import timezone

from memory.models import AugmentationJob, Conversation, Entity, Exchange, Message, Process, Session, Tenant
from memory.services.activity_counts import exchange_counted
from memory.services.identity import (
    entity_get_or_create,
    parse_session_uuid,
    process_get_or_create,
    session_get_or_create,
)
from memory.services.publishing import publish_jobs_on_commit
from memory.services.storable_text import json_text_problem, text_problem

VALID_ROLES = frozenset(choice for choice, _ in Message.Role.choices)
MAX_MESSAGE_CHARS = 200_000
DERIVED_KEY_PREFIX = "derived-"  # + 64 hex digits: within the idempotency key's 100 characters


class InvalidExchange(ValueError):
    """The exchange cannot be recorded as sent; the message says what to fix."""


@dataclass(frozen=True)
class MessageInput:
    role: str
    content: str = ""
    name: str = ""
    tool_calls: list | None = None
    tool_call_id: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class ExchangeInput:
    entity_id: str
    process_id: str
    messages: Sequence[MessageInput]
    session_id: str | uuid.UUID | None = None
    model: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float | None = None
    idempotency_key: str | None = None
    recall_event_id: int | None = None
    occurred_at: datetime | None = None


@dataclass
class RecordedExchange:
    exchange: Exchange
    job: AugmentationJob
    created: bool
    messages: list[Message] = field(default_factory=list)


def validate_messages(messages: Sequence[MessageInput]) -> None:
    if not messages:
        raise InvalidExchange("messages must contain at least one message.")
    for index, message in enumerate(messages):
        if message.role not in VALID_ROLES:
            allowed = ", ".join(sorted(VALID_ROLES))
            raise InvalidExchange(f"messages[{index}].role {message.role!r} is not one of: {allowed}.")
        if len(message.content) > MAX_MESSAGE_CHARS:
            raise InvalidExchange(f"messages[{index}].content is longer than {MAX_MESSAGE_CHARS} characters.")
        for name in ("content", "name", "tool_call_id"):
            problem = text_problem(getattr(message, name) or "")
            if problem:
                raise InvalidExchange(f"messages[{index}].{name} {problem}")
        problem = json_text_problem(message.tool_calls)
        if problem:
            raise InvalidExchange(f"messages[{index}].tool_calls {problem}")


def derived_idempotency_key(data: ExchangeInput) -> str | None:
    """The key of an exchange sent without one, so that a retry (after a timeout, a 503, an answer
    lost with the connection) does not store it twice: a hash of what identifies it as sent (entity,
    process, session, model, original time, messages). Only for an exchange pinned in time
    (`occurred_at`, or a `created_at` on every message): without a time, the same messages sent
    again later are a new exchange, and only a client key makes their retry safe."""
    if data.occurred_at is None and not all(message.created_at for message in data.messages):
        return None
    identity = {
        "entity": data.entity_id.strip(),
        "process": data.process_id.strip(),
        "session": str(data.session_id or ""),
        "model": data.model,
        "occurred_at": _utc(data.occurred_at),
        "messages": [
            [m.role, m.content, m.name, m.tool_calls, m.tool_call_id or "", _utc(m.created_at)] for m in data.messages
        ],
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{DERIVED_KEY_PREFIX}{digest}"


def _utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None and moment.tzinfo else str(moment or "")


def record_exchange(*, tenant: Tenant, data: ExchangeInput) -> RecordedExchange:
    """Store an exchange and queue its augmentation. Idempotent on ``data.idempotency_key``, or
    when there is none, on the key derived from the exchange (`derived_idempotency_key`)."""
    validate_messages(data.messages)
    if not data.idempotency_key:
        data = replace(data, idempotency_key=derived_idempotency_key(data))
    session_uuid = parse_session_uuid(data.session_id) if data.session_id else uuid.uuid4()
    entity = entity_get_or_create(tenant=tenant, external_id=data.entity_id)
    process = process_get_or_create(tenant=tenant, external_id=data.process_id)
    existing = _existing_exchange(entity, data.idempotency_key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            session = session_get_or_create(entity=entity, process=process, session_uuid=session_uuid)
            recorded = _write_exchange(entity, process, session, data)
    except IntegrityError:
        # A concurrent retry of the same idempotency key won the race: answer with its exchange.
        existing = _existing_exchange(entity, data.idempotency_key)
        if existing is None:
            raise
        return existing
    return recorded


def _existing_exchange(entity: Entity, idempotency_key: str | None) -> RecordedExchange | None:
    if not idempotency_key:
        return None
    exchange = (
        Exchange.objects.select_related("augmentation_job", "session")
        .filter(entity=entity, idempotency_key=idempotency_key)
        .first()
    )
    if exchange is None:
        return None
    return RecordedExchange(exchange=exchange, job=exchange.augmentation_job, created=False)


def _write_exchange(entity: Entity, process: Process, session: Session, data: ExchangeInput) -> RecordedExchange:
    now = timezone.now()
    occurred_at = data.occurred_at or now
    conversation, _ = Conversation.objects.get_or_create(
        session=session,
        defaults={"entity": entity, "process": process, "started_at": occurred_at, "last_message_at": occurred_at},
    )
    # Lock the conversation so concurrent exchanges of one session get distinct positions.
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    first_position = conversation.message_count
    exchange = Exchange.objects.create(
        conversation=conversation,
        entity=entity,
        process=process,
        session=session,
        idempotency_key=data.idempotency_key or None,
        model=data.model[:200],
        prompt_tokens=data.prompt_tokens,
        completion_tokens=data.completion_tokens,
        latency_ms=data.latency_ms,
        recall_event_id=data.recall_event_id,
        occurred_at=occurred_at,
        recorded_at=now,
    )
    exchange_counted(exchange)
    messages = Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                exchange=exchange,
                position=first_position + offset,
                role=message.role,
                content=message.content,
                name=message.name[:200],
                tool_calls=message.tool_calls,
                tool_call_id=message.tool_call_id[:200],
                created_at=message.created_at or occurred_at,
            )
            for offset, message in enumerate(data.messages)
        ]
    )
    last_at = max(occurred_at, conversation.last_message_at)
    # Imported or spooled history arrives late and out of order: a session and its conversation start
    # at their earliest message, not when they were first recorded.
    started = Least("started_at", Value(occurred_at, output_field=DateTimeField()))
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + len(messages), last_message_at=last_at, started_at=started
    )
    Session.objects.filter(pk=session.pk).update(last_activity_at=last_at, started_at=started)
    Entity.objects.filter(pk=entity.pk).update(last_activity_at=now)
    job = AugmentationJob.objects.create(exchange=exchange, entity=entity, process=process, queued_at=now)
    publish_jobs_on_commit([job.pk])
    return RecordedExchange(exchange=exchange, job=job, created=True, messages=messages)
