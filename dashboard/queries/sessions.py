"""Session History reads: an entity's sessions, and one session turn by turn with what each call
was given (the recall event) and what it produced (the provenance its augmentation wrote)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from dashboard.queries.entities import count_of
from memory.models import AugmentationJob, Entity, Exchange, Message, Provenance, RecallHit, Session


def entity_sessions(entity: Entity, *, process: str = "") -> QuerySet[Session]:
    sessions = Session.objects.filter(entity=entity).select_related("process")
    if process:
        sessions = sessions.filter(process__external_id=process)
    return sessions.annotate(exchange_total=count_of(Exchange, fk="session")).order_by("-last_activity_at", "-pk")


def session_turns(session: Session) -> QuerySet[Exchange]:
    """The session's exchanges in order, each with its messages, recall event (+hits) and job."""
    return (
        Exchange.objects.filter(session=session)
        .select_related("recall_event", "augmentation_job", "process")
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.order_by("position")),
            Prefetch("recall_event__hits", queryset=RecallHit.objects.order_by("rank")),
        )
        .order_by("occurred_at", "pk")
    )


def turn_position(session: Session, exchange_id: int) -> int | None:
    """How many of the session's turns come before this exchange (None: not one of its turns)."""
    target = Exchange.objects.filter(session=session, pk=exchange_id).values("occurred_at", "pk").first()
    if target is None:
        return None
    return Exchange.objects.filter(
        Q(occurred_at__lt=target["occurred_at"]) | Q(occurred_at=target["occurred_at"], pk__lt=target["pk"]),
        session=session,
    ).count()


def produced_by(exchanges: list[Exchange]) -> dict[int, list[Provenance]]:
    """What each exchange's augmentation wrote: provenance rows keyed by exchange id."""
    rows = (
        Provenance.objects.filter(exchange_id__in=[exchange.pk for exchange in exchanges])
        .select_related("memory", "triple")
        .order_by("pk")
    )
    by_exchange: dict[int, list[Provenance]] = defaultdict(list)
    for row in rows:
        by_exchange[row.exchange_id].append(row)
    return by_exchange


def session_version(session: Session) -> str:
    """Changes when a turn is added or a turn's augmentation finishes: the open page then refreshes."""
    summary = Exchange.objects.filter(session=session).aggregate(
        turns=Count("id"),
        last=Max("id"),
        finished=Count(
            "augmentation_job",
            filter=Q(augmentation_job__status__in=[AugmentationJob.Status.DONE, AugmentationJob.Status.FAILED]),
        ),
    )
    return f"{summary['turns']}-{summary['last'] or 0}-{summary['finished']}"
