"""Resolving the external ids agents send (entity, process, session) to rows of one tenant."""

from __future__ import annotations

import uuid

from django.utils import timezone

from memory.models import EXTERNAL_ID_MAX_LENGTH, Entity, Process, Session, Tenant
from memory.services.storable_text import text_problem


class InvalidIdentifier(ValueError):
    """An entity, process or session id an agent sent is unusable; the message says why."""


def validate_external_id(value: object, *, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{label} must be a string, got {type(value).__name__}.")
    cleaned = value.strip()
    if not cleaned:
        raise InvalidIdentifier(f"{label} must not be empty.")
    if len(cleaned) > EXTERNAL_ID_MAX_LENGTH:
        raise InvalidIdentifier(f"{label} must be at most {EXTERNAL_ID_MAX_LENGTH} characters, got {len(cleaned)}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in cleaned):
        raise InvalidIdentifier(f"{label} must not contain control characters.")
    problem = text_problem(cleaned)
    if problem:
        raise InvalidIdentifier(f"{label} {problem}")
    return cleaned


def parse_session_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidIdentifier(f"session_id must be a UUID, got {str(value)[:50]!r}.") from None


def entity_get_or_create(*, tenant: Tenant, external_id: str) -> Entity:
    external_id = validate_external_id(external_id, label="entity_id")
    entity, _ = Entity.objects.get_or_create(tenant=tenant, external_id=external_id)
    return entity


def process_get_or_create(*, tenant: Tenant, external_id: str) -> Process:
    external_id = validate_external_id(external_id, label="process_id")
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id=external_id)
    return process


def session_get_or_create(*, entity: Entity, process: Process, session_uuid: uuid.UUID) -> Session:
    session, _ = Session.objects.get_or_create(
        entity=entity, process=process, uuid=session_uuid, defaults={"started_at": timezone.now()}
    )
    return session
