"""Changes people make to memory (admin, dashboard, API): validated, re-embedded, audited.

A memory a person adds is stored through the same write path as augmentation's
(memory/services/storing.py), then audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from memory.extraction.normalize import content_hash, normalize_text
from memory.models import Entity, Memory, MemoryKind, Process, Triple
from memory.services.audit import Actor, audit_record, snapshot
from memory.services.embedding_store import bump_memory_version, embed_for_storage
from memory.services.storing import Mention, memory_mention

MAX_MEMORY_CHARS = 2000


class InvalidMemoryEdit(ValueError):
    """The requested change is not possible; the message says what to fix."""


class MemoryEditConflict(InvalidMemoryEdit):
    """The edit is well formed but the stored memories refuse it (the same content exists already,
    or the memory cannot take that kind): the API answers 409."""


def _clean_content(content: str) -> str:
    cleaned = (content or "").strip()
    if not cleaned:
        raise InvalidMemoryEdit("content must not be empty.")
    if len(cleaned) > MAX_MEMORY_CHARS:
        raise InvalidMemoryEdit(f"content must be at most {MAX_MEMORY_CHARS} characters.")
    if "\x00" in cleaned:
        raise InvalidMemoryEdit("content must not contain NUL characters.")
    if not normalize_text(cleaned):
        raise InvalidMemoryEdit("content must contain some words.")
    return cleaned


def _check_kind_owner(kind: str, owner_process: Process | None) -> None:
    if kind not in MemoryKind.values:
        raise InvalidMemoryEdit(f"kind must be one of {', '.join(MemoryKind.values)}.")
    if (kind == MemoryKind.ATTRIBUTE) != (owner_process is not None):
        raise InvalidMemoryEdit("attributes need a process, and only attributes may have one.")


def memory_create(
    *,
    entity: Entity,
    kind: str,
    content: str,
    actor: Actor,
    owner_process: Process | None = None,
    process: Process | None = None,
    source: str = "admin",
) -> Memory:
    """A new memory, or ``InvalidMemoryEdit`` if the entity has it already. ``process``, if given,
    is credited with it (first process and a provenance row of ``source``)."""
    content = _clean_content(content)
    _check_kind_owner(kind, owner_process)
    mention = Mention(process=process, mentioned_at=timezone.now(), source=source)
    with transaction.atomic():
        stored = memory_mention(entity=entity, kind=kind, content=content, mention=mention, owner_process=owner_process)
        if not stored.created:  # rolls back the mention just added to the existing memory
            raise MemoryEditConflict("this entity already has a memory with the same content.")
        audit_record(actor=actor, action="create", obj=stored.obj, before=None, after=snapshot(stored.obj))
        bump_memory_version(entity.pk)
    return stored.obj


def memory_update(*, memory: Memory, actor: Actor, content: str | None = None, kind: str | None = None) -> Memory:
    before = snapshot(memory)
    if kind is not None:
        try:
            _check_kind_owner(kind, memory.owner_process)
        except InvalidMemoryEdit as exc:
            raise MemoryEditConflict(str(exc)) from None
        memory.kind = kind
    if content is not None and content.strip() != memory.content:
        memory.content = _clean_content(content)
        memory.normalized = normalize_text(memory.content)
        memory.content_hash = content_hash(memory.content)
        (memory.embedding,), memory.embedding_model = embed_for_storage([memory.content])
    try:
        with transaction.atomic():
            memory.save()
            audit_record(actor=actor, action="update", obj=memory, before=before, after=snapshot(memory))
            bump_memory_version(memory.entity_id)
    except IntegrityError:
        raise MemoryEditConflict("this entity already has a memory with the same content.") from None
    return memory


def memory_delete(*, memory: Memory, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=memory, before=snapshot(memory), after=None)
        memory.delete()
        bump_memory_version(memory.entity_id)


def triple_delete(*, triple: Triple, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="delete", obj=triple, before=snapshot(triple), after=None)
        triple.delete()
        bump_memory_version(triple.entity_id)
