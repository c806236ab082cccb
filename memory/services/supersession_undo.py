"""Undoing a supersession: an operator says the older memory still holds.

Supersession is automatic (memory/services/supersession.py) and may be wrong: the "newer" value
was about something else, or both hold. Restoring makes the memory current again (``valid_to`` and
``superseded_by`` cleared), audited with who did it and what it was superseded by. The memory that
superseded it stays as it is: both are current until a later claim supersedes them, and the same
pair is not superseded again (only newly stored claims are compared).
"""

from __future__ import annotations

from django.db import transaction

from memory.models import Memory
from memory.services.audit import Actor, audit_record
from memory.services.embedding_store import bump_memory_version


class NotSuperseded(ValueError):
    """The memory is current: there is no supersession to undo."""


def memory_restore(*, memory: Memory, actor: Actor) -> Memory:
    """Make a superseded memory current again; returns it, refreshed."""
    with transaction.atomic():
        locked = Memory.objects.select_for_update().select_related("entity").get(pk=memory.pk)
        if locked.valid_to is None:
            raise NotSuperseded("this memory is current: it was not superseded, so there is nothing to restore.")
        before = {
            "valid_to": locked.valid_to.isoformat(),
            "superseded_by_id": locked.superseded_by_id,
        }
        Memory.objects.filter(pk=locked.pk).update(valid_to=None, superseded_by=None)
        after = {"valid_to": None, "superseded_by_id": None, "reason": "supersession undone"}
        audit_record(actor=actor, action="update", obj=locked, before=before, after=after)
        bump_memory_version(locked.entity_id)
    memory.refresh_from_db()
    return memory
