"""Reads behind the recall playground: what its entity and process fields offer."""

from __future__ import annotations

from dataclasses import dataclass

from memory.models import Entity, Process, Tenant

CHOICES_SHOWN = 200


@dataclass(frozen=True)
class RecallChoices:
    entities: list[str]  # external ids, the most recently active first
    processes: list[str]  # external ids, by name


def recall_choices(tenant: Tenant) -> RecallChoices:
    entities = Entity.objects.filter(tenant=tenant).order_by("-last_activity_at")
    processes = Process.objects.filter(tenant=tenant).order_by("external_id")
    return RecallChoices(
        entities=list(entities.values_list("external_id", flat=True)[:CHOICES_SHOWN]),
        processes=list(processes.values_list("external_id", flat=True)[:CHOICES_SHOWN]),
    )


def entity_named(tenant: Tenant, external_id: str) -> Entity | None:
    """The tenant's entity of that id, for the page's navigation; None when there is none (yet)."""
    return Entity.objects.filter(tenant=tenant, external_id=external_id).first() if external_id else None
