"""Reads behind the entity list, and the lists of an entity's processes and node types that several
entity pages offer as filters."""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from memory.models import Contradiction, Entity, Exchange, Memory, Node, Process, Provenance, Session, Tenant, Triple

ENTITY_SORTS = {
    "name": "external_id",
    "activity": "-last_activity_at",
    "memories": "-memory_total",
    "triples": "-triple_total",
    "exchanges": "-exchange_total",
    "sessions": "-session_total",
}


def count_of(model, *, fk: str = "entity", **filters) -> Coalesce:
    """A correlated COUNT of ``model`` rows pointing at the outer row through ``fk``. COUNT(*), not
    COUNT(id): PostgreSQL then answers from the foreign key's index alone (about half the time)."""
    subquery = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters).order_by().values(fk).annotate(n=Count("*")).values("n")
    )
    return Coalesce(Subquery(subquery, output_field=IntegerField()), 0)


def entities_with_counts(*, tenant: Tenant, search: str = "", sort: str = "activity") -> QuerySet[Entity]:
    """Entities with their counts (one correlated count each, so rows never multiply)."""
    entities = Entity.objects.filter(tenant=tenant)
    if search:
        entities = entities.filter(external_id__icontains=search)
    return entities.annotate(
        memory_total=count_of(Memory),
        triple_total=count_of(Triple),
        exchange_total=count_of(Exchange),
        session_total=count_of(Session),
        open_contradictions=count_of(Contradiction, resolved_at__isnull=True),
    ).order_by(ENTITY_SORTS.get(sort, ENTITY_SORTS["activity"]), "pk")


def entity_processes(*, entity: Entity) -> list[Process]:
    """Processes that worked for this entity: recorded an exchange or contributed a memory."""
    return list(
        Process.objects.filter(tenant_id=entity.tenant_id)
        .filter(
            Exists(Exchange.objects.filter(entity=entity, process=OuterRef("pk")))
            | Exists(Provenance.objects.filter(entity=entity, process=OuterRef("pk")))
        )
        .order_by("external_id")
    )


def node_types(*, entity: Entity) -> list[str]:
    return list(Node.objects.filter(entity=entity).order_by("node_type").values_list("node_type", flat=True).distinct())
