"""`mem.remember(...)` over the API: add a memory by hand, idempotently, credited to a process."""

from __future__ import annotations

from memory.extraction.normalize import content_hash
from memory.models import Memory, MemoryKind, Tenant
from memory.services.audit import Actor
from memory.services.editing import InvalidMemoryEdit, memory_create
from memory.services.identity import entity_get_or_create, process_get_or_create


def memory_get_or_create(
    *, tenant: Tenant, entity_id: str, kind: str, content: str, actor: Actor, process_id: str | None = None
) -> tuple[Memory, bool]:
    """Create the memory (audited) or return the identical one the entity already has.

    Attributes belong to ``process_id``; for shared kinds the process, if given, is recorded as the
    one that contributed it (provenance with source "api").
    """
    if kind == MemoryKind.ATTRIBUTE and not process_id:
        raise InvalidMemoryEdit("attributes need a process_id: the process they belong to.")
    entity = entity_get_or_create(tenant=tenant, external_id=entity_id)
    process = process_get_or_create(tenant=tenant, external_id=process_id) if process_id else None
    owner = process if kind == MemoryKind.ATTRIBUTE else None
    existing = _identical(entity, owner, content)
    if existing is not None:
        return existing, False
    try:
        memory = memory_create(
            entity=entity, kind=kind, content=content, actor=actor, owner_process=owner, process=process, source="api"
        )
    except InvalidMemoryEdit:
        existing = _identical(entity, owner, content)  # a concurrent remember of the same content won
        if existing is None:
            raise
        return existing, False
    return memory, True


def _identical(entity, owner, content: str) -> Memory | None:
    return (
        Memory.objects.select_related("entity", "owner_process", "first_process")
        .filter(entity=entity, owner_process=owner, content_hash=content_hash(content.strip()))
        .first()
    )
