"""Reads used by the API and the dashboard. Every selector is scoped to one tenant."""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from memory.models import (
    AugmentationJob,
    Conversation,
    Entity,
    Exchange,
    Memory,
    Message,
    Process,
    Provenance,
    RecallEvent,
    Session,
    Tenant,
    Triple,
)


def tenants_for(user) -> QuerySet[Tenant]:
    """The tenants a signed-in user (dashboard, admin) may see: all for a superuser, else their memberships."""
    if user.is_superuser:
        return Tenant.objects.all()
    return Tenant.objects.filter(members=user)


def entity_list(*, tenant: Tenant) -> QuerySet[Entity]:
    return Entity.objects.filter(tenant=tenant)


def entity_get(*, tenant: Tenant, external_id: str) -> Entity | None:
    return entity_list(tenant=tenant).filter(external_id=external_id).first()


def memory_list(*, tenant: Tenant) -> QuerySet[Memory]:
    return Memory.objects.filter(entity__tenant=tenant).select_related("entity", "owner_process", "first_process")


def triple_list(*, tenant: Tenant) -> QuerySet[Triple]:
    return Triple.objects.filter(entity__tenant=tenant).select_related("entity", "subject", "predicate", "object")


# --- API reads (issue 7) ----------------------------------------------------------------------
def recall_event_ids_in(*, tenant: Tenant, ids: set[int]) -> set[int]:
    """The subset of ``ids`` that are recall events of this tenant."""
    if not ids:
        return set()
    return set(RecallEvent.objects.filter(entity__tenant=tenant, pk__in=ids).values_list("pk", flat=True))


def jobs_of(*, tenant: Tenant, ids: list[int]) -> list[AugmentationJob]:
    return list(AugmentationJob.objects.filter(entity__tenant=tenant, pk__in=ids).order_by("pk"))


def job_get(*, tenant: Tenant, job_id: int) -> AugmentationJob | None:
    return AugmentationJob.objects.filter(entity__tenant=tenant, pk=job_id).first()


def _mentions_prefetch(queryset) -> Prefetch:
    return Prefetch(
        "mentions",
        queryset=queryset.select_related("process", "session").order_by("mentioned_at", "pk"),
    )


def memory_detail_list(*, tenant: Tenant) -> QuerySet[Memory]:
    """Memories with their provenance (who said it, when, in which session) prefetched."""
    return memory_list(tenant=tenant).prefetch_related(_mentions_prefetch(Provenance.objects.all()))


def memory_contributed_by(queryset: QuerySet[Memory], *, process_external_id: str) -> QuerySet[Memory]:
    """Memories a process contributed: it owns the attribute, or it mentioned the memory."""
    mentioned = Provenance.objects.filter(memory=OuterRef("pk"), process__external_id=process_external_id)
    return queryset.filter(Q(owner_process__external_id=process_external_id) | Exists(mentioned))


def triple_detail_list(*, tenant: Tenant) -> QuerySet[Triple]:
    return (
        triple_list(tenant=tenant)
        .select_related("first_process")
        .prefetch_related(_mentions_prefetch(Provenance.objects.all()))
    )


def triple_contributed_by(queryset: QuerySet[Triple], *, process_external_id: str) -> QuerySet[Triple]:
    mentioned = Provenance.objects.filter(triple=OuterRef("pk"), process__external_id=process_external_id)
    return queryset.filter(Exists(mentioned))


def _count_of(model, field: str) -> Subquery:
    """A correlated COUNT subquery: counts per row without multiplying joined rows."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0)


def entity_list_with_counts(*, tenant: Tenant) -> QuerySet[Entity]:
    return entity_list(tenant=tenant).annotate(
        memory_count=_count_of(Memory, "entity"),
        triple_count=_count_of(Triple, "entity"),
        session_count=_count_of(Session, "entity"),
        exchange_count=_count_of(Exchange, "entity"),
    )


def process_list(*, tenant: Tenant) -> QuerySet[Process]:
    return Process.objects.filter(tenant=tenant).annotate(
        attribute_count=_count_of(Memory, "owner_process"),
        session_count=_count_of(Session, "process"),
        exchange_count=_count_of(Exchange, "process"),
    )


def process_get(*, tenant: Tenant, external_id: str) -> Process | None:
    return process_list(tenant=tenant).filter(external_id=external_id).first()


def session_list(*, tenant: Tenant) -> QuerySet[Session]:
    return (
        Session.objects.filter(entity__tenant=tenant)
        .select_related("entity", "process")
        .annotate(conversation_pk=F("conversation__id"), message_count=F("conversation__message_count"))
        .order_by("-started_at", "-pk")
    )


def conversation_list(*, tenant: Tenant) -> QuerySet[Conversation]:
    return (
        Conversation.objects.filter(entity__tenant=tenant)
        .select_related("entity", "process", "session")
        .order_by("-last_message_at", "-pk")
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return Message.objects.filter(conversation=conversation).order_by("position")
