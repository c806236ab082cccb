"""Reads used by the API and the dashboard. Every selector is scoped to one tenant."""

from __future__ import annotations

from django.db.models import QuerySet

from memory.models import Entity, Memory, Tenant, Triple


def entity_list(*, tenant: Tenant) -> QuerySet[Entity]:
    return Entity.objects.filter(tenant=tenant)


def entity_get(*, tenant: Tenant, external_id: str) -> Entity | None:
    return entity_list(tenant=tenant).filter(external_id=external_id).first()


def memory_list(*, tenant: Tenant) -> QuerySet[Memory]:
    return Memory.objects.filter(entity__tenant=tenant).select_related("entity", "owner_process", "first_process")


def shared_memories_of(*, entity: Entity) -> QuerySet[Memory]:
    return Memory.objects.filter(entity=entity, owner_process__isnull=True)


def triple_list(*, tenant: Tenant) -> QuerySet[Triple]:
    return Triple.objects.filter(entity__tenant=tenant).select_related("entity", "subject", "predicate", "object")
