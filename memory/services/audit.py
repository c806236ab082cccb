"""The audit trail of changes people make to memory (admin users and API keys)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from memory.models import ApiKey, AuditEntry, Memory, Triple

AUDITED_FIELDS = {
    "memory": ("kind", "content", "owner_process_id", "entity_id", "mention_count", "is_contradicted"),
    "triple": ("content", "subject_id", "predicate_id", "object_id", "entity_id", "mention_count"),
}


@dataclass(frozen=True)
class Actor:
    """Who made a change: a dashboard/admin user or an API key."""

    label: str
    user_id: int | None = None
    api_key: ApiKey | None = None

    @classmethod
    def from_user(cls, user) -> Actor:
        return cls(label=f"user:{user.get_username()}", user_id=user.pk)

    @classmethod
    def from_api_key(cls, api_key: ApiKey) -> Actor:
        return cls(label=f"api_key:{api_key.name}", api_key=api_key)


def snapshot(obj: models.Model) -> dict:
    object_type = obj._meta.model_name
    return {field: getattr(obj, field) for field in AUDITED_FIELDS[object_type]}


def audit_record(
    *, actor: Actor, action: str, obj: Memory | Triple, before: dict | None, after: dict | None
) -> AuditEntry:
    return AuditEntry.objects.create(
        tenant_id=obj.entity.tenant_id,
        entity_id=obj.entity_id,
        actor_user_id=actor.user_id,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        before=before,
        after=after,
    )
