"""Resolving a contradiction: an operator deletes one side, corrects one side, or keeps both.

Every change to a memory or triple goes through the audited editing service, and the contradiction
itself is marked resolved (when, by whom, how: an audit entry of its own) instead of vanishing with
a deleted side. The record matters after the fact: a handoff gap is "a contradiction was live at the
time of the call", which needs ``detected_at`` and ``resolved_at`` to survive the resolution.
Sides that no other open contradiction involves lose their ``is_contradicted`` flag (recall
penalises flagged memories), and the entity's memory version is bumped so recall caches refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from memory.models import Contradiction, Memory, Triple
from memory.services.audit import Actor, audit_record, snapshot
from memory.services.editing import memory_delete, memory_update, triple_delete
from memory.services.embedding_store import bump_memory_version

SIDES = ("a", "b")
MAX_NOTE_CHARS = 1000


class ResolutionAction(StrEnum):
    DELETE = "delete"  # delete the given side, keep the other
    EDIT = "edit"  # correct the given side's text (memories only)
    KEEP_BOTH = "keep_both"  # not a real conflict: both sides stay


class InvalidResolution(ValueError):
    """The requested resolution is not possible; the message says what to fix."""


@dataclass(frozen=True)
class _Side:
    label: str
    memory: Memory | None
    triple: Triple | None

    @property
    def target(self) -> Memory | Triple | None:
        return self.memory or self.triple

    @property
    def field(self) -> str:
        return f"{'memory' if self.memory else 'triple'}_{self.label}"

    def describe(self) -> str:
        target = self.target
        process = getattr(target.first_process, "external_id", "") if target.first_process_id else ""
        said_by = f" ({process})" if process else ""
        return f"side {self.label.upper()}{said_by}: “{target.content[:200]}”"


def contradiction_resolve(
    *,
    contradiction: Contradiction,
    actor: Actor,
    action: str,
    side: str = "",
    content: str = "",
    note: str = "",
) -> Contradiction:
    """Apply ``action`` to ``side`` ("a" or "b"; unused for keep_both) and mark the contradiction
    resolved. Raises InvalidResolution (or the editing service's InvalidMemoryEdit) with a message
    for the operator; nothing is changed then."""
    try:
        action = ResolutionAction(action)
    except ValueError:
        raise InvalidResolution(f"action must be one of {', '.join(ResolutionAction)}.") from None
    if contradiction.resolved_at is not None:
        raise InvalidResolution("this contradiction is already resolved.")
    sides = {
        label: _Side(label, getattr(contradiction, f"memory_{label}"), getattr(contradiction, f"triple_{label}"))
        for label in SIDES
    }
    chosen = sides.get(side)
    if action != ResolutionAction.KEEP_BOTH and (chosen is None or chosen.target is None):
        raise InvalidResolution("side must be 'a' or 'b', and that side must still exist.")
    with transaction.atomic():
        # Two operators resolving at once: the second one waits here, then finds it resolved.
        current = Contradiction.objects.select_for_update().filter(pk=contradiction.pk).values("resolved_at").first()
        if current is None:
            raise InvalidResolution("this contradiction no longer exists (one of its sides was deleted).")
        if current["resolved_at"] is not None:
            raise InvalidResolution("this contradiction is already resolved.")
        if action == ResolutionAction.DELETE:
            how = f"Deleted {chosen.describe()}"
            # Detach first: the side's foreign key cascades, and the record must outlive the side.
            setattr(contradiction, chosen.field, None)
            _mark_resolved(contradiction, actor, how, note)
            if chosen.memory is not None:
                memory_delete(memory=chosen.memory, actor=actor)
            else:
                triple_delete(triple=chosen.triple, actor=actor)
            kept = [s for s in sides.values() if s is not chosen]
        elif action == ResolutionAction.EDIT:
            if chosen.memory is None:
                raise InvalidResolution("only a memory's text can be edited; delete a relation instead.")
            if (content or "").strip() == chosen.memory.content:
                raise InvalidResolution("the new text is the same as the old one; change it or keep both sides.")
            before = chosen.describe()
            memory_update(memory=chosen.memory, actor=actor, content=content)
            _mark_resolved(contradiction, actor, f"Edited {before} to “{chosen.memory.content[:200]}”", note)
            kept = list(sides.values())
        else:
            _mark_resolved(contradiction, actor, "Kept both sides (not a conflict)", note)
            kept = list(sides.values())
        _clear_flags(contradiction, [s for s in kept if s.target is not None], actor)
    return contradiction


def _mark_resolved(contradiction: Contradiction, actor: Actor, how: str, note: str) -> None:
    note = (note or "").strip()[:MAX_NOTE_CHARS]
    before = {"resolved_at": None, "resolution_note": contradiction.resolution_note}
    contradiction.resolved_at = timezone.now()
    contradiction.resolution_note = f"{how} by {actor.label}." + (f" Note: {note}" if note else "")
    contradiction.save()
    after = {"resolved_at": contradiction.resolved_at.isoformat(), "resolution_note": contradiction.resolution_note}
    audit_record(actor=actor, action="update", obj=contradiction, before=before, after=after)


def _clear_flags(contradiction: Contradiction, kept: list[_Side], actor: Actor) -> None:
    """Unflag kept sides that no other open contradiction names; audit memories' flag changes."""
    open_ = Contradiction.objects.filter(resolved_at__isnull=True).exclude(pk=contradiction.pk)
    changed = False
    for side in kept:
        target = side.target
        model = "memory" if side.memory is not None else "triple"
        still_open = open_.filter(Q(**{f"{model}_a": target}) | Q(**{f"{model}_b": target})).exists()
        if still_open or not target.is_contradicted:
            continue
        before = snapshot(target)
        target.is_contradicted = False
        target.save(update_fields=["is_contradicted"])
        if side.memory is not None:
            audit_record(actor=actor, action="update", obj=target, before=before, after=snapshot(target))
        changed = True
    if changed:
        bump_memory_version(contradiction.entity_id)
