"""Re-extracting an entity with the current extractor: what an improved extractor would have stored.

What augmentation made is replaced; what people made or changed is kept. A memory is the
machine's when every mention of it came from augmentation and no person (dashboard user or API
key) ever edited it; those memories and the entity's augmentation-made triples are deleted, then
every exchange of the entity is augmented again, oldest first, in batches. Contents that people
edited away or deleted stay away: a memory re-extracted with such a content is removed again.
Running it twice gives the same memory. The run is recorded in the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from memory.models import AuditEntry, AugmentationJob, Entity, Episode, Memory, Provenance, Triple
from memory.services.audit import Actor
from memory.services.augmentation import jobs_backfill
from memory.services.embedding_store import bump_memory_version

Progress = Callable[[int, int], None]
Status = AugmentationJob.Status


@dataclass(frozen=True)
class ReextractResult:
    entity_id: str
    memories_removed: int
    triples_removed: int
    jobs: int
    jobs_failed: int
    memories_after: int
    triples_after: int
    suppressed: int  # re-extracted contents that people had edited away or deleted


def _human_changes(entity: Entity):
    return AuditEntry.objects.filter(entity=entity, object_type="memory").filter(
        Q(actor_user__isnull=False) | Q(actor_api_key__isnull=False)
    )


def _machine_made(entity: Entity):
    """The entity's memories that only augmentation mentioned and nobody created or edited."""
    not_augmentation = Provenance.objects.filter(memory=OuterRef("pk")).exclude(source="augmentation")
    touched = [AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE]
    edited = _human_changes(entity).filter(object_id=OuterRef("pk"), action__in=touched)
    return Memory.objects.filter(entity=entity).exclude(Exists(not_augmentation)).exclude(Exists(edited))


def _suppressed_contents(entity: Entity) -> set[str]:
    """Contents people removed: the 'before' of their edits and deletions."""
    changes = _human_changes(entity).filter(action__in=[AuditEntry.Action.UPDATE, AuditEntry.Action.DELETE])
    pairs = list(changes.values_list("before", "after"))
    removed = {(before or {}).get("content") for before, _ in pairs}
    kept = {(after or {}).get("content") for _, after in pairs}
    return {content for content in removed - kept if content}


def entity_reextract(
    *, entity: Entity, actor: Actor, progress: Progress | None = None, batch_size: int | None = None
) -> ReextractResult:
    """Replace what augmentation stored for ``entity`` by what the current extractor stores."""
    with transaction.atomic():
        machine = _machine_made(entity)
        memories_removed = machine.count()
        machine.delete()
        triples = Triple.objects.filter(entity=entity).exclude(
            Exists(Provenance.objects.filter(triple=OuterRef("pk")).exclude(source="augmentation"))
        )
        triples_removed = triples.count()
        triples.delete()
        Episode.objects.filter(entity=entity).delete()  # rebuilt by the same augmentation
        job_ids = list(
            AugmentationJob.objects.filter(entity=entity)
            .order_by("exchange__occurred_at", "exchange_id")
            .values_list("pk", flat=True)
        )
        AugmentationJob.objects.filter(pk__in=job_ids).update(
            status=Status.QUEUED, attempts=0, error="", result={}, started_at=None, finished_at=None
        )
        bump_memory_version(entity.pk)
    failed = 0
    step = batch_size or 64
    for start in range(0, len(job_ids), step):
        outcomes = jobs_backfill(job_ids[start : start + step], batch_size=batch_size)
        failed += sum(1 for outcome in outcomes.values() if outcome.status == Status.FAILED)
        if progress is not None:
            progress(min(start + step, len(job_ids)), len(job_ids))
    suppressed = _remove_suppressed(entity)
    result = ReextractResult(
        entity_id=entity.external_id,
        memories_removed=memories_removed,
        triples_removed=triples_removed,
        jobs=len(job_ids),
        jobs_failed=failed,
        memories_after=Memory.objects.filter(entity=entity).count(),
        triples_after=Triple.objects.filter(entity=entity).count(),
        suppressed=suppressed,
    )
    _audit(entity, actor, result)
    return result


def _remove_suppressed(entity: Entity) -> int:
    contents = _suppressed_contents(entity)
    if not contents:
        return 0
    with transaction.atomic():
        _, per_model = _machine_made(entity).filter(content__in=contents).delete()
        removed = per_model.get(Memory._meta.label, 0)
        if removed:
            bump_memory_version(entity.pk)
    return removed


def _audit(entity: Entity, actor: Actor, result: ReextractResult) -> None:
    AuditEntry.objects.create(
        tenant_id=entity.tenant_id,
        entity=entity,
        actor_user_id=actor.user_id,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:200],
        action=AuditEntry.Action.UPDATE,
        object_type="entity",
        object_id=entity.pk,
        before={"memories_removed": result.memories_removed, "triples_removed": result.triples_removed},
        after={
            "reextracted_jobs": result.jobs,
            "jobs_failed": result.jobs_failed,
            "memories": result.memories_after,
            "triples": result.triples_after,
        },
    )
